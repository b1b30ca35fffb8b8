//! Black-box tests of `DELETE /cart/items/{product_id}` against a real embedded DynamoDB engine.

use delete_cart_item::handle;
use devkit::apigw::Call;
use devkit::{TestApp, add_to_cart, request_from_event_json_with, seed_product, spawn_app};
use lambda_http::{Body, Response};

async fn delete(t: &TestApp, sub: &str, product: &str) -> Response<Body> {
    let call = Call::new(
        "DELETE",
        "/cart/items/{product_id}",
        &format!("/cart/items/{product}"),
    )
    .header("authorization", &t.user_bearer(sub));
    handle(&t.app, &t.auth, call.request().expect("valid event"))
        .await
        .expect("infallible")
}

async fn cart_ids(t: &TestApp, sub: &str) -> Vec<String> {
    t.app
        .store()
        .get_cart(&devkit::user(sub))
        .await
        .expect("cart")
        .lines
        .into_keys()
        .map(|id| id.to_string())
        .collect()
}

#[tokio::test]
async fn the_sample_event_removes_the_line() {
    let t = spawn_app().await;
    seed_product(&t.app, "espresso-cup", "Espresso cup", 900, 10).await;
    seed_product(&t.app, "grinder", "Grinder", 3450, 10).await;
    add_to_cart(&t.app, "alice", "espresso-cup", 2).await;
    add_to_cart(&t.app, "alice", "grinder", 1).await;
    let event = include_str!("../../../events/delete-cart-item.json");
    let response = handle(
        &t.app,
        &t.auth,
        request_from_event_json_with(event, &t.user_bearer("alice")),
    )
    .await
    .expect("infallible");
    assert_eq!(response.status(), 204);
    assert_eq!(cart_ids(&t, "alice").await, ["grinder"]);
}

#[tokio::test]
async fn removing_what_is_not_there_is_204() {
    let t = spawn_app().await;
    assert_eq!(
        delete(&t, "alice", "p1").await.status(),
        204,
        "no cart at all"
    );
    seed_product(&t.app, "p1", "P", 1, 1).await;
    add_to_cart(&t.app, "alice", "p1", 1).await;
    assert_eq!(delete(&t, "alice", "p1").await.status(), 204);
    assert_eq!(delete(&t, "alice", "p1").await.status(), 204, "again");
    assert!(cart_ids(&t, "alice").await.is_empty());
}

#[tokio::test]
async fn only_the_callers_cart_changes() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 1, 1).await;
    add_to_cart(&t.app, "alice", "p1", 1).await;
    assert_eq!(delete(&t, "bob", "p1").await.status(), 204);
    assert_eq!(cart_ids(&t, "alice").await, ["p1"]);
    let anonymous = Call::new("DELETE", "/cart/items/{product_id}", "/cart/items/p1");
    assert_eq!(
        handle(&t.app, &t.auth, anonymous.request().expect("event"))
            .await
            .expect("infallible")
            .status(),
        401
    );
    assert_eq!(delete(&t, "alice", "a.b").await.status(), 400);
}

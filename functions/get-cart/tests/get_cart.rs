//! Black-box tests of `GET /cart` against a real embedded DynamoDB engine.

use devkit::apigw::Call;
use devkit::{
    TestApp, add_to_cart, body_json, header, request_from_event_json_with, seed_product, spawn_app,
};
use get_cart::handle;
use lambda_http::{Body, Response};
use serde_json::json;

async fn get(t: &TestApp, bearer: Option<&str>) -> Response<Body> {
    let mut call = Call::new("GET", "/cart", "/cart");
    if let Some(bearer) = bearer {
        call = call.header("authorization", bearer);
    }
    handle(&t.app, &t.auth, call.request().expect("valid event"))
        .await
        .expect("infallible")
}

#[tokio::test]
async fn the_sample_event_shows_the_priced_cart() {
    let t = spawn_app().await;
    seed_product(&t.app, "espresso-cup", "Espresso cup", 900, 10).await;
    add_to_cart(&t.app, "alice", "espresso-cup", 2).await;
    let event = include_str!("../../../events/get-cart.json");
    let response = handle(
        &t.app,
        &t.auth,
        request_from_event_json_with(event, &t.user_bearer("alice")),
    )
    .await
    .expect("infallible");
    assert_eq!(response.status(), 200);
    assert_eq!(
        body_json(&response),
        json!({"items": [{"product_id": "espresso-cup", "name": "Espresso cup", "quantity": 2, "unit_price": 900, "line_total": 1800, "available": true}],
               "total": 1800, "currency": "EUR"})
    );
}

#[tokio::test]
async fn an_empty_cart_and_another_users_cart() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 100, 10).await;
    add_to_cart(&t.app, "alice", "p1", 1).await;
    let bob = body_json(&get(&t, Some(&t.user_bearer("bob"))).await);
    assert_eq!(
        bob,
        json!({"items": [], "total": 0, "currency": "EUR"}),
        "bob never sees alice's cart"
    );
}

#[tokio::test]
async fn prices_are_current_and_deleted_products_are_unavailable() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P1", 100, 10).await;
    seed_product(&t.app, "p2", "P2", 250, 10).await;
    add_to_cart(&t.app, "alice", "p1", 3).await;
    add_to_cart(&t.app, "alice", "p2", 1).await;
    seed_product(&t.app, "p1", "P1", 120, 10).await; // a new price
    {
        let id = shared::domain::ProductId::parse("p2").expect("id");
        t.app
            .store()
            .delete_product(&id, &shared::domain::Precondition::None)
            .await
            .expect("deleted");
    }
    let body = body_json(&get(&t, Some(&t.user_bearer("alice"))).await);
    assert_eq!(body["items"][0]["unit_price"], 120);
    assert_eq!(body["items"][0]["line_total"], 360);
    assert_eq!(
        body["items"][1],
        json!({"product_id": "p2", "name": null, "quantity": 1, "unit_price": null, "line_total": null, "available": false})
    );
    assert_eq!(body["total"], 360);
}

#[tokio::test]
async fn a_token_is_required() {
    let t = spawn_app().await;
    let response = get(&t, None).await;
    assert_eq!(response.status(), 401);
    assert_eq!(header(&response, "www-authenticate"), "Bearer");
    assert_eq!(get(&t, Some("Bearer nope")).await.status(), 401);
}

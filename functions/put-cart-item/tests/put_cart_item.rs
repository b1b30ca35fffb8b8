//! Black-box tests of `PUT /cart/items/{product_id}` against a real embedded DynamoDB engine.

use devkit::apigw::Call;
use devkit::{TestApp, body_json, request_from_event_json_with, seed_product, spawn_app};
use lambda_http::{Body, Response};
use put_cart_item::handle;
use serde_json::{Value, json};
use shared::domain::MAX_CART_LINES;

async fn put(t: &TestApp, sub: &str, product: &str, body: Value) -> Response<Body> {
    let call = Call::new(
        "PUT",
        "/cart/items/{product_id}",
        &format!("/cart/items/{product}"),
    )
    .header("authorization", &t.user_bearer(sub))
    .json(&body);
    handle(&t.app, &t.auth, call.request().expect("valid event"))
        .await
        .expect("infallible")
}

async fn lines(t: &TestApp, sub: &str) -> usize {
    t.app
        .store()
        .get_cart(&devkit::user(sub))
        .await
        .expect("cart")
        .lines
        .len()
}

#[tokio::test]
async fn the_sample_event_adds_a_line_and_answers_with_the_cart() {
    let t = spawn_app().await;
    seed_product(&t.app, "espresso-cup", "Espresso cup", 900, 10).await;
    let event = include_str!("../../../events/put-cart-item.json");
    let response = handle(
        &t.app,
        &t.auth,
        request_from_event_json_with(event, &t.user_bearer("alice")),
    )
    .await
    .expect("infallible");
    assert_eq!(response.status(), 200);
    let body = body_json(&response);
    assert_eq!(body["items"][0]["quantity"], 2);
    assert_eq!(body["total"], 1800);
}

#[tokio::test]
async fn setting_a_line_again_replaces_its_quantity() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 100, 10).await;
    seed_product(&t.app, "p2", "Q", 10, 10).await;
    put(&t, "alice", "p1", json!({"quantity": 2})).await;
    put(&t, "alice", "p2", json!({"quantity": 1})).await;
    let body = body_json(&put(&t, "alice", "p1", json!({"quantity": 5})).await);
    assert_eq!(body["items"][0]["quantity"], 5);
    assert_eq!(body["total"], 510);
}

#[tokio::test]
async fn unknown_products_are_404_and_change_nothing() {
    let t = spawn_app().await;
    let response = put(&t, "alice", "ghost", json!({"quantity": 1})).await;
    assert_eq!(response.status(), 404);
    assert_eq!(lines(&t, "alice").await, 0);
    assert_eq!(
        put(&t, "alice", "a.b", json!({"quantity": 1}))
            .await
            .status(),
        400
    );
}

#[tokio::test]
async fn quantities_outside_1_to_99_are_422() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 100, 10).await;
    for body in [
        json!({"quantity": 0}),
        json!({"quantity": 100}),
        json!({"quantity": "2"}),
        json!({"quantity": 1.5}),
        json!({}),
        json!({"quantity": 1, "gift": true}),
    ] {
        let response = put(&t, "alice", "p1", body.clone()).await;
        assert_eq!(response.status(), 422, "{body}");
        assert!(body_json(&response)["errors"][0]["field"].is_string());
    }
    assert_eq!(lines(&t, "alice").await, 0);
}

#[tokio::test]
async fn the_cart_is_capped_even_under_concurrent_adds() {
    let t = std::sync::Arc::new(spawn_app().await);
    let extra = 12;
    for i in 0..MAX_CART_LINES + extra {
        seed_product(&t.app, &format!("p{i:02}"), "P", 1, 1).await;
    }
    let mut tasks = Vec::new();
    for i in 0..MAX_CART_LINES + extra {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            put(&t, "alice", &format!("p{i:02}"), json!({"quantity": 1}))
                .await
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("ran"));
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        MAX_CART_LINES,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 422).count(),
        extra,
        "{statuses:?}"
    );
    assert_eq!(lines(&t, "alice").await, MAX_CART_LINES);
    // A full cart still takes a new quantity for a product it holds.
    let held = t
        .app
        .store()
        .get_cart(&devkit::user("alice"))
        .await
        .expect("cart")
        .lines
        .keys()
        .next()
        .cloned()
        .expect("a line");
    assert_eq!(
        put(&t, "alice", held.as_str(), json!({"quantity": 7}))
            .await
            .status(),
        200
    );
    let full = body_json(&put(&t, "alice", "zzz-not-held", json!({"quantity": 1})).await);
    assert_eq!(
        full["status"], 404,
        "unknown products are 404 before the cap is considered"
    );
}

#[tokio::test]
async fn a_token_is_required_and_carts_are_per_user() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 100, 10).await;
    let call = Call::new("PUT", "/cart/items/{product_id}", "/cart/items/p1")
        .json(&json!({"quantity": 1}));
    assert_eq!(
        handle(&t.app, &t.auth, call.request().expect("event"))
            .await
            .expect("infallible")
            .status(),
        401
    );
    put(&t, "alice", "p1", json!({"quantity": 3})).await;
    assert_eq!(lines(&t, "bob").await, 0);
}

#[tokio::test]
async fn a_quantity_written_with_a_point_is_an_integer() {
    // JSON (and JSON Schema's `integer`) does not tell 27.0 from 27: both are accepted.
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 100, 10).await;
    let response = put(&t, "alice", "p1", json!({"quantity": 27.0})).await;
    assert_eq!(response.status(), 200);
    let body = body_json(&response);
    assert_eq!(body["items"][0]["quantity"], 27);
    assert_eq!(body["total"], 2700);
}

/// DynamoDB refuses a write on an item that a transaction in flight holds (a checkout of the same
/// cart in another tab) with `TransactionConflictException`, which the SDK does not retry: the
/// store sends it again, and the shopper never sees it.
#[tokio::test]
async fn a_write_refused_for_a_transaction_in_flight_is_retried_and_lands() {
    let t = spawn_app().await;
    seed_product(&t.app, "mug", "Mug", 1200, 10).await;
    let proxy = t.proxy().await;
    proxy.fail_next("UpdateItem", 2, 400, "TransactionConflictException");
    let call = Call::new("PUT", "/cart/items/{product_id}", "/cart/items/mug")
        .header("authorization", &t.user_bearer("two-tabs"))
        .json(&json!({"quantity": 2}));
    let response = handle(
        &t.through(&proxy),
        &t.auth,
        call.request().expect("valid event"),
    )
    .await
    .expect("infallible");
    assert_eq!(response.status(), 200, "{:?}", body_json(&response));
    assert_eq!(
        proxy.sent("UpdateItem").len(),
        3,
        "two refusals, then the write"
    );
    assert_eq!(lines(&t, "two-tabs").await, 1);
}

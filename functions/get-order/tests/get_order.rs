//! Black-box tests of `GET /orders/{id}` against a real embedded DynamoDB engine.

use devkit::apigw::Call;
use devkit::{
    TestApp, body_json, place_order, request_from_event_json_with, seed_product, spawn_app,
};
use get_order::handle;
use lambda_http::{Body, Response};

/// The order id in `events/get-order.json`, replaced by a real one before the event is fed.
const EVENT_ORDER_ID: &str = "0196b3a2-6c1e-7d4f-8a2b-3c4d5e6f7a8b";

async fn get(t: &TestApp, sub: &str, id: &str) -> Response<Body> {
    let call = Call::new("GET", "/orders/{id}", &format!("/orders/{id}"))
        .header("authorization", &t.user_bearer(sub));
    handle(&t.app, &t.auth, call.request().expect("valid event"))
        .await
        .expect("infallible")
}

#[tokio::test]
async fn the_sample_event_returns_the_callers_order() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 100, 10).await;
    let order = place_order(&t.app, "alice", &[("p1", 2)]).await;
    let event =
        include_str!("../../../events/get-order.json").replace(EVENT_ORDER_ID, order.id.as_str());
    let response = handle(
        &t.app,
        &t.auth,
        request_from_event_json_with(&event, &t.user_bearer("alice")),
    )
    .await
    .expect("infallible");
    assert_eq!(response.status(), 200);
    assert_eq!(
        body_json(&response),
        serde_json::to_value(&order).expect("JSON")
    );
}

#[tokio::test]
async fn someone_elses_or_an_unknown_order_is_404() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 100, 10).await;
    let order = place_order(&t.app, "alice", &[("p1", 1)]).await;
    assert_eq!(get(&t, "bob", order.id.as_str()).await.status(), 404);
    assert_eq!(
        get(&t, "alice", &shared::domain::OrderId::new().to_string())
            .await
            .status(),
        404
    );
    assert_eq!(get(&t, "alice", "not-an-id").await.status(), 400);
    let anonymous = Call::new("GET", "/orders/{id}", &format!("/orders/{}", order.id));
    assert_eq!(
        handle(&t.app, &t.auth, anonymous.request().expect("event"))
            .await
            .expect("infallible")
            .status(),
        401
    );
}

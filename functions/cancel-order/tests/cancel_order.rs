//! Black-box tests of `POST /orders/{id}/cancel` against a real embedded DynamoDB engine.

use cancel_order::handle;
use devkit::apigw::Call;
use devkit::{
    TestApp, body_json, place_order, request_from_event_json_with, seed_product, spawn_app,
    stock_of,
};
use lambda_http::{Body, Response};
use std::sync::Arc;

/// The order id in `events/cancel-order.json`, replaced by a real one before the event is fed.
const EVENT_ORDER_ID: &str = "0196b3a2-6c1e-7d4f-8a2b-3c4d5e6f7a8b";

async fn cancel(t: &TestApp, sub: &str, id: &str) -> Response<Body> {
    let call = Call::new(
        "POST",
        "/orders/{id}/cancel",
        &format!("/orders/{id}/cancel"),
    )
    .header("authorization", &t.user_bearer(sub));
    handle(&t.app, &t.auth, call.request().expect("valid event"))
        .await
        .expect("infallible")
}

#[tokio::test]
async fn the_sample_event_cancels_and_restores_stock_once() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 100, 10).await;
    seed_product(&t.app, "p2", "Q", 100, 10).await;
    let order = place_order(&t.app, "alice", &[("p1", 3), ("p2", 1)]).await;
    assert_eq!(stock_of(&t.app, "p1").await, Some(7));
    let event = include_str!("../../../events/cancel-order.json")
        .replace(EVENT_ORDER_ID, order.id.as_str());
    let bearer = t.user_bearer("alice");
    let response = handle(
        &t.app,
        &t.auth,
        request_from_event_json_with(&event, &bearer),
    )
    .await
    .expect("infallible");
    assert_eq!(response.status(), 200);
    let body = body_json(&response);
    assert_eq!(body["status"], "cancelled");
    assert!(body["cancelled_at"].is_string());
    assert_eq!(
        (stock_of(&t.app, "p1").await, stock_of(&t.app, "p2").await),
        (Some(10), Some(10))
    );
    // Again: the same cancelled order, and no second restock.
    let again = handle(
        &t.app,
        &t.auth,
        request_from_event_json_with(&event, &bearer),
    )
    .await
    .expect("infallible");
    assert_eq!(again.status(), 200);
    assert_eq!(body_json(&again), body);
    assert_eq!(stock_of(&t.app, "p1").await, Some(10));
}

#[tokio::test]
async fn concurrent_cancels_restore_stock_once() {
    let t = Arc::new(spawn_app().await);
    seed_product(&t.app, "p1", "P", 100, 10).await;
    let order = place_order(&t.app, "alice", &[("p1", 4)]).await;
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let (t, id) = (t.clone(), order.id.clone());
        tasks.push(tokio::spawn(async move {
            cancel(&t, "alice", id.as_str()).await.status().as_u16()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("ran"), 200);
    }
    assert_eq!(stock_of(&t.app, "p1").await, Some(10));
}

#[tokio::test]
async fn a_deleted_product_gets_no_stock_back_and_does_not_block_the_cancel() {
    let t = spawn_app().await;
    seed_product(&t.app, "kept", "Kept", 100, 10).await;
    seed_product(&t.app, "gone", "Gone", 100, 10).await;
    let order = place_order(&t.app, "alice", &[("kept", 2), ("gone", 2)]).await;
    {
        let id = shared::domain::ProductId::parse("gone").expect("id");
        t.app
            .store()
            .delete_product(&id, &shared::domain::Precondition::None)
            .await
            .expect("deleted");
    }
    assert_eq!(cancel(&t, "alice", order.id.as_str()).await.status(), 200);
    assert_eq!(stock_of(&t.app, "kept").await, Some(10));
    assert_eq!(
        stock_of(&t.app, "gone").await,
        None,
        "not resurrected by the restock"
    );
}

#[tokio::test]
async fn nobody_else_can_cancel_an_order() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 100, 10).await;
    let order = place_order(&t.app, "alice", &[("p1", 1)]).await;
    assert_eq!(cancel(&t, "bob", order.id.as_str()).await.status(), 404);
    assert_eq!(stock_of(&t.app, "p1").await, Some(9));
    assert_eq!(cancel(&t, "alice", "nope").await.status(), 400);
    let anonymous = Call::new(
        "POST",
        "/orders/{id}/cancel",
        &format!("/orders/{}/cancel", order.id),
    );
    assert_eq!(
        handle(&t.app, &t.auth, anonymous.request().expect("event"))
            .await
            .expect("infallible")
            .status(),
        401
    );
}

/// The SDK's retry after an attempt timeout can meet the first attempt still running:
/// `TransactionInProgressException` is 409 with Retry-After (not a 500), nothing is lost, and the
/// retry cancels once.
#[tokio::test]
async fn a_cancel_still_in_progress_is_409_and_the_retry_cancels_once() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 100, 10).await;
    let order = place_order(&t.app, "alice", &[("p1", 3)]).await;
    let proxy = t.proxy().await;
    proxy.transaction_in_progress();
    let app = t.through(&proxy);
    let call = Call::new(
        "POST",
        "/orders/{id}/cancel",
        &format!("/orders/{}/cancel", order.id),
    )
    .header("authorization", &t.user_bearer("alice"));
    let response = handle(&app, &t.auth, call.request().expect("valid event"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), 409);
    assert_eq!(devkit::header(&response, "retry-after"), "1");
    assert_eq!(
        devkit::header(&response, "content-type"),
        "application/problem+json"
    );
    assert_eq!(
        body_json(&response)["type"],
        "tag:stateless-shop,2026:problem:request-in-progress"
    );
    assert_eq!(stock_of(&t.app, "p1").await, Some(7), "nothing changed yet");
    let retry = cancel(&t, "alice", order.id.as_str()).await;
    assert_eq!(retry.status(), 200);
    assert_eq!(body_json(&retry)["status"], "cancelled");
    assert_eq!(cancel(&t, "alice", order.id.as_str()).await.status(), 200);
    assert_eq!(stock_of(&t.app, "p1").await, Some(10), "restored once");
}

/// The open-order count of `sub`, read straight from the engine (0 when there is no counter).
async fn open_orders(t: &devkit::TestApp, sub: &str) -> i64 {
    let item = devkit::engine_call(
        &t.engine,
        "GetItem",
        serde_json::json!({
            "TableName": t.app.store().table(),
            "Key": {"PK": {"S": format!("USER#{sub}")}, "SK": {"S": "OPEN_ORDERS"}},
            "ConsistentRead": true,
        }),
    )
    .await;
    item["Item"]["open_orders"]["N"]
        .as_str()
        .map_or(0, |n| n.parse().expect("a number"))
}

/// A cancel gives back the place its order took in the open-order count, once; an order placed
/// before the counter existed took none and gives none back, so the cap never loosens.
#[tokio::test]
async fn cancels_give_back_exactly_the_places_their_orders_took() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 100, 10).await;
    let old = place_order(&t.app, "alice", &[("p1", 1)]).await;
    let new = place_order(&t.app, "alice", &[("p1", 1)]).await;
    assert_eq!(open_orders(&t, "alice").await, 2);
    // Make `old` an order from before the counter: it never took a place.
    devkit::engine_call(
        &t.engine,
        "UpdateItem",
        serde_json::json!({
            "TableName": t.app.store().table(),
            "Key": {"PK": {"S": "USER#alice"}, "SK": {"S": format!("ORDER#{}", old.id)}},
            "UpdateExpression": "REMOVE counts_open",
        }),
    )
    .await;
    let response = cancel(&t, "alice", old.id.as_str()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(body_json(&response)["status"], "cancelled");
    assert_eq!(stock_of(&t.app, "p1").await, Some(9), "its stock came back");
    assert_eq!(open_orders(&t, "alice").await, 2, "it gave back no place");
    assert_eq!(cancel(&t, "alice", old.id.as_str()).await.status(), 200);
    assert_eq!(open_orders(&t, "alice").await, 2);
    assert_eq!(cancel(&t, "alice", new.id.as_str()).await.status(), 200);
    assert_eq!(
        open_orders(&t, "alice").await,
        1,
        "the new one gave its place back"
    );
    assert_eq!(cancel(&t, "alice", new.id.as_str()).await.status(), 200);
    assert_eq!(open_orders(&t, "alice").await, 1, "once");
    assert_eq!(stock_of(&t.app, "p1").await, Some(10));
}

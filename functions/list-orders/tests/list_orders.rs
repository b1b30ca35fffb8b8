//! Black-box tests of `GET /orders` against a real embedded DynamoDB engine.

use devkit::apigw::Call;
use devkit::{
    TestApp, body_json, place_order, request_from_event_json_with, seed_product, spawn_app,
};
use lambda_http::{Body, Response};
use list_orders::handle;
use serde_json::Value;

async fn list(t: &TestApp, sub: &str, target: &str) -> Response<Body> {
    let call = Call::new("GET", "/orders", target).header("authorization", &t.user_bearer(sub));
    handle(&t.app, &t.auth, call.request().expect("valid event"))
        .await
        .expect("infallible")
}

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| o["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn the_sample_event_lists_newest_first() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 100, 100).await;
    let first = place_order(&t.app, "alice", &[("p1", 1)]).await;
    let second = place_order(&t.app, "alice", &[("p1", 2)]).await;
    let event = include_str!("../../../events/list-orders.json");
    let response = handle(
        &t.app,
        &t.auth,
        request_from_event_json_with(event, &t.user_bearer("alice")),
    )
    .await
    .expect("infallible");
    assert_eq!(response.status(), 200);
    let body = body_json(&response);
    assert_eq!(ids(&body), [second.id.clone(), first.id.clone()]);
    assert_eq!(body["items"][0]["total"], 200);
    assert_eq!(body["next_cursor"], Value::Null);
}

#[tokio::test]
async fn paging_returns_each_order_once_and_cursors_are_per_user() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 100, 100).await;
    let mut placed = Vec::new();
    for _ in 0..5 {
        placed.push(place_order(&t.app, "alice", &[("p1", 1)]).await.id);
    }
    placed.reverse();
    let mut seen = Vec::new();
    let mut target = "/orders?limit=2".to_owned();
    let mut alices_cursor = None;
    loop {
        let body = body_json(&list(&t, "alice", &target).await);
        seen.extend(ids(&body));
        match body["next_cursor"].as_str() {
            Some(cursor) => {
                alices_cursor.get_or_insert_with(|| cursor.to_owned());
                target = format!("/orders?limit=2&cursor={cursor}");
            }
            None => break,
        }
    }
    assert_eq!(seen, placed);
    // Bob sees none of alice's orders, and her cursor does not open for him.
    assert_eq!(
        ids(&body_json(&list(&t, "bob", "/orders").await)),
        Vec::<String>::new()
    );
    let cursor = alices_cursor.expect("a cursor");
    let response = list(&t, "bob", &format!("/orders?cursor={cursor}")).await;
    assert_eq!(response.status(), 400);
    assert_eq!(body_json(&response)["errors"][0]["field"], "cursor");
}

#[tokio::test]
async fn bad_limits_and_missing_tokens() {
    let t = spawn_app().await;
    for target in [
        "/orders?limit=0",
        "/orders?limit=101",
        "/orders?limit=x",
        "/orders?cursor=junk",
    ] {
        assert_eq!(list(&t, "alice", target).await.status(), 400, "{target}");
    }
    let anonymous = Call::new("GET", "/orders", "/orders");
    assert_eq!(
        handle(&t.app, &t.auth, anonymous.request().expect("event"))
            .await
            .expect("infallible")
            .status(),
        401
    );
}

/// A 201 followed at once by a list must show the new order: the query reads consistently (the
/// engine is always consistent, so the test checks what is asked of DynamoDB).
#[tokio::test]
async fn the_list_reads_its_own_writes() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 100, 100).await;
    let placed = place_order(&t.app, "alice", &[("p1", 1)]).await;
    let proxy = t.proxy().await;
    let app = t.through(&proxy);
    let call =
        Call::new("GET", "/orders", "/orders").header("authorization", &t.user_bearer("alice"));
    let response = handle(&app, &t.auth, call.request().expect("valid event"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), 200);
    assert_eq!(ids(&body_json(&response)), [placed.id]);
    let queries = proxy.sent("Query");
    assert_eq!(queries.len(), 1);
    assert_eq!(queries[0]["ConsistentRead"], true, "{}", queries[0]);
}

//! Black-box tests of `PUT /products/{id}` against a real embedded DynamoDB engine.

use devkit::apigw::Call;
use devkit::{TestApp, body_json, header, request_from_event_json_with, seed_product, spawn_app};
use lambda_http::{Body, Response};
use put_product::handle;
use serde_json::{Value, json};
use shared::domain::ProductId;

const ROUTE: &str = "/products/{id}";

fn valid() -> Value {
    json!({"name": "Mug", "description": "A mug", "price": 1290, "stock": 5})
}

/// Sends `call` as an admin.
async fn put(t: &TestApp, call: Call) -> Response<Body> {
    let bearer = t.admin_bearer("admin-1");
    send(t, call.header("authorization", &bearer)).await
}

/// Sends `call` with whatever credentials it carries.
async fn send(t: &TestApp, call: Call) -> Response<Body> {
    handle(&t.app, &t.auth, call.request().expect("valid event"))
        .await
        .expect("infallible")
}

fn call(id: &str) -> Call {
    Call::new("PUT", ROUTE, &format!("/products/{id}"))
}

async fn stored(t: &TestApp, id: &str) -> Option<shared::domain::Product> {
    let id = ProductId::parse(id).expect("valid id");
    t.app
        .store()
        .get_product(&id)
        .await
        .expect("engine answers")
        .map(|v| v.value)
}

#[tokio::test]
async fn the_sample_event_creates_then_refuses_to_overwrite() {
    let t = spawn_app().await;
    let event = include_str!("../../../events/put-product.json");
    let response = handle(
        &t.app,
        &t.auth,
        request_from_event_json_with(event, &t.admin_bearer("admin-1")),
    )
    .await
    .expect("infallible");
    assert_eq!(response.status(), 201);
    assert_eq!(header(&response, "location"), "/products/travel-mug");
    assert!(header(&response, "etag").starts_with('"'));
    let body = body_json(&response);
    assert_eq!(
        (
            body["id"].as_str(),
            body["version"].as_u64(),
            body["currency"].as_str()
        ),
        (Some("travel-mug"), Some(1), Some("EUR"))
    );
    // The event carries If-None-Match: *, so sending it again must not overwrite.
    let again = handle(
        &t.app,
        &t.auth,
        request_from_event_json_with(event, &t.admin_bearer("admin-1")),
    )
    .await
    .expect("infallible");
    assert_eq!(again.status(), 412);
}

#[tokio::test]
async fn create_is_201_and_replace_is_200_with_a_new_version_and_etag() {
    let t = spawn_app().await;
    let created = put(&t, call("p1").json(&valid())).await;
    assert_eq!(created.status(), 201);
    let mut changed = valid();
    changed["price"] = json!(1500);
    let replaced = put(
        &t,
        call("p1")
            .header("If-Match", header(&created, "etag"))
            .json(&changed),
    )
    .await;
    assert_eq!(replaced.status(), 200);
    assert!(replaced.headers().get("location").is_none());
    assert_ne!(header(&created, "etag"), header(&replaced, "etag"));
    let body = body_json(&replaced);
    assert_eq!(
        (body["version"].as_u64(), body["price"].as_i64()),
        (Some(2), Some(1500))
    );
    assert_eq!(stored(&t, "p1").await.map(|p| p.price.minor()), Some(1500));
}

/// An admin reads stock 10, 3 units sell, the admin saves a name change with stock 10: without a
/// precondition that save would bring the 3 sold units back.
#[tokio::test]
async fn overwriting_without_if_match_is_428_and_writes_nothing() {
    let t = spawn_app().await;
    let read = seed_product(&t.app, "p1", "Old", 500, 10).await;
    devkit::place_order(&t.app, "alice", &[("p1", 3)]).await;
    let form = json!({"name": "New name", "description": "A mug", "price": 500, "stock": 10});
    let response = put(&t, call("p1").json(&form)).await;
    assert_eq!(response.status(), 428);
    assert_eq!(
        header(&response, "content-type"),
        "application/problem+json"
    );
    let problem = body_json(&response);
    assert_eq!(
        problem["type"],
        "tag:stateless-shop,2026:problem:precondition-required"
    );
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("If-Match")),
        "{problem}"
    );
    let now = stored(&t, "p1").await.expect("still there");
    assert_eq!(
        (now.name.as_str(), now.stock),
        ("Old", 7),
        "nothing written"
    );
    // With the tag of that stale read the save is refused too (412), not applied.
    let stale = put(
        &t,
        call("p1")
            .header("If-Match", &read.etag.header_value())
            .json(&form),
    )
    .await;
    assert_eq!(stale.status(), 412);
    assert_eq!(stored(&t, "p1").await.map(|p| p.stock), Some(7));
    // Creation needs no precondition.
    let created = put(&t, call("p2").json(&valid())).await;
    assert_eq!(created.status(), 201);
}

#[tokio::test]
async fn if_match_guards_against_lost_updates() {
    let t = spawn_app().await;
    let current = seed_product(&t.app, "p1", "Old", 1, 1).await;
    let stale = put(
        &t,
        call("p1").header("If-Match", "\"stale\"").json(&valid()),
    )
    .await;
    assert_eq!(stale.status(), 412);
    assert_eq!(header(&stale, "content-type"), "application/problem+json");
    assert_eq!(
        stored(&t, "p1").await.map(|p| p.name),
        Some("Old".to_owned()),
        "nothing written"
    );
    let fresh = put(
        &t,
        call("p1")
            .header("If-Match", &current.etag.header_value())
            .json(&valid()),
    )
    .await;
    assert_eq!(fresh.status(), 200);
    // The tag just used is now stale itself.
    let replay = put(
        &t,
        call("p1")
            .header("If-Match", &current.etag.header_value())
            .json(&valid()),
    )
    .await;
    assert_eq!(replay.status(), 412);
    // If-Match on a product that does not exist never creates it.
    let absent = put(&t, call("ghost").header("If-Match", "*").json(&valid())).await;
    assert_eq!(absent.status(), 412);
    assert_eq!(stored(&t, "ghost").await, None);
}

#[tokio::test]
async fn if_none_match_star_creates_only() {
    let t = spawn_app().await;
    assert_eq!(
        put(&t, call("p1").header("If-None-Match", "*").json(&valid()))
            .await
            .status(),
        201
    );
    assert_eq!(
        put(&t, call("p1").header("If-None-Match", "*").json(&valid()))
            .await
            .status(),
        412
    );
}

#[tokio::test]
async fn if_none_match_with_only_weak_tags_replaces_and_never_errs() {
    // Weak tags never match strongly, so `If-None-Match: W/"x"` holds for any product: the
    // write proceeds. The condition it builds must still be one DynamoDB accepts.
    let t = spawn_app().await;
    assert_eq!(put(&t, call("p1").json(&valid())).await.status(), 201);
    let replaced = put(
        &t,
        call("p1")
            .header("If-None-Match", "W/\"V@d(<'c\"")
            .json(&valid()),
    )
    .await;
    assert_eq!(replaced.status(), 200);
}

#[tokio::test]
async fn concurrent_writers_with_one_etag_have_exactly_one_winner() {
    let t = std::sync::Arc::new(spawn_app().await);
    let tag = seed_product(&t.app, "p1", "P", 1, 1)
        .await
        .etag
        .header_value();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (t, tag) = (t.clone(), tag.clone());
        tasks.push(tokio::spawn(async move {
            let body =
                json!({"name": format!("writer {i}"), "description": "", "price": i, "stock": 1});
            put(&t, call("p1").header("If-Match", &tag).json(&body))
                .await
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("task ran"));
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        15,
        "{statuses:?}"
    );
    assert_eq!(stored(&t, "p1").await.map(|p| p.version), Some(2));
}

#[tokio::test]
async fn invalid_products_are_422_naming_each_field() {
    let t = spawn_app().await;
    let cases = [
        (
            json!({"name": "", "description": "", "price": 1, "stock": 1}),
            "name",
        ),
        (
            json!({"name": "n", "description": "", "price": -1, "stock": 1}),
            "price",
        ),
        (
            json!({"name": "n", "description": "", "price": 1, "stock": 1_000_000_001}),
            "stock",
        ),
        (
            json!({"name": "n", "description": "", "price": 9.5, "stock": 1}),
            "price",
        ),
        (
            json!({"name": "n", "description": "", "price": "1", "stock": 1}),
            "price",
        ),
        (json!({"name": "n", "price": 1, "stock": 1}), "description"),
        (
            json!({"name": "n", "description": "", "price": 1, "stock": 1, "version": 9}),
            "version",
        ),
        (
            json!({"name": "n", "description": "", "price": 1, "stock": 1, "colour": "red"}),
            "colour",
        ),
        (
            json!({"name": 7, "description": "", "price": 1, "stock": 1}),
            "name",
        ),
        (json!(["not", "an", "object"]), ""),
    ];
    for (body, field) in cases {
        let response = put(&t, call("p1").json(&body)).await;
        assert_eq!(response.status(), 422, "{body}");
        assert_eq!(body_json(&response)["errors"][0]["field"], field, "{body}");
    }
    assert_eq!(stored(&t, "p1").await, None, "nothing was written");
}

#[tokio::test]
async fn bad_bodies_ids_and_headers_are_4xx() {
    let t = spawn_app().await;
    let text = call("p1")
        .header("content-type", "text/plain")
        .body(valid().to_string());
    assert_eq!(put(&t, text).await.status(), 415);
    assert_eq!(
        put(&t, call("p1").body(valid().to_string())).await.status(),
        415,
        "no content type"
    );
    let broken = call("p1")
        .header("content-type", "application/json")
        .body("{\"name\":");
    assert_eq!(put(&t, broken).await.status(), 400);
    let binary = call("p1")
        .header("content-type", "application/json")
        .body(vec![0xff, 0xfe]);
    assert_eq!(put(&t, binary).await.status(), 400);
    let mut huge = valid();
    huge["description"] = json!("x".repeat(70 * 1024));
    assert_eq!(put(&t, call("p1").json(&huge)).await.status(), 413);
    assert_eq!(
        put(&t, call(&"x".repeat(65)).json(&valid())).await.status(),
        400
    );
    assert_eq!(
        put(&t, call("p1").header("If-Match", "unquoted").json(&valid()))
            .await
            .status(),
        400
    );
    assert_eq!(stored(&t, "p1").await, None);
}

#[tokio::test]
async fn the_currency_comes_from_configuration() {
    let t = spawn_app().await;
    let usd = devkit::app_for(&t.engine, t.app.store().table(), &[("CURRENCY", "USD")])
        .await
        .expect("app");
    let bearer = t.admin_bearer("admin-1");
    let response = handle(
        &usd,
        &t.auth,
        call("p1")
            .header("authorization", &bearer)
            .json(&valid())
            .request()
            .expect("event"),
    )
    .await
    .expect("infallible");
    assert_eq!(body_json(&response)["currency"], "USD");
}

#[tokio::test]
async fn writes_need_an_admin_token() {
    let t = spawn_app().await;
    let missing = send(&t, call("p1").json(&valid())).await;
    assert_eq!(missing.status(), 401);
    assert_eq!(header(&missing, "www-authenticate"), "Bearer");
    assert_eq!(header(&missing, "content-type"), "application/problem+json");
    let garbage = send(
        &t,
        call("p1")
            .header("authorization", "Bearer not.a.token")
            .json(&valid()),
    )
    .await;
    assert_eq!(garbage.status(), 401);
    assert_eq!(
        header(&garbage, "www-authenticate"),
        r#"Bearer error="invalid_token""#
    );
    let user = send(
        &t,
        call("p1")
            .header("authorization", &t.user_bearer("alice"))
            .json(&valid()),
    )
    .await;
    assert_eq!(user.status(), 403);
    assert_eq!(
        stored(&t, "p1").await,
        None,
        "nothing written without an admin"
    );
    // Authentication comes before input validation: an anonymous caller learns nothing about ids.
    assert_eq!(
        send(&t, call(&"x".repeat(65)).json(&valid()))
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn whole_numbers_written_with_a_point_are_integers() {
    // JSON (and JSON Schema's `integer`) does not tell 900.0 from 900: both are accepted.
    let t = spawn_app().await;
    let body = json!({"name": "Mug", "description": "", "price": 900.0, "stock": 1e2});
    let response = put(&t, call("p1").json(&body)).await;
    assert_eq!(response.status(), 201);
    let product = body_json(&response);
    assert_eq!(
        (product["price"].as_i64(), product["stock"].as_i64()),
        (Some(900), Some(100))
    );
    let fraction = json!({"name": "Mug", "description": "", "price": 900.5, "stock": 1});
    assert_eq!(put(&t, call("p1").json(&fraction)).await.status(), 422);
}

#[tokio::test]
async fn if_match_with_only_weak_tags_never_holds() {
    // A weak tag never matches If-Match (strong comparison): 412 and nothing written; never a 500.
    let t = spawn_app().await;
    let current = seed_product(&t.app, "p1", "Old", 1, 1).await;
    let weak = format!("W/{}", current.etag.header_value());
    for id in ["p1", "ghost"] {
        let response = put(&t, call(id).header("If-Match", &weak).json(&valid())).await;
        assert_eq!(response.status(), 412, "{id}");
    }
    assert_eq!(
        stored(&t, "p1").await.map(|p| p.name),
        Some("Old".to_owned())
    );
    assert_eq!(stored(&t, "ghost").await, None);
}

/// An admin's restock with `If-Match: *` while a checkout's transaction holds the product item:
/// DynamoDB refuses the `UpdateItem` with `TransactionConflictException`; the store retries it.
#[tokio::test]
async fn a_restock_refused_for_a_transaction_in_flight_is_retried_and_lands() {
    let t = spawn_app().await;
    seed_product(&t.app, "mug", "Mug", 1200, 10).await;
    let proxy = t.proxy().await;
    proxy.fail_next("UpdateItem", 3, 400, "TransactionConflictException");
    let call = call("mug")
        .header("authorization", &t.admin_bearer("admin-1"))
        .header("if-match", "*")
        .json(&json!({"name": "Mug", "description": "A mug", "price": 1200, "stock": 500}));
    let response = handle(
        &t.through(&proxy),
        &t.auth,
        call.request().expect("valid event"),
    )
    .await
    .expect("infallible");
    assert_eq!(response.status(), 200, "{:?}", body_json(&response));
    assert_eq!(body_json(&response)["stock"], 500);
    assert_eq!(proxy.sent("UpdateItem").len(), 4);
}

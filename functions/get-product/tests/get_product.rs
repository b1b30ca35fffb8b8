//! Black-box tests of `GET /products/{id}` against a real embedded DynamoDB engine.

use devkit::apigw::Call;
use devkit::{body_json, header, request_from_event_json, seed_product, spawn_app};
use get_product::handle;
use lambda_http::{Body, Response};

const ROUTE: &str = "/products/{id}";

async fn get(t: &devkit::TestApp, call: Call) -> Response<Body> {
    handle(&t.app, call.request().expect("valid event"))
        .await
        .expect("infallible")
}

#[tokio::test]
async fn the_sample_event_returns_the_product_with_its_etag() {
    let t = spawn_app().await;
    let stored = seed_product(&t.app, "espresso-cup", "Espresso cup", 900, 12).await;
    let event = include_str!("../../../events/get-product.json");
    let response = handle(&t.app, request_from_event_json(event))
        .await
        .expect("infallible");
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "application/json");
    assert_eq!(header(&response, "etag"), stored.etag.header_value());
    let body = body_json(&response);
    assert_eq!(body["id"], "espresso-cup");
    assert_eq!(body["price"], 900);
    assert_eq!(body["currency"], "EUR");
    assert_eq!(body["stock"], 12);
    assert_eq!(body["stock_buckets"], 1);
    assert_eq!(body["version"], 1);
    let keys: Vec<&String> = body.as_object().expect("an object").keys().collect();
    assert_eq!(keys.len(), 9, "exactly the documented fields: {keys:?}");
}

#[tokio::test]
async fn unknown_ids_are_404_problems() {
    let t = spawn_app().await;
    let response = get(&t, Call::new("GET", ROUTE, "/products/nope")).await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        header(&response, "content-type"),
        "application/problem+json"
    );
    assert_eq!(body_json(&response)["status"], 404);
}

#[tokio::test]
async fn malformed_ids_are_400() {
    let t = spawn_app().await;
    for id in ["a.b", "a%20b", &"x".repeat(65)] {
        let response = get(&t, Call::new("GET", ROUTE, &format!("/products/{id}"))).await;
        assert_eq!(response.status(), 400, "{id}");
        assert_eq!(body_json(&response)["errors"][0]["field"], "id");
    }
}

#[tokio::test]
async fn if_none_match_answers_304_only_for_the_current_tag() {
    let t = spawn_app().await;
    let stored = seed_product(&t.app, "p1", "P", 1, 1).await;
    let tag = stored.etag.header_value();
    let response = get(
        &t,
        Call::new("GET", ROUTE, "/products/p1").header("If-None-Match", &tag),
    )
    .await;
    assert_eq!(response.status(), 304);
    assert_eq!(header(&response, "etag"), tag);
    assert!(response.body().is_empty());
    let weak = format!("W/{tag}");
    assert_eq!(
        get(
            &t,
            Call::new("GET", ROUTE, "/products/p1").header("If-None-Match", &weak)
        )
        .await
        .status(),
        304
    );
    let stale = get(
        &t,
        Call::new("GET", ROUTE, "/products/p1").header("If-None-Match", "\"old\""),
    )
    .await;
    assert_eq!(stale.status(), 200);
}

#[tokio::test]
async fn a_write_changes_the_etag_and_the_version() {
    let t = spawn_app().await;
    let first = seed_product(&t.app, "p1", "P", 1, 1).await;
    let second = seed_product(&t.app, "p1", "P", 2, 1).await;
    assert_ne!(first.etag, second.etag);
    let response = get(&t, Call::new("GET", ROUTE, "/products/p1")).await;
    assert_eq!(header(&response, "etag"), second.etag.header_value());
    assert_eq!(body_json(&response)["version"], 2);
    assert_eq!(body_json(&response)["price"], 2);
}

#[tokio::test]
async fn other_methods_are_405_with_allow() {
    let t = spawn_app().await;
    let response = get(&t, Call::new("POST", ROUTE, "/products/p1")).await;
    assert_eq!(response.status(), 405);
    assert_eq!(header(&response, "allow"), "GET");
}

#[tokio::test]
async fn an_entity_tag_may_contain_a_comma() {
    // etagc includes ',' (RFC 9110 §8.8.3): the list is read tag by tag, so "a,b" is one tag.
    let t = spawn_app().await;
    let stored = seed_product(&t.app, "p1", "P", 1, 1).await;
    let other = get(
        &t,
        Call::new("GET", ROUTE, "/products/p1").header("If-None-Match", r#""a,b""#),
    )
    .await;
    assert_eq!(other.status(), 200);
    let listed = format!(r#""a,b", {}"#, stored.etag.header_value());
    let current = get(
        &t,
        Call::new("GET", ROUTE, "/products/p1").header("If-None-Match", &listed),
    )
    .await;
    assert_eq!(current.status(), 304);
}

/// Every DynamoDB call takes 5 s; the invocation has 1 s: 503 problem+json with Retry-After,
/// before Lambda's deadline.
#[tokio::test]
async fn a_slow_engine_gets_a_503_before_the_deadline() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P1", 100, 5).await;
    let proxy = t.proxy().await;
    proxy.delay_all(std::time::Duration::from_secs(5));
    let app = t.through(&proxy);
    let deadline = std::time::Duration::from_secs(1);
    let request = Call::new("GET", ROUTE, "/products/p1")
        .request()
        .expect("valid event");
    let handler = |req| handle(&app, req);
    let (response, took) =
        devkit::observe_with_deadline(t.app.config(), request, deadline, &handler).await;
    devkit::assert_answered_503_before(&response, took, deadline);
    // Without the delay the same request within the same deadline answers normally.
    proxy.delay_all(std::time::Duration::ZERO);
    let request = Call::new("GET", ROUTE, "/products/p1")
        .request()
        .expect("valid event");
    let (response, _) =
        devkit::observe_with_deadline(t.app.config(), request, deadline, &handler).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_product_may_be_cached_briefly_and_revalidated_by_its_tag() {
    let t = spawn_app().await;
    let stored = seed_product(&t.app, "p1", "P", 1, 1).await;
    let fresh = get(&t, Call::new("GET", ROUTE, "/products/p1")).await;
    assert_eq!(
        header(&fresh, "cache-control"),
        "public, max-age=5, must-revalidate"
    );
    let tag = stored.etag.header_value();
    let revalidated = get(
        &t,
        Call::new("GET", ROUTE, "/products/p1").header("If-None-Match", &tag),
    )
    .await;
    assert_eq!(revalidated.status(), 304);
    assert_eq!(
        header(&revalidated, "cache-control"),
        "public, max-age=5, must-revalidate"
    );
    let missing = get(&t, Call::new("GET", ROUTE, "/products/nope")).await;
    assert!(
        missing.headers().get("cache-control").is_none(),
        "a 404 is not cached: the product may be created any moment"
    );
}

/// Splits `id`'s stock (`stock` units over `buckets` items) straight through the store.
async fn split(app: &shared::App, id: &str, stock: i64, buckets: u32) {
    let draft = shared::domain::ProductDraft::parse(&serde_json::json!({
        "name": "Hot", "description": "", "price": 500, "stock": stock, "stock_buckets": buckets,
    }))
    .expect("a valid draft");
    app.store()
        .put_product(
            &shared::domain::ProductId::parse(id).expect("a valid id"),
            &draft,
            app.config().currency(),
            &shared::domain::Precondition::None,
        )
        .await
        .expect("the split is written");
}

/// A product is two reads (its item, then its buckets). A re-split that commits between them
/// must not yield a stock and a tag that never existed: the read sees it and reads again.
#[tokio::test]
async fn a_re_split_between_the_two_reads_is_never_mixed_into_the_answer() {
    let t = spawn_app().await;
    split(&t.app, "hot", 80, 8).await;
    let proxy = t.proxy().await;
    let through = t.through(&proxy);

    // GET /products/{id}: parked between the product's read and its buckets' read.
    let parked = proxy.hold_next("BatchGetItem");
    let reader = {
        let through = through.clone();
        tokio::spawn(async move {
            handle(
                &through,
                Call::new("GET", ROUTE, "/products/hot")
                    .request()
                    .expect("valid"),
            )
            .await
            .expect("infallible")
        })
    };
    parked.reached().await;
    split(&t.app, "hot", 400, 4).await;
    parked.release();
    let response = reader.await.expect("joined");
    let now = get(&t, Call::new("GET", ROUTE, "/products/hot")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        body_json(&response)["stock"],
        400,
        "one split's stock, the new one"
    );
    assert_eq!(body_json(&response)["stock_buckets"], 4);
    assert_eq!(header(&response, "etag"), header(&now, "etag"));

    // The listing (and the cart's view, which reads products the same way).
    let parked = proxy.hold_next("BatchGetItem");
    let lister = {
        let through = through.clone();
        tokio::spawn(async move { through.store().list_products(None, 10).await })
    };
    // The listing's first batch read is of the product items; the buckets' read comes next.
    parked.reached().await;
    let buckets_read = proxy.hold_next("BatchGetItem");
    parked.release();
    buckets_read.reached().await;
    split(&t.app, "hot", 90, 3).await;
    buckets_read.release();
    let page = lister.await.expect("joined").expect("listed");
    let hot = page
        .items
        .iter()
        .find(|p| p.value.id.as_str() == "hot")
        .expect("listed");
    assert_eq!(hot.value.stock, 90, "one split's stock, the new one");
    assert_eq!(hot.value.stock_buckets, 3);
}

/// Items that stay mixed (a bucket written by a release before layouts, after a rollback) are
/// not a re-split in flight: the product is still served, its buckets summed as before, and not
/// refused forever.
#[tokio::test]
async fn items_that_stay_mixed_are_still_served() {
    let t = spawn_app().await;
    split(&t.app, "hot", 80, 8).await;
    // Bucket 1 as the release before layouts wrote it: no `layout` attribute.
    devkit::engine_call(
        &t.engine,
        "PutItem",
        serde_json::json!({
            "TableName": t.app.store().table(),
            "Item": {
                "PK": {"S": "PRODUCT#hot#1"}, "SK": {"S": "STOCK"}, "entity": {"S": "stock-bucket"},
                "stock": {"N": "15"}, "price": {"N": "500"}, "version": {"N": "2"},
                "etag": {"S": "old-release"}, "updated_at": {"S": "2026-12-01T00:00:00Z"},
            },
        }),
    )
    .await;
    let response = get(&t, Call::new("GET", ROUTE, "/products/hot")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        body_json(&response)["stock"],
        85,
        "what the items hold: 7 × 10 + 15"
    );
    // The next split write stamps every item again.
    split(&t.app, "hot", 40, 4).await;
    let response = get(&t, Call::new("GET", ROUTE, "/products/hot")).await;
    assert_eq!(body_json(&response)["stock"], 40);
}

//! Black-box tests of `GET /products` against a real embedded DynamoDB engine.

use devkit::apigw::Call;
use devkit::{body_json, request_from_event_json, seed_product, spawn_app};
use lambda_http::{Body, Response};
use list_products::{DEFAULT_LIMIT, MAX_LIMIT, handle};
use serde_json::Value;

async fn list(t: &devkit::TestApp, target: &str) -> Response<Body> {
    let call = Call::new("GET", "/products", target);
    handle(&t.app, call.request().expect("valid event"))
        .await
        .expect("infallible")
}

async fn seed(t: &devkit::TestApp, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let id = format!("p{i:03}");
        seed_product(&t.app, &id, &format!("Product {i}"), i as i64, 1).await;
        ids.push(id);
    }
    ids
}

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn the_sample_event_returns_a_first_page() {
    let t = spawn_app().await;
    seed(&t, 3).await;
    let event = include_str!("../../../events/list-products.json");
    let response = handle(&t.app, request_from_event_json(event))
        .await
        .expect("infallible");
    assert_eq!(response.status(), 200);
    let body = body_json(&response);
    assert_eq!(ids(&body), ["p000", "p001"], "the event asks for limit=2");
    assert!(body["next_cursor"].is_string());
}

#[tokio::test]
async fn paging_returns_every_product_exactly_once_in_id_order() {
    let t = spawn_app().await;
    let all = seed(&t, 23).await;
    for limit in [1, 7, 23, 100] {
        let mut seen = Vec::new();
        let mut target = format!("/products?limit={limit}");
        let mut pages = 0;
        loop {
            let body = body_json(&list(&t, &target).await);
            let page = ids(&body);
            assert!(page.len() <= limit);
            assert!(
                !page.is_empty(),
                "no page is empty (limit {limit}, after {} items)",
                seen.len()
            );
            seen.extend(page);
            pages += 1;
            match body["next_cursor"].as_str() {
                Some(cursor) => target = format!("/products?limit={limit}&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(seen, all, "limit {limit}");
        assert_eq!(pages, all.len().div_ceil(limit), "limit {limit}");
    }
}

#[tokio::test]
async fn the_default_page_is_twenty_and_an_empty_catalog_has_no_cursor() {
    let t = spawn_app().await;
    let body = body_json(&list(&t, "/products").await);
    assert_eq!(body, serde_json::json!({"items": [], "next_cursor": null}));
    seed(&t, DEFAULT_LIMIT + 1).await;
    let body = body_json(&list(&t, "/products").await);
    assert_eq!(ids(&body).len(), DEFAULT_LIMIT);
    assert!(body["next_cursor"].is_string());
}

#[tokio::test]
async fn bad_limits_are_400_naming_the_parameter() {
    let t = spawn_app().await;
    let too_many = format!("{}", MAX_LIMIT + 1);
    for limit in ["0", too_many.as_str(), "-1", "abc", "1.5", ""] {
        let response = list(&t, &format!("/products?limit={limit}")).await;
        assert_eq!(response.status(), 400, "limit={limit}");
        assert_eq!(body_json(&response)["errors"][0]["field"], "limit");
    }
    assert_eq!(list(&t, "/products?limit=1&limit=2").await.status(), 400);
    assert_eq!(
        list(&t, &format!("/products?limit={MAX_LIMIT}"))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn tampered_or_foreign_cursors_are_400() {
    let t = spawn_app().await;
    seed(&t, 3).await;
    let body = body_json(&list(&t, "/products?limit=1").await);
    let cursor = body["next_cursor"].as_str().expect("a cursor").to_owned();
    let mut flipped = cursor.clone().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).expect("ascii");
    // A cursor sealed under another key (another deployment's secret) is refused too.
    let other = devkit::app_for(
        &t.engine,
        t.app.store().table(),
        &[("CURSOR_SECRET", &"k".repeat(32))],
    )
    .await
    .expect("an app with another key");
    let foreign = other.config().cursor().seal("products", "p000");
    for bad in [
        flipped.as_str(),
        &cursor[..cursor.len() - 2],
        "",
        "not-a-cursor",
        "%%%",
        foreign.as_str(),
    ] {
        let response = list(&t, &format!("/products?cursor={bad}")).await;
        assert_eq!(response.status(), 400, "cursor={bad}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        assert_eq!(body_json(&response)["errors"][0]["field"], "cursor");
    }
}

#[tokio::test]
async fn a_page_shows_stock_as_of_its_read_and_revalidates_by_etag() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 100, 10).await;
    let first = list(&t, "/products").await;
    assert_eq!(
        first.headers()["cache-control"],
        "public, max-age=5, must-revalidate"
    );
    let tag = first.headers()["etag"].to_str().expect("ASCII").to_owned();
    assert_eq!(body_json(&first)["items"][0]["stock"], 10);

    // The current tag: 304, no body, the same tag and caching.
    let call = Call::new("GET", "/products", "/products").header("If-None-Match", &tag);
    let unchanged = handle(&t.app, call.request().expect("valid event"))
        .await
        .expect("infallible");
    assert_eq!(unchanged.status(), 304);
    assert_eq!(unchanged.headers()["etag"], tag.as_str());
    assert!(unchanged.headers().contains_key("cache-control"));
    let empty: &[u8] = unchanged.body().as_ref();
    assert!(empty.is_empty());

    // A sale changes the stock: the next page shows it at once (the index holds keys only, so
    // the products are read from the table), under a new tag.
    devkit::place_order(&t.app, "alice", &[("p1", 3)]).await;
    let call = Call::new("GET", "/products", "/products").header("If-None-Match", &tag);
    let changed = handle(&t.app, call.request().expect("valid event"))
        .await
        .expect("infallible");
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"], tag.as_str());
    assert_eq!(body_json(&changed)["items"][0]["stock"], 7);
}

//! DynamoDB's transaction conflicts, end to end over HTTP, with the isolation model in front of
//! the engine: a write to an item that a transaction in flight holds is retried until the item is
//! free, or answered 503 with `Retry-After` when it stays held; never a 500.

mod support;

use devkit::tokens::TokenSpec;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use support::bearer;

/// A fresh idempotency key.
fn key() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("conflict-test-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Starts a checkout of `bearer`'s cart in the background and returns once its transaction holds
/// its items (the isolation model's hold keeps them for a while).
async fn checkout_in_flight(
    api: &local::Running,
    http: &Client,
    bearer: &str,
) -> tokio::task::JoinHandle<StatusCode> {
    let isolation = api.isolation().expect("the model is on").clone();
    let before = isolation.counters().transactions;
    let (http, url, bearer) = (http.clone(), api.url.clone(), bearer.to_owned());
    let checkout = tokio::spawn(async move {
        http.post(format!("{url}/orders"))
            .header("authorization", bearer)
            .header("idempotency-key", key())
            .send()
            .await
            .expect("POST /orders")
            .status()
    });
    for _ in 0..5_000 {
        if isolation.counters().transactions > before && isolation.holding() > 0 {
            return checkout;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("the checkout's transaction never held its items");
}

async fn put_product(
    http: &Client,
    api: &local::Running,
    admin: &str,
    id: &str,
    stock: i64,
    if_match: Option<&str>,
) -> reqwest::Response {
    let mut put = http
        .put(format!("{}/products/{id}", api.url))
        .header("authorization", admin)
        .json(&json!({"name": "Mug", "description": "A mug", "price": 1200, "stock": stock}));
    if let Some(tag) = if_match {
        put = put.header("if-match", tag);
    }
    put.send().await.expect("PUT /products")
}

async fn fill_cart(
    http: &Client,
    api: &local::Running,
    shopper: &str,
    product: &str,
) -> reqwest::Response {
    http.put(format!("{}/cart/items/{product}", api.url))
        .header("authorization", shopper)
        .json(&json!({"quantity": 1}))
        .send()
        .await
        .expect("PUT /cart/items")
}

/// A local API with `hold`, the `products` created (50 each), and `shopper`'s cart holding one
/// mug: (api, client, admin's bearer, shopper's bearer).
async fn with_a_filled_cart(
    name: &str,
    hold: Duration,
    products: &[&str],
    shopper: &str,
) -> (local::Running, Client, String, String) {
    let api = support::start(name, hold).await;
    let http = Client::new();
    let admin = bearer(&api, &TokenSpec::admin("admin"));
    let shopper = bearer(&api, &TokenSpec::user(shopper));
    for id in products {
        assert_eq!(
            put_product(&http, &api, &admin, id, 50, None)
                .await
                .status(),
            StatusCode::CREATED
        );
    }
    assert_eq!(
        fill_cart(&http, &api, &shopper, "mug").await.status(),
        StatusCode::OK
    );
    (api, http, admin, shopper)
}

#[tokio::test]
async fn writes_that_meet_a_transaction_in_flight_wait_for_it_and_land() {
    let (api, http, admin, shopper) = with_a_filled_cart(
        "conflicts",
        Duration::from_millis(400),
        &["mug", "cup"],
        "two-tabs",
    )
    .await;

    // The second tab: the cart item is held by the checkout's transaction.
    let checkout = checkout_in_flight(&api, &http, &shopper).await;
    let conflicts = api.isolation().expect("on").counters().write_conflicts;
    let refill = fill_cart(&http, &api, &shopper, "cup").await;
    assert_eq!(refill.status(), StatusCode::OK, "{:?}", refill.text().await);
    assert!(
        api.isolation().expect("on").counters().write_conflicts > conflicts,
        "the cart write met the transaction (the test proves nothing otherwise)"
    );
    assert_eq!(checkout.await.expect("joined"), StatusCode::CREATED);

    // The admin's restock while a checkout holds the product item.
    assert_eq!(
        fill_cart(&http, &api, &shopper, "mug").await.status(),
        StatusCode::OK
    );
    let checkout = checkout_in_flight(&api, &http, &shopper).await;
    let conflicts = api.isolation().expect("on").counters().write_conflicts;
    let restock = put_product(&http, &api, &admin, "mug", 500, Some("*")).await;
    assert_eq!(
        restock.status(),
        StatusCode::OK,
        "{:?}",
        restock.text().await
    );
    assert!(api.isolation().expect("on").counters().write_conflicts > conflicts);
    assert_eq!(checkout.await.expect("joined"), StatusCode::CREATED);
    api.stop().await;
}

#[tokio::test]
async fn a_conflict_that_outlasts_the_retries_is_a_503_with_retry_after() {
    // Held for longer than the store keeps retrying a conflict.
    let hold = shared::store::retry::PATIENCE + Duration::from_secs(1);
    let (api, http, _, shopper) =
        with_a_filled_cart("conflicts-persist", hold, &["mug"], "stuck").await;
    // A transaction that holds the cart (a condition check on it), sent straight to the engine.
    let endpoint = api.engine_endpoint.clone();
    let holder = tokio::spawn(async move {
        devkit::endpoint_call(
            &endpoint,
            "TransactWriteItems",
            json!({"TransactItems": [{"ConditionCheck": {
                "TableName": support::TABLE,
                "Key": {"PK": {"S": "USER#stuck"}, "SK": {"S": "CART"}},
                "ConditionExpression": "attribute_exists(PK)",
            }}]}),
        )
        .await
    });
    assert!(api.isolation().expect("on").until_holding(1).await);
    let started = std::time::Instant::now();
    let refused = fill_cart(&http, &api, &shopper, "mug").await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = refused.json().await.expect("a problem document");
    assert_eq!(body["status"], 503);
    assert!(
        started.elapsed() < hold,
        "answered before the transaction let go"
    );
    holder.await.expect("the holding transaction committed");
    api.stop().await;
}

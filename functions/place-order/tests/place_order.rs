//! Black-box tests of `POST /orders` against a real embedded DynamoDB engine: every status, the
//! idempotency contract, contention, and user isolation.

use devkit::apigw::Call;
use devkit::{
    TestApp, add_to_cart, body_json, header, request_from_event_json_with, seed_product, spawn_app,
    stock_of,
};
use lambda_http::{Body, Response};
use place_order::handle;
use serde_json::{Value, json};

use std::sync::Arc;

fn call(t: &TestApp, sub: &str, key: Option<&str>) -> Call {
    let mut call =
        Call::new("POST", "/orders", "/orders").header("authorization", &t.user_bearer(sub));
    if let Some(key) = key {
        call = call.header("idempotency-key", key);
    }
    call
}

async fn send(t: &TestApp, call: Call) -> Response<Body> {
    handle(&t.app, &t.auth, call.request().expect("valid event"))
        .await
        .expect("infallible")
}

async fn order(t: &TestApp, sub: &str, key: &str) -> Response<Body> {
    send(t, call(t, sub, Some(key))).await
}

async fn order_count(t: &TestApp, sub: &str) -> usize {
    t.app
        .store()
        .list_orders(&devkit::user(sub), None, 100)
        .await
        .expect("orders")
        .items
        .len()
}

async fn cart_lines(t: &TestApp, sub: &str) -> usize {
    t.app
        .store()
        .get_cart(&devkit::user(sub))
        .await
        .expect("cart")
        .lines
        .len()
}

#[tokio::test]
async fn the_sample_event_places_the_order_once() {
    let t = spawn_app().await;
    seed_product(&t.app, "espresso-cup", "Espresso cup", 900, 10).await;
    add_to_cart(&t.app, "alice", "espresso-cup", 2).await;
    let event = include_str!("../../../events/place-order.json");
    let bearer = t.user_bearer("alice");
    let response = handle(
        &t.app,
        &t.auth,
        request_from_event_json_with(event, &bearer),
    )
    .await
    .expect("infallible");
    assert_eq!(response.status(), 201);
    let body = body_json(&response);
    let id = body["id"].as_str().expect("an id").to_owned();
    assert_eq!(header(&response, "location"), format!("/orders/{id}"));
    assert_eq!(body["status"], "placed");
    assert_eq!(body["total"], 1800);
    assert_eq!(body["currency"], "EUR");
    assert_eq!(
        body["items"],
        json!([{"product_id": "espresso-cup", "name": "Espresso cup", "quantity": 2, "unit_price": 900, "line_total": 1800}])
    );
    assert!(body["created_at"].is_string());
    assert_eq!(stock_of(&t.app, "espresso-cup").await, Some(8));
    assert_eq!(cart_lines(&t, "alice").await, 0, "the cart is emptied");

    // The same event again: the original response, and nothing else happens.
    let again = handle(
        &t.app,
        &t.auth,
        request_from_event_json_with(event, &bearer),
    )
    .await
    .expect("infallible");
    assert_eq!(again.status(), 201);
    assert_eq!(body_json(&again), body);
    assert_eq!(header(&again, "location"), format!("/orders/{id}"));
    assert_eq!(header(&again, "idempotent-replayed"), "true");
    assert_eq!(stock_of(&t.app, "espresso-cup").await, Some(8));
    assert_eq!(order_count(&t, "alice").await, 1);
}

#[tokio::test]
async fn the_idempotency_key_is_required_and_checked() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 100, 10).await;
    add_to_cart(&t.app, "alice", "p1", 1).await;
    for bad in [
        None,
        Some(""),
        Some("has space"),
        Some("é"),
        Some(&"k".repeat(256) as &str),
    ] {
        let mut c = Call::new("POST", "/orders", "/orders")
            .header("authorization", &t.user_bearer("alice"));
        if let Some(key) = bad {
            c = c.header("idempotency-key", key);
        }
        let response = send(&t, c).await;
        assert_eq!(response.status(), 400, "{bad:?}");
        assert_eq!(
            body_json(&response)["errors"][0]["field"],
            "Idempotency-Key"
        );
    }
    // API Gateway joins a repeated header with commas, so `k1` twice arrives as the one key
    // "k1,k1": consistent across retries, which is all idempotency needs.
    assert_eq!(order_count(&t, "alice").await, 0);
}

#[tokio::test]
async fn an_empty_cart_is_422_and_a_token_is_required() {
    let t = spawn_app().await;
    let response = order(&t, "alice", "k1").await;
    assert_eq!(response.status(), 422);
    assert_eq!(
        body_json(&response)["type"],
        "tag:stateless-shop,2026:problem:cart-empty"
    );
    let anonymous = Call::new("POST", "/orders", "/orders").header("idempotency-key", "k1");
    assert_eq!(send(&t, anonymous).await.status(), 401);
}

#[tokio::test]
async fn insufficient_stock_is_409_naming_the_products_and_changes_nothing() {
    let t = spawn_app().await;
    seed_product(&t.app, "plenty", "Plenty", 100, 50).await;
    seed_product(&t.app, "scarce", "Scarce", 100, 1).await;
    seed_product(&t.app, "gone", "Gone", 100, 5).await;
    add_to_cart(&t.app, "alice", "plenty", 2).await;
    add_to_cart(&t.app, "alice", "scarce", 3).await;
    add_to_cart(&t.app, "alice", "gone", 1).await;
    {
        let id = shared::domain::ProductId::parse("gone").expect("id");
        t.app
            .store()
            .delete_product(&id, &shared::domain::Precondition::None)
            .await
            .expect("deleted");
    }
    let response = order(&t, "alice", "k1").await;
    assert_eq!(response.status(), 409);
    let body = body_json(&response);
    assert_eq!(
        body["type"],
        "tag:stateless-shop,2026:problem:insufficient-stock"
    );
    let products: Vec<Value> = body["products"].as_array().expect("products").clone();
    assert_eq!(products.len(), 2, "{body}");
    assert!(products.contains(&json!({"product_id": "scarce", "problem": "insufficient-stock", "requested": 3, "available": 1})));
    assert!(products.contains(
        &json!({"product_id": "gone", "problem": "unavailable", "requested": 1, "available": 0})
    ));
    assert_eq!(stock_of(&t.app, "plenty").await, Some(50));
    assert_eq!(stock_of(&t.app, "scarce").await, Some(1));
    assert_eq!(cart_lines(&t, "alice").await, 3);
    assert_eq!(order_count(&t, "alice").await, 0);

    // The failed attempt left nothing behind: once the cart is fixed, the same key works.
    for p in ["scarce", "gone"] {
        let id = shared::domain::ProductId::parse(p).expect("id");
        t.app
            .store()
            .remove_cart_line(&devkit::user("alice"), &id)
            .await
            .expect("removed");
    }
    assert_eq!(order(&t, "alice", "k1").await.status(), 201);
}

#[tokio::test]
async fn expected_total_guards_against_price_changes() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 500, 10).await;
    add_to_cart(&t.app, "alice", "p1", 2).await;
    let stale = send(
        &t,
        call(&t, "alice", Some("k1")).json(&json!({"expected_total": 900})),
    )
    .await;
    assert_eq!(stale.status(), 409);
    let body = body_json(&stale);
    assert_eq!(
        body["type"],
        "tag:stateless-shop,2026:problem:total-changed"
    );
    assert_eq!(body["total"], 1000);
    assert_eq!(stock_of(&t.app, "p1").await, Some(10));
    let current = send(
        &t,
        call(&t, "alice", Some("k1")).json(&json!({"expected_total": 1000})),
    )
    .await;
    assert_eq!(
        current.status(),
        201,
        "the failed attempt did not use up the key"
    );
    let bad = send(
        &t,
        call(&t, "alice", Some("k2")).json(&json!({"expected_total": "1000"})),
    )
    .await;
    assert_eq!(bad.status(), 422);
}

#[tokio::test]
async fn one_key_with_a_different_request_is_422() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 500, 10).await;
    add_to_cart(&t.app, "alice", "p1", 1).await;
    assert_eq!(
        send(
            &t,
            call(&t, "alice", Some("k1")).json(&json!({"expected_total": 500}))
        )
        .await
        .status(),
        201
    );
    let other = send(
        &t,
        call(&t, "alice", Some("k1")).json(&json!({"expected_total": 999})),
    )
    .await;
    assert_eq!(other.status(), 422);
    assert_eq!(
        body_json(&other)["type"],
        "tag:stateless-shop,2026:problem:idempotency-key-reused"
    );
    // The same meaning in other bytes is the same request.
    let same = send(
        &t,
        call(&t, "alice", Some("k1"))
            .header("content-type", "application/json")
            .body("{ \"expected_total\" : 500 }"),
    )
    .await;
    assert_eq!(same.status(), 201);
    assert_eq!(order_count(&t, "alice").await, 1);
}

#[tokio::test]
async fn keys_belong_to_their_user() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 500, 10).await;
    add_to_cart(&t.app, "alice", "p1", 1).await;
    let alices = order(&t, "alice", "shared-key").await;
    assert_eq!(alices.status(), 201);
    // Bob sends the same key: he gets his own outcome (his cart is empty), never alice's order.
    let bobs = order(&t, "bob", "shared-key").await;
    assert_eq!(bobs.status(), 422);
    assert_ne!(body_json(&bobs).get("id"), body_json(&alices).get("id"));
    add_to_cart(&t.app, "bob", "p1", 2).await;
    let bobs = order(&t, "bob", "shared-key").await;
    assert_eq!(bobs.status(), 201);
    assert_ne!(body_json(&bobs)["id"], body_json(&alices)["id"]);
    assert_eq!(
        (order_count(&t, "alice").await, order_count(&t, "bob").await),
        (1, 1)
    );
}

#[tokio::test]
async fn fifty_buyers_of_ten_items_make_exactly_ten_orders() {
    let t = Arc::new(spawn_app().await);
    seed_product(&t.app, "hot", "Hot item", 100, 10).await;
    for i in 0..50 {
        add_to_cart(&t.app, &format!("buyer-{i}"), "hot", 1).await;
    }
    let mut tasks = Vec::new();
    for i in 0..50 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            order(&t, &format!("buyer-{i}"), &format!("key-{i}"))
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
        statuses.iter().filter(|s| **s == 201).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        40,
        "{statuses:?}"
    );
    assert_eq!(stock_of(&t.app, "hot").await, Some(0));
    let mut orders = 0;
    for i in 0..50 {
        orders += order_count(&t, &format!("buyer-{i}")).await;
    }
    assert_eq!(orders, 10);
}

#[tokio::test]
async fn twenty_concurrent_retries_of_one_key_make_one_order() {
    let t = Arc::new(spawn_app().await);
    seed_product(&t.app, "p1", "P", 700, 100).await;
    add_to_cart(&t.app, "alice", "p1", 3).await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            let response = order(&t, "alice", "retry-me").await;
            let status = response.status().as_u16();
            (
                status,
                if status == 201 {
                    Some(body_json(&response))
                } else {
                    None
                },
                header(&response, "retry-after").to_owned(),
            )
        }));
    }
    let mut bodies = Vec::new();
    for task in tasks {
        let (status, body, retry_after) = task.await.expect("ran");
        match status {
            201 => bodies.push(body.expect("a body")),
            409 => assert_eq!(
                retry_after, "1",
                "an in-flight duplicate says when to retry"
            ),
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(!bodies.is_empty());
    assert!(
        bodies.iter().all(|b| *b == bodies[0]),
        "every 201 is the original response"
    );
    assert_eq!(order_count(&t, "alice").await, 1);
    assert_eq!(stock_of(&t.app, "p1").await, Some(97));
}

#[tokio::test]
async fn the_transaction_refuses_stale_prices_and_a_changed_cart() {
    // What the handler relies on when a write lands between its read and its commit.
    use shared::domain::{
        IdempotencyKey, LineReason, LineRejection, Order, OrderId, OrderLine, OrderStatus,
        ProductId, Quantity,
    };
    use shared::store::{CheckoutCommit, CommitOutcome};
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 500, 10).await;
    add_to_cart(&t.app, "alice", "p1", 1).await;
    let user = devkit::user("alice");
    let key = IdempotencyKey::parse("k1").expect("key");
    let (cart, _) = t
        .app
        .store()
        .checkout_state(&user, &key)
        .await
        .expect("state");
    let p1 = ProductId::parse("p1").expect("id");
    let one = Quantity::new(1).expect("quantity");
    let order_at = |price: i64| {
        let price = shared::domain::Money::from_minor(price).expect("a price");
        Order {
            id: OrderId::new(),
            items: vec![OrderLine {
                product_id: p1.clone(),
                name: "P".into(),
                quantity: one,
                unit_price: price,
                line_total: price,
            }],
            total: price,
            currency: shared::domain::Currency::default(),
            status: OrderStatus::Placed,
            created_at: shared::domain::Timestamp::now(),
            cancelled_at: None,
        }
    };
    let one_bucket = std::collections::HashMap::new();
    let stale_price = order_at(400);
    let plan = CheckoutCommit {
        user: &user,
        key: &key,
        cart_version: cart.version,
        order: &stale_price,
        buckets: &one_bucket,
        fingerprint: "f",
        max_open_orders: 10,
    };
    assert_eq!(
        t.app.store().commit_checkout(&plan).await.expect("answers"),
        CommitOutcome::LinesRejected(vec![LineRejection {
            product_id: p1.clone(),
            requested: one,
            reason: LineReason::PriceChanged {
                price: shared::domain::Money::from_minor(500).expect("a price")
            }
        }])
    );
    let current = order_at(500);
    let stale_cart = CheckoutCommit {
        user: &user,
        key: &key,
        cart_version: cart.version + 1,
        order: &current,
        buckets: &one_bucket,
        fingerprint: "f",
        max_open_orders: 10,
    };
    assert_eq!(
        t.app
            .store()
            .commit_checkout(&stale_cart)
            .await
            .expect("answers"),
        CommitOutcome::CartChanged
    );
    assert_eq!(stock_of(&t.app, "p1").await, Some(10), "nothing changed");
    let good = CheckoutCommit {
        user: &user,
        key: &key,
        cart_version: cart.version,
        order: &current,
        buckets: &one_bucket,
        fingerprint: "f",
        max_open_orders: 10,
    };
    assert_eq!(
        t.app.store().commit_checkout(&good).await.expect("answers"),
        CommitOutcome::Committed
    );
    // Once recorded, the key cannot be committed again, even with a fresh cart and order.
    add_to_cart(&t.app, "alice", "p1", 1).await;
    let (cart, existing) = t
        .app
        .store()
        .checkout_state(&user, &key)
        .await
        .expect("state");
    assert!(existing.is_some());
    let again = order_at(500);
    let plan = CheckoutCommit {
        user: &user,
        key: &key,
        cart_version: cart.version,
        order: &again,
        buckets: &one_bucket,
        fingerprint: "f",
        max_open_orders: 10,
    };
    assert_eq!(
        t.app.store().commit_checkout(&plan).await.expect("answers"),
        CommitOutcome::KeyTaken
    );
    assert_eq!(stock_of(&t.app, "p1").await, Some(9));
}

#[tokio::test]
async fn a_checkout_changes_the_products_etag() {
    let t = spawn_app().await;
    let before = seed_product(&t.app, "p1", "P", 500, 10).await;
    add_to_cart(&t.app, "alice", "p1", 1).await;
    assert_eq!(order(&t, "alice", "k1").await.status(), 201);
    let after = t
        .app
        .store()
        .get_product(&shared::domain::ProductId::parse("p1").expect("id"))
        .await
        .expect("read")
        .expect("exists");
    assert_ne!(
        after.etag, before.etag,
        "stock changed, so the representation's tag changed"
    );
    assert_eq!(after.value.version, before.value.version + 1);
}

#[tokio::test]
async fn an_expected_total_written_with_a_point_is_the_same_request() {
    // JSON (and JSON Schema's `integer`) does not tell 1000.0 from 1000: the same total, the same
    // request for the key (a replay, not 422 idempotency-key-reused).
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 500, 10).await;
    add_to_cart(&t.app, "alice", "p1", 2).await;
    let placed = send(
        &t,
        call(&t, "alice", Some("k1")).json(&json!({"expected_total": 1000.0})),
    )
    .await;
    assert_eq!(placed.status(), 201);
    let replay = send(
        &t,
        call(&t, "alice", Some("k1")).json(&json!({"expected_total": 1000})),
    )
    .await;
    assert_eq!(replay.status(), 201);
    assert_eq!(header(&replay, "idempotent-replayed"), "true");
    assert_eq!(order_count(&t, "alice").await, 1);
}

// ----- integrity under a request held between its read and its write -----

/// Checkout A reads the cart and prices it, and its transaction is held in flight. Meanwhile the
/// same shopper checks out under another key (the cart is emptied) and adds another product.
/// Released, A's transaction must not commit against the new cart, which only looks like the one
/// it priced: no line ordered twice, no line lost.
#[tokio::test]
async fn a_held_checkout_cannot_commit_against_a_refilled_cart() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P1", 100, 10).await;
    seed_product(&t.app, "p2", "P2", 200, 10).await;
    add_to_cart(&t.app, "alice", "p1", 1).await;
    let proxy = t.proxy().await;
    let held = proxy.hold_next("TransactWriteItems");
    let slow_app = t.through(&proxy);
    let auth = Arc::clone(&t.auth);
    let request = call(&t, "alice", Some("K1"))
        .request()
        .expect("valid event");
    let checkout_a =
        tokio::spawn(async move { handle(&slow_app, &auth, request).await.expect("infallible") });
    held.reached().await;
    let b = order(&t, "alice", "K2").await;
    assert_eq!(b.status(), 201, "{}", body_json(&b));
    add_to_cart(&t.app, "alice", "p2", 1).await;
    held.release();
    let a = checkout_a.await.expect("checkout A ran");

    assert_eq!(stock_of(&t.app, "p1").await, Some(9), "p1 was added once");
    let orders = t
        .app
        .store()
        .list_orders(&devkit::user("alice"), None, 100)
        .await
        .expect("orders")
        .items;
    let ordered = |id: &str| -> u32 {
        orders
            .iter()
            .flat_map(|o| &o.items)
            .filter(|l| l.product_id == id)
            .map(|l| u32::from(l.quantity))
            .sum()
    };
    let in_cart = |id: &str, cart: &shared::domain::Cart| {
        cart.lines
            .iter()
            .find(|(pid, _)| *pid == id)
            .map_or(0, |(_, q)| u32::from(*q))
    };
    let cart = t
        .app
        .store()
        .get_cart(&devkit::user("alice"))
        .await
        .expect("cart");
    assert_eq!(ordered("p1"), 1, "p1 ordered exactly once");
    assert_eq!(
        ordered("p2") + in_cart("p2", &cart),
        1,
        "p2 is in an order or in the cart, not lost"
    );
    assert_eq!(
        stock_of(&t.app, "p2").await,
        Some(10 - i64::from(ordered("p2")))
    );
    // A saw that its cart was gone and priced the cart as it is now: it ordered p2 alone.
    assert_eq!(a.status(), 201, "{}", body_json(&a));
    assert_eq!(
        body_json(&a)["items"],
        json!([{"product_id": "p2", "name": "P2", "quantity": 1, "unit_price": 200, "line_total": 200}])
    );
}

/// DynamoDB refuses a `ClientRequestToken` it saw with other parameters in the last 10 minutes,
/// failed transaction or not (the proxy holds the engine to that rule). A first attempt under a
/// key that fails at the transaction must not block the retry with that key.
#[tokio::test]
async fn a_second_attempt_under_the_same_key_after_a_failed_one_places_the_order() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P1", 100, 2).await;
    add_to_cart(&t.app, "alice", "p1", 2).await;
    let proxy = t.proxy().await;
    proxy.remember_tokens();
    let app = t.through(&proxy);
    let send_via_proxy = |key: &str| {
        let request = call(&t, "alice", Some(key)).request().expect("valid event");
        let auth = Arc::clone(&t.auth);
        let app = app.clone();
        async move { handle(&app, &auth, request).await.expect("infallible") }
    };
    // The first attempt reads stock 2, then bob buys one before its transaction runs.
    let held = proxy.hold_next("TransactWriteItems");
    let first = tokio::spawn(send_via_proxy("K"));
    held.reached().await;
    devkit::place_order(&t.app, "bob", &[("p1", 1)]).await;
    held.release();
    let first = first.await.expect("ran");
    assert_eq!(first.status(), 409, "{}", body_json(&first));
    assert_eq!(
        body_json(&first)["type"],
        "tag:stateless-shop,2026:problem:insufficient-stock"
    );
    // Stock comes back; the shopper retries with the same key and the same cart.
    devkit::cancel_all(&t.app, "bob").await;
    let second = send_via_proxy("K").await;
    assert_eq!(second.status(), 201, "{}", body_json(&second));
    assert_eq!(stock_of(&t.app, "p1").await, Some(0));
    let tokens: Vec<_> = proxy
        .sent("TransactWriteItems")
        .iter()
        .map(|b| b["ClientRequestToken"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(tokens.len(), 2);
    assert_ne!(
        tokens[0], tokens[1],
        "one token per transaction, not per key"
    );
}

/// The SDK's retry after an attempt timeout can meet its first attempt still running: DynamoDB
/// says `TransactionInProgressException`. The outcome is not known yet: 409 with Retry-After,
/// and the retry with the same key answers with whatever happened.
#[tokio::test]
async fn a_transaction_still_in_progress_is_409_and_the_retry_settles_it() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P1", 100, 5).await;
    add_to_cart(&t.app, "alice", "p1", 1).await;
    let proxy = t.proxy().await;
    proxy.transaction_in_progress();
    let app = t.through(&proxy);
    let request = call(&t, "alice", Some("K")).request().expect("valid event");
    let response = handle(&app, &t.auth, request).await.expect("infallible");
    assert_eq!(response.status(), 409);
    assert_eq!(header(&response, "retry-after"), "1");
    assert_eq!(
        body_json(&response)["type"],
        "tag:stateless-shop,2026:problem:request-in-progress"
    );
    let retry = order(&t, "alice", "K").await;
    assert_eq!(retry.status(), 201);
    assert_eq!(stock_of(&t.app, "p1").await, Some(4));
}

// ----- the cap on open orders -----

/// 30 checkouts of one user at once, each with a fresh key and a refilled cart, never leave more
/// than the cap placed; a cancel frees a place.
#[tokio::test]
async fn concurrent_checkouts_never_exceed_the_open_order_cap() {
    let t = Arc::new(spawn_app().await);
    let cap = t.app.config().max_open_orders() as usize;
    assert_eq!(cap, 10, "the default cap");
    seed_product(&t.app, "p1", "P1", 100, 1000).await;
    let mut tasks = Vec::new();
    for i in 0..30 {
        let t = Arc::clone(&t);
        tasks.push(tokio::spawn(async move {
            // Each shopper refills the cart and retries until it places an order or is capped.
            for attempt in 0..20 {
                add_to_cart(&t.app, "alice", "p1", 1).await;
                let response = order(&t, "alice", &format!("K-{i}-{attempt}")).await;
                match response.status().as_u16() {
                    201 => return "placed",
                    409 if body_json(&response)["type"]
                        == "tag:stateless-shop,2026:problem:too-many-open-orders" =>
                    {
                        return "capped";
                    }
                    // Another shopper emptied the cart first, or it is changing under us.
                    409 | 422 | 503 => continue,
                    other => panic!("unexpected {other}: {}", body_json(&response)),
                }
            }
            "gave up"
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("ran"));
    }
    let placed = outcomes.iter().filter(|o| **o == "placed").count();
    assert!(placed <= cap, "{placed} placed, cap {cap}: {outcomes:?}");
    assert_eq!(order_count(&t, "alice").await, placed);
    assert!(
        outcomes.contains(&"capped"),
        "some checkouts met the cap: {outcomes:?}"
    );
    assert_eq!(stock_of(&t.app, "p1").await, Some(1000 - placed as i64));
    // Fill up to the cap, then one more is refused with the problem type and the cap.
    for i in placed..cap {
        add_to_cart(&t.app, "alice", "p1", 1).await;
        assert_eq!(order(&t, "alice", &format!("fill-{i}")).await.status(), 201);
    }
    add_to_cart(&t.app, "alice", "p1", 1).await;
    let refused = order(&t, "alice", "one-more").await;
    assert_eq!(refused.status(), 409);
    let problem = body_json(&refused);
    assert_eq!(
        problem["type"],
        "tag:stateless-shop,2026:problem:too-many-open-orders"
    );
    assert_eq!(problem["max_open_orders"], 10);
    assert_eq!(cart_lines(&t, "alice").await, 1, "the cart is kept");
    // A cancel releases a place; the same key now places the order.
    let open = t
        .app
        .store()
        .list_orders(&devkit::user("alice"), None, 1)
        .await
        .expect("orders")
        .items;
    t.app
        .store()
        .cancel_order(&devkit::user("alice"), &open[0])
        .await
        .expect("cancels");
    assert_eq!(order(&t, "alice", "one-more").await.status(), 201);
    // Another user is not affected by alice's cap.
    add_to_cart(&t.app, "bob", "p1", 1).await;
    assert_eq!(order(&t, "bob", "b1").await.status(), 201);
}

// ----- the invocation's deadline -----

/// Every DynamoDB call takes 5 s; the invocation has 1 s. The function answers 503 with a
/// problem document and Retry-After before its deadline, instead of being cut off by Lambda.
#[tokio::test]
async fn a_slow_engine_gets_a_503_before_the_deadline() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P1", 100, 5).await;
    add_to_cart(&t.app, "alice", "p1", 1).await;
    let proxy = t.proxy().await;
    proxy.delay_all(std::time::Duration::from_secs(5));
    let app = t.through(&proxy);
    let deadline = std::time::Duration::from_secs(1);
    let request = call(&t, "alice", Some("K")).request().expect("valid event");
    let handler = |req| handle(&app, &t.auth, req);
    let (response, took) =
        devkit::observe_with_deadline(t.app.config(), request, deadline, &handler).await;
    devkit::assert_answered_503_before(&response, took, deadline);
    assert!(
        took >= deadline - shared::http::DEADLINE_MARGIN - std::time::Duration::from_millis(50),
        "used its budget: {took:?}"
    );
    // Whatever the abandoned attempt did, a retry with the key settles it exactly once.
    let retry = order(&t, "alice", "K").await;
    assert!(
        matches!(retry.status().as_u16(), 201),
        "{}",
        body_json(&retry)
    );
    assert_eq!(order_count(&t, "alice").await, 1);
}

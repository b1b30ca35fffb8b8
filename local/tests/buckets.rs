//! A hot product's stock split into buckets, end to end over HTTP: one figure shown, every unit
//! sold exactly once by concurrent checkouts (a line no single bucket fills drawn from several),
//! `If-Match` holding only for the product as read, a cancel giving stock back, a new split and a
//! delete leaving no bucket behind.

use devkit::tokens::TokenSpec;
use local::Running;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

mod support;

use support::{TABLE, bearer, etag};

async fn start() -> Running {
    support::start("buckets", std::time::Duration::from_millis(20)).await
}

/// Puts `quantity` of `product` in the cart of `bearer`'s user and checks out; the status.
async fn buy(http: &Client, base: &str, bearer: &str, product: &str, quantity: u32) -> StatusCode {
    let cart = http
        .put(format!("{base}/cart/items/{product}"))
        .header("authorization", bearer)
        .json(&json!({ "quantity": quantity }))
        .send()
        .await
        .expect("PUT cart");
    assert_eq!(cart.status(), StatusCode::OK);
    http.post(format!("{base}/orders"))
        .header("authorization", bearer)
        .header("idempotency-key", uuid_like())
        .send()
        .await
        .expect("POST orders")
        .status()
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("bucket-test-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

async fn product(http: &Client, base: &str, id: &str) -> (StatusCode, Value, String) {
    let got = http
        .get(format!("{base}/products/{id}"))
        .send()
        .await
        .expect("GET");
    let status = got.status();
    let tag = if status == StatusCode::OK {
        etag(&got)
    } else {
        String::new()
    };
    (status, got.json().await.unwrap_or_default(), tag)
}

#[tokio::test]
async fn a_product_split_into_buckets_sells_every_unit_once() {
    let api = start().await;
    let http = Client::new();
    let base = api.url.clone();
    let admin = bearer(&api, &TokenSpec::admin("admin-1"));
    let put = |body: Value, if_match: Option<&str>| {
        let mut request = http
            .put(format!("{base}/products/drop"))
            .header("authorization", &admin)
            .json(&body);
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        request.send()
    };

    // 40 units over 8 buckets: one figure, and the split the admin asked for.
    let created = put(
        json!({"name": "Drop", "description": "", "price": 500, "stock": 40, "stock_buckets": 8}),
        None,
    )
    .await
    .expect("PUT");
    assert_eq!(created.status(), StatusCode::CREATED);
    let created_tag = etag(&created);
    let body: Value = created.json().await.expect("JSON");
    assert_eq!(
        (body["stock"].as_i64(), body["stock_buckets"].as_u64()),
        (Some(40), Some(8))
    );
    let (status, shown, tag) = product(&http, &base, "drop").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (shown["stock"].as_i64(), shown["stock_buckets"].as_u64()),
        (Some(40), Some(8))
    );
    assert_eq!(tag, created_tag, "a read tags the product as its write did");
    let (spread, held) = devkit::audit::stock_items(&api.engine_endpoint, TABLE, "drop")
        .await
        .expect("scan");
    assert_eq!(spread, 8);
    assert_eq!(
        held.iter().map(|(b, _)| *b).collect::<Vec<_>>(),
        (0..8).collect::<Vec<_>>()
    );
    assert_eq!(held.iter().map(|(_, s)| s).sum::<i64>(), 40);

    // 12 shoppers at once, 3 each: 36 sold, from whichever buckets they drew.
    let mut buyers = Vec::new();
    for i in 0..12 {
        let (http, base) = (http.clone(), base.clone());
        let user = bearer(&api, &TokenSpec::user(&format!("shopper-{i}")));
        buyers.push(tokio::spawn(async move {
            buy(&http, &base, &user, "drop", 3).await
        }));
    }
    for buyer in buyers {
        assert_eq!(buyer.await.expect("joins"), StatusCode::CREATED);
    }
    let (_, shown, after_sales) = product(&http, &base, "drop").await;
    assert_eq!(shown["stock"].as_i64(), Some(4));
    assert_ne!(
        after_sales, created_tag,
        "a sale from any bucket changes the tag"
    );

    // The last 4, wherever the sales left them: a line no single bucket fills is drawn from several.
    let last = bearer(&api, &TokenSpec::user("last-buyer"));
    let (_, held) = devkit::audit::stock_items(&api.engine_endpoint, TABLE, "drop")
        .await
        .expect("scan");
    assert!(held.iter().all(|(_, s)| *s >= 0), "{held:?}");
    assert_eq!(
        buy(&http, &base, &last, "drop", 4).await,
        StatusCode::CREATED
    );
    assert_eq!(
        product(&http, &base, "drop").await.1["stock"].as_i64(),
        Some(0)
    );
    let sold_out = buy(&http, &base, &last, "drop", 1).await;
    assert_eq!(sold_out, StatusCode::CONFLICT, "nothing left to sell");

    // A cancel gives the units back.
    let orders: Value = http
        .get(format!("{base}/orders"))
        .header("authorization", &last)
        .send()
        .await
        .expect("GET orders")
        .json()
        .await
        .expect("JSON");
    let order_id = orders["items"][0]["id"]
        .as_str()
        .expect("an order")
        .to_owned();
    let cancelled = http
        .post(format!("{base}/orders/{order_id}/cancel"))
        .header("authorization", &last)
        .send()
        .await
        .expect("POST cancel");
    assert_eq!(cancelled.status(), StatusCode::OK);
    let (_, shown, current) = product(&http, &base, "drop").await;
    assert_eq!(shown["stock"].as_i64(), Some(4));

    // If-Match holds only for the product as read: the tag from before the sales is stale.
    let restock =
        json!({"name": "Drop", "description": "", "price": 450, "stock": 10, "stock_buckets": 2});
    let stale = put(restock.clone(), Some(&after_sales)).await.expect("PUT");
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    let resplit = put(restock, Some(&current)).await.expect("PUT");
    assert_eq!(resplit.status(), StatusCode::OK);
    let (_, shown, current) = product(&http, &base, "drop").await;
    assert_eq!(
        (shown["stock"].as_i64(), shown["stock_buckets"].as_u64()),
        (Some(10), Some(2))
    );
    let (spread, held) = devkit::audit::stock_items(&api.engine_endpoint, TABLE, "drop")
        .await
        .expect("scan");
    assert_eq!(
        (spread, held),
        (2, vec![(0, 5), (1, 5)]),
        "the surplus buckets are gone"
    );

    // A put that leaves `stock_buckets` out keeps the split.
    let kept = put(
        json!({"name": "Drop", "description": "kept", "price": 450, "stock": 9}),
        Some(&current),
    )
    .await
    .expect("PUT");
    assert_eq!(kept.status(), StatusCode::OK);
    let current = etag(&kept);
    assert_eq!(
        kept.json::<Value>().await.expect("JSON")["stock_buckets"],
        2
    );

    // A delete takes every bucket with the product.
    let delete = |tag: String| {
        http.delete(format!("{base}/products/drop"))
            .header("authorization", &admin)
            .header("if-match", tag)
            .send()
    };
    assert_eq!(
        delete(created_tag).await.expect("DELETE").status(),
        StatusCode::PRECONDITION_FAILED
    );
    assert_eq!(
        delete(current).await.expect("DELETE").status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(product(&http, &base, "drop").await.0, StatusCode::NOT_FOUND);
    let (spread, held) = devkit::audit::stock_items(&api.engine_endpoint, TABLE, "drop")
        .await
        .expect("scan");
    assert_eq!((spread, held), (0, vec![]));
}

#[tokio::test]
async fn a_bad_split_is_refused_with_the_field_named() {
    let api = start().await;
    let http = Client::new();
    let admin = bearer(&api, &TokenSpec::admin("admin-1"));
    for bad in [json!(0), json!(17), json!("8")] {
        let refused = http
            .put(format!("{}/products/drop", api.url))
            .header("authorization", &admin)
            .json(&json!({"name": "Drop", "description": "", "price": 1, "stock": 1, "stock_buckets": bad}))
            .send()
            .await
            .expect("PUT");
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            refused.headers()["content-type"],
            "application/problem+json"
        );
        let problem: Value = refused.json().await.expect("JSON");
        assert!(problem.to_string().contains("stock_buckets"), "{problem}");
    }
}

#[tokio::test]
async fn a_line_no_bucket_fills_alone_is_drawn_from_several_and_a_tagless_admin_write_lands_mid_sale()
 {
    let api = start().await;
    let http = Client::new();
    let base = api.url.clone();
    let admin = bearer(&api, &TokenSpec::admin("admin-1"));
    let put = |body: Value, if_match: &'static str| {
        http.put(format!("{base}/products/thin"))
            .header("authorization", &admin)
            .header("if-match", if_match)
            .json(&body)
    };
    // 16 buckets of one unit each: a line of 3 must be drawn from three of them.
    let created = http
        .put(format!("{base}/products/thin"))
        .header("authorization", &admin)
        .json(&json!({"name": "Thin", "description": "", "price": 10, "stock": 16, "stock_buckets": 16}))
        .send()
        .await
        .expect("PUT");
    assert_eq!(created.status(), StatusCode::CREATED);
    let buyer = bearer(&api, &TokenSpec::user("buyer"));
    assert_eq!(
        buy(&http, &base, &buyer, "thin", 3).await,
        StatusCode::CREATED
    );
    let (_, shown, _) = product(&http, &base, "thin").await;
    assert_eq!(shown["stock"].as_i64(), Some(13));
    let (_, held) = devkit::audit::stock_items(&api.engine_endpoint, TABLE, "thin")
        .await
        .expect("scan");
    assert_eq!(held.iter().filter(|(_, s)| *s == 0).count(), 3, "{held:?}");

    // Shoppers keep buying while an admin restocks and re-splits with `If-Match: *`: the admin's
    // write lands (it checks the split, not every bucket's tag), and no bucket goes wrong.
    let mut buyers = Vec::new();
    for i in 0..6 {
        let (http, base) = (http.clone(), base.clone());
        let user = bearer(&api, &TokenSpec::user(&format!("rush-{i}")));
        buyers.push(tokio::spawn(async move {
            let mut placed = 0;
            for _ in 0..4 {
                if buy(&http, &base, &user, "thin", 1).await == StatusCode::CREATED {
                    placed += 1;
                }
            }
            placed
        }));
    }
    let restocked = put(
        json!({"name": "Thin", "description": "", "price": 10, "stock": 100, "stock_buckets": 4}),
        "*",
    )
    .send()
    .await
    .expect("PUT");
    assert_eq!(restocked.status(), StatusCode::OK);
    let mut placed = 0;
    for buyer in buyers {
        placed += buyer.await.expect("joins");
    }
    let (_, shown, _) = product(&http, &base, "thin").await;
    let stock = shown["stock"].as_i64().expect("a stock");
    assert_eq!(shown["stock_buckets"], 4);
    assert!(
        (0..=100).contains(&stock) && stock >= 100 - placed,
        "{stock} after {placed} sold"
    );
    let (spread, held) = devkit::audit::stock_items(&api.engine_endpoint, TABLE, "thin")
        .await
        .expect("scan");
    assert_eq!(spread, 4);
    assert_eq!(
        held.iter().map(|(b, _)| *b).collect::<Vec<_>>(),
        vec![0, 1, 2, 3]
    );
    assert!(held.iter().all(|(_, s)| *s >= 0), "{held:?}");
    assert_eq!(held.iter().map(|(_, s)| s).sum::<i64>(), stock);
}

#[tokio::test]
async fn lines_spread_past_one_transaction_are_refused_with_what_one_bucket_holds() {
    let api = start().await;
    let http = Client::new();
    let base = api.url.clone();
    let admin = bearer(&api, &TokenSpec::admin("admin-1"));
    let buyer = bearer(&api, &TokenSpec::user("bulk-buyer"));
    // Seven products of 16 units in 16 buckets: each line of 16 needs all 16 buckets, 112 stock
    // updates in all, past the 100 actions of one transaction.
    for i in 0..7 {
        let created = http
            .put(format!("{base}/products/bulk-{i}"))
            .header("authorization", &admin)
            .json(&json!({"name": "Bulk", "description": "", "price": 1, "stock": 16, "stock_buckets": 16}))
            .send()
            .await
            .expect("PUT");
        assert_eq!(created.status(), StatusCode::CREATED);
        let added = http
            .put(format!("{base}/cart/items/bulk-{i}"))
            .header("authorization", &buyer)
            .json(&json!({"quantity": 16}))
            .send()
            .await
            .expect("PUT cart");
        assert_eq!(added.status(), StatusCode::OK);
    }
    let refused = http
        .post(format!("{base}/orders"))
        .header("authorization", &buyer)
        .header("idempotency-key", "bulk-1")
        .send()
        .await
        .expect("POST");
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let problem: Value = refused.json().await.expect("JSON");
    assert!(
        problem["type"]
            .as_str()
            .is_some_and(|t| t.ends_with(":insufficient-stock")),
        "{problem}"
    );
    let lines = problem["products"].as_array().expect("the lines");
    assert_eq!(lines.len(), 7, "{problem}");
    assert!(lines.iter().all(|l| l["available"] == 1), "{problem}");
    for i in 0..7 {
        let (_, shown, _) = product(&http, &base, &format!("bulk-{i}")).await;
        assert_eq!(shown["stock"].as_i64(), Some(16), "nothing was taken");
    }
}

/// A restock of a split product with the tag of a read that sales have moved on from: the tag
/// names the split the admin read, so no admin write came between, and the stock rises by what
/// the admin asked for over what they saw, sales since still counted. Lowering the stock over a
/// stale read, or any tag from before another admin write, is still a 412.
#[tokio::test]
async fn a_restock_over_a_stale_read_lands_and_sold_units_stay_sold() {
    let api = start().await;
    let http = Client::new();
    let base = api.url.clone();
    let admin = bearer(&api, &TokenSpec::admin("admin-1"));
    let put = |body: Value, if_match: String| {
        http.put(format!("{base}/products/wave"))
            .header("authorization", &admin)
            .header("if-match", if_match)
            .json(&body)
            .send()
    };
    let draft = |stock: i64| json!({"name": "Wave", "description": "", "price": 300, "stock": stock, "stock_buckets": 4});
    let created = http
        .put(format!("{base}/products/wave"))
        .header("authorization", &admin)
        .json(&draft(40))
        .send()
        .await
        .expect("PUT");
    assert_eq!(created.status(), StatusCode::CREATED);
    let (_, _, read) = product(&http, &base, "wave").await;

    // Three units sell after the admin's read.
    let buyer = bearer(&api, &TokenSpec::user("wave-buyer"));
    for _ in 0..3 {
        assert_eq!(
            buy(&http, &base, &buyer, "wave", 1).await,
            StatusCode::CREATED
        );
    }
    let restocked = put(draft(100), read.clone()).await.expect("PUT");
    assert_eq!(restocked.status(), StatusCode::OK);
    let body: Value = restocked.json().await.expect("JSON");
    assert_eq!(
        body["stock"], 97,
        "100 asked over the 40 seen: +60 on the 37 left"
    );
    let (spread, held) = devkit::audit::stock_items(&api.engine_endpoint, TABLE, "wave")
        .await
        .expect("scan");
    assert_eq!(spread, 4);
    assert_eq!(held.iter().map(|(_, s)| s).sum::<i64>(), 97);

    // The restock was an admin write: the old tag no longer names the split.
    assert_eq!(
        put(draft(200), read).await.expect("PUT").status(),
        StatusCode::PRECONDITION_FAILED
    );
    // Lowering over a stale read: refused, nothing written.
    let (_, _, fresh) = product(&http, &base, "wave").await;
    assert_eq!(
        buy(&http, &base, &buyer, "wave", 1).await,
        StatusCode::CREATED
    );
    assert_eq!(
        put(draft(50), fresh).await.expect("PUT").status(),
        StatusCode::PRECONDITION_FAILED
    );
    let (_, shown, _) = product(&http, &base, "wave").await;
    assert_eq!(shown["stock"], 96);
    api.stop().await;
}

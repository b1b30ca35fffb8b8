//! The stall scenario: a checkout held between its read and its write.
//!
//! Each round, a fresh shopper puts product A in the cart and checks out under key K1; the
//! place-order proxies park that checkout's transaction. While it is held, the same shopper
//! checks out again under K2 (a second tab: 201, the cart is emptied) and puts product B in the
//! cart. Then the held transaction is released. Whatever it answers, A must be in exactly one
//! order and B in exactly one order or the cart, and the stock must match the orders.
//!
//! This is the sequence in which a cart whose version starts over after deletion let a stale
//! checkout commit against a different cart: A ordered twice, B lost.

use crate::World;
use devkit::tokens::TokenSpec;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use shared::domain::{OrderStatus, ProductId, UserId};

use std::time::Duration;

/// One broken invariant of a round.
pub struct Violation {
    pub rule: &'static str,
    pub detail: String,
}

/// What the rounds found.
#[derive(Default)]
pub struct Found {
    /// Held checkouts whose stale transaction committed (the bug).
    pub held_committed_stale: usize,
    /// Held checkouts that found the cart changed, priced it again and placed that: 201.
    pub held_repriced: usize,
    /// Held checkouts that answered anything else (e.g. 409 or 422: nothing placed).
    pub held_other: usize,
    pub violations: Vec<Violation>,
}

/// How long a round waits for the held transaction to arrive at the proxy.
const REACH: Duration = Duration::from_secs(10);

pub async fn run(world: &World, rounds: usize) -> Found {
    let mut found = Found::default();
    let http = Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_default();
    let base = world.door.url();
    for round in 0..rounds {
        let sub = format!("staller-{round:03}");
        let bearer = format!(
            "Bearer {}",
            world.issuer.mint(&TokenSpec {
                sub: sub.clone(),
                admin: false,
                ttl_secs: 3600,
            })
        );
        let n = world.products.len();
        let (a, b) = (
            world.products[round % n].clone(),
            world.products[(round + 1) % n].clone(),
        );
        let mut fail = |rule: &'static str, detail: String| {
            found.violations.push(Violation {
                rule,
                detail: format!("round {round} ({sub}): {detail}"),
            });
        };
        let stock_before = stock(world, &[&a, &b]).await;
        if put_line(&http, &base, &bearer, &a).await != Some(StatusCode::OK) {
            fail("stall: setup", format!("could not put {a} in the cart"));
            continue;
        }
        let held = world.stall.arm();
        let first = tokio::spawn(checkout(
            http.clone(),
            base.clone(),
            bearer.clone(),
            format!("{sub}-K1"),
        ));
        if !held.reached(REACH).await {
            fail(
                "stall: setup",
                "the first checkout never reached its transaction".into(),
            );
            held.release();
            let _ = first.await;
            continue;
        }
        let second = checkout(
            http.clone(),
            base.clone(),
            bearer.clone(),
            format!("{sub}-K2"),
        )
        .await;
        if second.0 != Some(StatusCode::CREATED) {
            fail(
                "stall: setup",
                format!("the second checkout answered {:?}: {}", second.0, second.1),
            );
        }
        if put_line(&http, &base, &bearer, &b).await != Some(StatusCode::OK) {
            fail("stall: setup", format!("could not put {b} in the cart"));
        }
        held.release();
        let (status, body) = match first.await {
            Ok(answer) => answer,
            Err(err) => (None, json!(err.to_string())),
        };

        let Ok(user) = UserId::parse(&sub) else {
            continue;
        };
        let audit =
            match devkit::audit::audit_user(&world.engine.endpoint(), crate::TABLE, &user).await {
                Ok(audit) => audit,
                Err(err) => {
                    fail("stall: audit", err.to_string());
                    continue;
                }
            };
        let cart = world.store.get_cart(&user).await.unwrap_or_default();
        let placed: Vec<_> = audit
            .orders
            .iter()
            .filter(|o| o.status == OrderStatus::Placed)
            .collect();
        let ordered = |id: &str| -> u32 {
            placed
                .iter()
                .flat_map(|o| &o.items)
                .filter(|l| l.product_id == id)
                .map(|l| u32::from(l.quantity))
                .sum()
        };
        let in_cart = cart
            .lines
            .iter()
            .find(|(id, _)| **id == *b)
            .map_or(0, |(_, q)| u32::from(*q));
        if ordered(&a) != 1 {
            fail(
                "stall: no line ordered twice",
                format!(
                    "{a} was put in the cart once and is in {} orders",
                    ordered(&a)
                ),
            );
        }
        if ordered(&b) + in_cart != 1 {
            fail(
                "stall: no line lost",
                format!(
                    "{b} was put in the cart once; ordered {} and in the cart {in_cart}",
                    ordered(&b)
                ),
            );
        }
        let stock_after = stock(world, &[&a, &b]).await;
        for (id, before, after) in [
            (&a, stock_before.0, stock_after.0),
            (&b, stock_before.1, stock_after.1),
        ] {
            if before - after != i64::from(ordered(id)) {
                fail(
                    "stall: stock matches the orders",
                    format!("{id}: stock {before} → {after}, ordered {}", ordered(id)),
                );
            }
        }
        let held_items: Vec<&str> = body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l["product_id"].as_str())
            .collect();
        match status {
            Some(StatusCode::CREATED) if held_items.contains(&a.as_str()) => {
                found.held_committed_stale += 1
            }
            Some(StatusCode::CREATED) => found.held_repriced += 1,
            _ => found.held_other += 1,
        }
    }
    found
}

async fn stock(world: &World, ids: &[&String; 2]) -> (i64, i64) {
    let parsed: Vec<ProductId> = ids
        .iter()
        .filter_map(|id| ProductId::parse(id).ok())
        .collect();
    let products = world.store.get_products(&parsed).await.unwrap_or_default();
    let of = |id: &String| {
        products
            .iter()
            .find(|(pid, _)| *pid == id)
            .map_or(0, |(_, p)| p.stock)
    };
    (of(ids[0]), of(ids[1]))
}

async fn put_line(http: &Client, base: &str, bearer: &str, product: &str) -> Option<StatusCode> {
    http.put(format!("{base}/cart/items/{product}"))
        .header("authorization", bearer)
        .json(&json!({"quantity": 1}))
        .send()
        .await
        .ok()
        .map(|r| r.status())
}

async fn checkout(
    http: Client,
    base: String,
    bearer: String,
    key: String,
) -> (Option<StatusCode>, Value) {
    match http
        .post(format!("{base}/orders"))
        .header("authorization", bearer)
        .header("idempotency-key", key)
        .send()
        .await
    {
        Ok(response) => {
            let status = response.status();
            let body = response.json::<Value>().await.unwrap_or(Value::Null);
            (Some(status), body)
        }
        Err(err) => (None, json!(err.to_string())),
    }
}

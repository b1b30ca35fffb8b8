//! `POST /orders` with an `Idempotency-Key`: place an order from the caller's cart at current
//! catalog prices, exactly once however often the client retries, on whichever instance.
//!
//! Round trips: one BatchGetItem (the cart and the key's record together; a replay ends here), one
//! BatchGetItem (the cart's products), and one TransactWriteItems that takes every line's stock
//! (only if it stays at or above 0 and the price is still the one charged), writes the order,
//! empties the cart (only if unchanged since it was read), records the key with the response and
//! counts the order against the user's cap of open orders (`MAX_OPEN_ORDERS`). All or nothing: a
//! failed attempt leaves nothing behind that could block a retry.
//!
//! Idempotency: the same key and request get the original status and body again (with
//! `Idempotent-Replayed: true`), also when two arrive at once (the loser finds the winner's record);
//! the same key with a different request is 422; 409 with `Retry-After` when DynamoDB still runs an
//! earlier attempt of the same transaction, or the cart kept changing. Keys belong to their user
//! and expire after 24 hours (the table's TTL).

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value, json};
use shared::auth::Authenticator;
use shared::domain::{
    CheckoutRequest, IdempotencyRecord, Order, OrderId, OrderLine, OrderStatus, now_rfc3339,
};
use shared::store::{
    Checkout, CheckoutPlan, CommitOutcome, GetProducts, LineReason, LineRejection,
};
use shared::{ApiError, App, http};
use std::convert::Infallible;

/// Full read-price-commit rounds when the cart changes mid-checkout or a duplicate wins the key.
const ATTEMPTS: usize = 3;

/// Any signed-in user: 401 without a valid bearer token.
pub async fn handle<S: Checkout + GetProducts + Sync>(
    app: &App<S>,
    auth: &Authenticator,
    req: Request,
) -> Result<Response<Body>, Infallible> {
    http::finish(respond(app, auth, &req).await)
}

async fn respond<S: Checkout + GetProducts + Sync>(
    app: &App<S>,
    auth: &Authenticator,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    http::require_method(req, "POST")?;
    let caller = auth.authenticate(req.headers()).await?;
    let key = http::idempotency_key(req)?;
    let request = match http::optional_json_body(req)? {
        Some(body) => CheckoutRequest::parse(&body).map_err(ApiError::Validation)?,
        None => CheckoutRequest::default(),
    };
    let fingerprint = request.fingerprint();
    let user = caller.user();
    for _ in 0..ATTEMPTS {
        let (cart, record) = app.store().checkout_state(user, &key).await?;
        if let Some(record) = record {
            return replay(&record, &fingerprint);
        }
        if cart.lines.is_empty() {
            return Err(ApiError::Unprocessable {
                kind: "cart-empty",
                detail: "the cart is empty: add products before ordering".into(),
            });
        }
        let ids = cart
            .product_ids()
            .map_err(|e| ApiError::Internal(format!("stored cart line: {e}").into()))?;
        let products = app.store().get_products(&ids).await?;

        // Check what the read shows first, so the client hears of every short line at once; the
        // transaction's conditions re-check it all where it counts.
        let mut rejected = Vec::new();
        let mut items = Vec::with_capacity(cart.lines.len());
        for (id, &quantity) in &cart.lines {
            match products.get(id) {
                None => rejected.push(LineRejection {
                    product_id: id.clone(),
                    reason: LineReason::Missing,
                }),
                Some(p) if p.stock < i64::from(quantity) => rejected.push(LineRejection {
                    product_id: id.clone(),
                    reason: LineReason::Short { available: p.stock },
                }),
                Some(p) => items.push(OrderLine {
                    product_id: id.clone(),
                    name: p.name.clone(),
                    quantity,
                    unit_price: p.price,
                    line_total: p.price * i64::from(quantity),
                }),
            }
        }
        if !rejected.is_empty() {
            return Err(rejection(&rejected, &cart.lines));
        }
        let total: i64 = items.iter().map(|l| l.line_total).sum();
        if let Some(expected) = request.expected_total
            && expected != total
        {
            return Err(ApiError::Conflict {
                kind: "total-changed",
                detail: format!(
                    "the cart now totals {total}, not {expected}: prices changed since you looked"
                ),
                extra: Some(Map::from_iter([("total".to_owned(), json!(total))])),
                retry_after: None,
            });
        }
        let order = Order {
            id: OrderId::new().to_string(),
            items,
            total,
            currency: app.config().currency().as_str().to_owned(),
            status: OrderStatus::Placed,
            created_at: now_rfc3339(),
            cancelled_at: None,
        };
        let body = serde_json::to_string(&order).map_err(|e| ApiError::Internal(Box::new(e)))?;
        let record = IdempotencyRecord {
            fingerprint: fingerprint.clone(),
            status: 201,
            body,
            location: Some(format!("/orders/{}", order.id)),
        };
        let plan = CheckoutPlan {
            user,
            key: &key,
            cart_version: cart.version,
            order: &order,
            record: &record,
            max_open_orders: app.config().max_open_orders(),
        };
        match app.store().commit_checkout(&plan).await? {
            CommitOutcome::Committed => return stored_response(&record, false),
            CommitOutcome::LinesRejected(rejected) => {
                return Err(rejection(&rejected, &cart.lines));
            }
            // The cart changed after it was priced, or a duplicate request won the key: read again.
            CommitOutcome::CartChanged | CommitOutcome::KeyTaken => continue,
            CommitOutcome::TooManyOpenOrders => {
                let cap = app.config().max_open_orders();
                return Err(ApiError::Conflict {
                    kind: "too-many-open-orders",
                    detail: format!(
                        "you already hold {cap} placed orders, the most allowed: cancel one to place another"
                    ),
                    extra: Some(Map::from_iter([("max_open_orders".to_owned(), json!(cap))])),
                    retry_after: None,
                });
            }
            CommitOutcome::InProgress => return Err(in_progress()),
        }
    }
    Err(in_progress())
}

fn in_progress() -> ApiError {
    ApiError::Conflict {
        kind: "request-in-progress",
        detail: "a request with this Idempotency-Key is still being processed; retry after Retry-After seconds".into(),
        extra: None,
        retry_after: Some(1),
    }
}

/// The original response again, for a retry of the same request; 422 for a different request.
fn replay(record: &IdempotencyRecord, fingerprint: &str) -> Result<Response<Body>, ApiError> {
    if record.fingerprint != fingerprint {
        return Err(ApiError::Unprocessable {
            kind: "idempotency-key-reused",
            detail: "this Idempotency-Key was used for a different request; use a new key for a new order".into(),
        });
    }
    stored_response(record, true)
}

fn stored_response(record: &IdempotencyRecord, replayed: bool) -> Result<Response<Body>, ApiError> {
    let status =
        StatusCode::from_u16(record.status).map_err(|e| ApiError::Internal(Box::new(e)))?;
    let mut response = http::raw_json(status, record.body.clone())?;
    if let Some(location) = &record.location {
        response = http::with_header(response, header::LOCATION, location)?;
    }
    if replayed {
        response = http::with_header(
            response,
            header::HeaderName::from_static("idempotent-replayed"),
            "true",
        )?;
    }
    Ok(response)
}

/// 409 naming every line that cannot be placed, and why.
fn rejection(
    rejected: &[LineRejection],
    lines: &std::collections::BTreeMap<String, u32>,
) -> ApiError {
    let products: Vec<Value> = rejected
        .iter()
        .map(|r| {
            let requested = lines.get(&r.product_id).copied().unwrap_or(0);
            match &r.reason {
                LineReason::Missing => json!({"product_id": r.product_id, "problem": "unavailable", "requested": requested, "available": 0}),
                LineReason::Short { available } => {
                    json!({"product_id": r.product_id, "problem": "insufficient-stock", "requested": requested, "available": available})
                }
                LineReason::PriceChanged { price } => json!({"product_id": r.product_id, "problem": "price-changed", "price": price}),
            }
        })
        .collect();
    let only_prices = rejected
        .iter()
        .all(|r| matches!(r.reason, LineReason::PriceChanged { .. }));
    let (kind, detail) = if only_prices {
        (
            "price-changed",
            "prices changed while the order was being placed; look at the cart again",
        )
    } else {
        (
            "insufficient-stock",
            "some products are short of stock or no longer sold; nothing was ordered",
        )
    };
    ApiError::Conflict {
        kind,
        detail: detail.into(),
        extra: Some(Map::from_iter([(
            "products".to_owned(),
            Value::Array(products),
        )])),
        retry_after: None,
    }
}

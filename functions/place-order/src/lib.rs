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
//! A product whose stock is split into K buckets (a hot one) is read as `DynamoStore::shop_products` answers
//! (at most a second old, per instance), and each line is drawn from a bucket picked at random;
//! a bucket found short is swapped for another inside the store, and a line no bucket fills alone
//! is drawn from several, still in one transaction (`domain::stock`).
//!
//! Idempotency: the same key and request get the original status and body again (with
//! `Idempotent-Replayed: true`), also when two arrive at once (the loser finds the winner's record);
//! the same key with a different request is 422; 409 with `Retry-After` when DynamoDB still runs an
//! earlier attempt of the same transaction, or the cart kept changing. Keys belong to their user
//! and expire after 24 hours (the table's TTL).

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};
use shared::auth::Authenticator;
use shared::domain::checkout::{self, Rejection};
use shared::domain::{CheckoutRequest, IdempotencyRecord, Order, OrderId, ProductId, Timestamp};
use shared::http::{BodyOf, Conflict, ProblemKind};
use shared::store::{CheckoutCommit, CommitOutcome};
use shared::{ApiError, App, http};
use std::collections::HashMap;
use std::convert::Infallible;

/// Full read-price-commit rounds when the cart changes mid-checkout or a duplicate wins the key.
const ATTEMPTS: usize = 3;

/// Any signed-in user: 401 without a valid bearer token.
pub async fn handle(
    app: &App,
    auth: &Authenticator,
    req: Request,
) -> Result<Response<Body>, Infallible> {
    http::finish(respond(app, auth, &req).await)
}

async fn respond(
    app: &App,
    auth: &Authenticator,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    http::require_method(req, "POST")?;
    let caller = http::caller(auth, req).await?;
    let key = http::idempotency_key(req)?;
    let request = match http::optional_json_body(req)? {
        Some(body) => CheckoutRequest::parse(&body).map_err(ApiError::invalid(BodyOf::Checkout))?,
        None => CheckoutRequest::default(),
    };
    let fingerprint = request.fingerprint();
    let user = caller.user();
    for _ in 0..ATTEMPTS {
        let (cart, record) = app.store().checkout_state(user, &key).await?;
        if let Some(record) = record {
            return replay(&record, &fingerprint);
        }
        let ids = cart.product_ids();
        let mut products = app.store().shop_products(&ids).await?;
        // What the read shows is checked first, so the client hears of every short line at once;
        // the transaction's conditions re-check price and stock where it counts.
        let mut planned = checkout::plan(
            &cart,
            &products,
            app.config().currency(),
            request.expected_total,
        );
        // A hot product may have been read up to a second ago: before refusing the cart on what
        // that read showed, read it as it is now.
        if planned.is_err() && products.values().any(|p| p.stock_buckets > 1) {
            products = app.store().get_products(&ids).await?;
            planned = checkout::plan(
                &cart,
                &products,
                app.config().currency(),
                request.expected_total,
            );
        }
        let plan = planned.map_err(rejected)?;
        let buckets: HashMap<ProductId, u32> = products
            .values()
            .map(|p| (p.id.clone(), p.stock_buckets))
            .collect();
        let order = plan.order(OrderId::new(), Timestamp::now());
        let commit = CheckoutCommit {
            user,
            key: &key,
            cart_version: cart.version,
            order: &order,
            buckets: &buckets,
            fingerprint: &fingerprint,
            max_open_orders: app.config().max_open_orders(),
        };
        match app.store().commit_checkout(&commit).await? {
            CommitOutcome::Committed => return created(&order, false),
            CommitOutcome::LinesRejected(lines) => return Err(rejected(Rejection::Lines(lines))),
            // The cart changed after it was priced, or a duplicate request won the key: read again.
            CommitOutcome::CartChanged | CommitOutcome::KeyTaken => continue,
            CommitOutcome::TooManyOpenOrders => {
                return Err(ApiError::Conflict(Conflict::TooManyOpenOrders {
                    max_open_orders: app.config().max_open_orders(),
                }));
            }
            CommitOutcome::InProgress => return Err(in_progress()),
        }
    }
    Err(in_progress())
}

fn in_progress() -> ApiError {
    ApiError::Conflict(Conflict::CheckoutInProgress)
}

/// The original response again, for a retry of the same request; 422 for a different request.
fn replay(record: &IdempotencyRecord, fingerprint: &str) -> Result<Response<Body>, ApiError> {
    if record.fingerprint != fingerprint {
        return Err(ApiError::Unprocessable {
            kind: ProblemKind::IdempotencyKeyReused,
            detail: "this Idempotency-Key was used for a different request; use a new key for a new order".into(),
        });
    }
    created(&record.order, true)
}

/// 201 with the order and its `Location`; a replay says so in `Idempotent-Replayed`.
fn created(order: &Order, replayed: bool) -> Result<Response<Body>, ApiError> {
    let body = serde_json::to_string(order).map_err(|e| ApiError::Internal(Box::new(e)))?;
    let mut response = http::raw_json(StatusCode::CREATED, body)?;
    response = http::with_header(response, header::LOCATION, &format!("/orders/{}", order.id))?;
    if replayed {
        response = http::with_header(
            response,
            header::HeaderName::from_static("idempotent-replayed"),
            "true",
        )?;
    }
    Ok(response)
}

/// The problem for a cart that cannot be ordered as it stands: 422 for an empty cart, 409 naming
/// every line that cannot be placed (and why) or the total that changed.
fn rejected(rejection: Rejection) -> ApiError {
    match rejection {
        Rejection::EmptyCart => ApiError::Unprocessable {
            kind: ProblemKind::CartEmpty,
            detail: "the cart is empty: add products before ordering".into(),
        },
        Rejection::TotalChanged { total, expected } => {
            ApiError::Conflict(Conflict::TotalChanged { total, expected })
        }
        Rejection::Lines(lines) => ApiError::Conflict(Conflict::lines(&lines)),
    }
}

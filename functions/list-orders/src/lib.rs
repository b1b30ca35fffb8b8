//! `GET /orders?limit=&cursor=`: the caller's orders, newest first, one page per call.
//!
//! One consistent Query of the caller's partition per page (a list right after a 201 shows the
//! new order). The cursor is sealed for this caller: another
//! user's cursor is refused (400), so it can never page into someone else's orders.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::auth::Authenticator;
use shared::domain::{FieldError, Order, OrderId};
use shared::store::ListOrders;
use shared::{ApiError, App, http};
use std::convert::Infallible;

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

#[derive(Serialize)]
struct Listing<'a> {
    items: &'a [Order],
    next_cursor: Option<String>,
}

/// Any signed-in user: 401 without a valid bearer token.
pub async fn handle<S: ListOrders + Sync>(
    app: &App<S>,
    auth: &Authenticator,
    req: Request,
) -> Result<Response<Body>, Infallible> {
    http::finish(respond(app, auth, &req).await)
}

async fn respond<S: ListOrders + Sync>(
    app: &App<S>,
    auth: &Authenticator,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    http::require_method(req, "GET")?;
    let caller = auth.authenticate(req.headers()).await?;
    let limit = http::limit_param(req, DEFAULT_LIMIT, MAX_LIMIT)?;
    let scope = format!("orders:{}", caller.user());
    let codec = app.config().cursor();
    let bad_cursor = || {
        ApiError::bad_field(FieldError::new(
            "cursor",
            "is not a cursor this API issued to you; start again without it",
        ))
    };
    let after = match http::query_param(req, "cursor")? {
        None => None,
        Some(cursor) => {
            let position = codec.open(&scope, &cursor).map_err(|_| bad_cursor())?;
            Some(OrderId::parse(&position).map_err(|_| bad_cursor())?)
        }
    };
    let page = app
        .store()
        .list_orders(caller.user(), after.as_ref(), limit)
        .await?;
    let listing = Listing {
        items: &page.items,
        next_cursor: page.next.map(|id| codec.seal(&scope, id.as_str())),
    };
    http::json(StatusCode::OK, &listing)
}

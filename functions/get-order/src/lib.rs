//! `GET /orders/{id}`: one of the caller's orders. Someone else's order, or an unknown id, is 404:
//! orders live in their owner's partition, so another user's id finds nothing.
//!
//! One consistent GetItem.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::auth::Authenticator;
use shared::{ApiError, App, http};
use std::convert::Infallible;

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
    http::require_method(req, "GET")?;
    let caller = http::caller(auth, req).await?;
    let id = http::order_id(req)?;
    let order = app
        .store()
        .get_order(caller.user(), &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("you have no order {id}")))?;
    http::json(StatusCode::OK, &order)
}

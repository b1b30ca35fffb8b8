//! `POST /orders/{id}/cancel`: a placed order becomes `cancelled` and its stock goes back, in one
//! transaction. Cancelling a cancelled order answers 200 with it again and changes nothing, so a
//! retry never restores stock twice. Someone else's order is 404.
//!
//! One GetItem and one TransactWriteItems (the order's status is the transaction's condition).
//! Products deleted since the order was placed get no stock back.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::auth::Authenticator;
use shared::domain::OrderStatus;
use shared::http::Conflict;
use shared::store::CancelOutcome;
use shared::{ApiError, App, http};
use std::convert::Infallible;

/// Reads after losing a race with a concurrent cancel of the same order.
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
    let id = http::order_id(req)?;
    for _ in 0..ATTEMPTS {
        let order = app
            .store()
            .get_order(caller.user(), &id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("you have no order {id}")))?;
        if order.status == OrderStatus::Cancelled {
            return http::json(StatusCode::OK, &order);
        }
        match app.store().cancel_order(caller.user(), &order).await? {
            CancelOutcome::Cancelled(order) => return http::json(StatusCode::OK, &order),
            // Cancelled meanwhile by a concurrent request: read it again and answer with it.
            CancelOutcome::NotPlaced => continue,
            // An earlier attempt of this cancel may still commit: only a retry can tell.
            CancelOutcome::InProgress => return Err(in_progress()),
        }
    }
    Err(in_progress())
}

fn in_progress() -> ApiError {
    ApiError::Conflict(Conflict::OrderChanging)
}

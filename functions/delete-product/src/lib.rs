//! `DELETE /products/{id}`: 204 when deleted, 404 when unknown, 412 when `If-Match` does not hold.
//!
//! One conditional `DeleteItem`; when the condition fails DynamoDB returns the current item, which
//! tells "not there" from "changed" without a second read. A product whose stock is split into
//! buckets is deleted with them, in one transaction after a read of them.

use lambda_http::{Body, Request, Response};
use shared::auth::Authenticator;
use shared::domain::Precondition;
use shared::store::StoreError;
use shared::{ApiError, App, http};
use std::convert::Infallible;

/// Admin only: 401 without a valid bearer token, 403 for a token without the admin group or scope.
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
    http::require_method(req, "DELETE")?;
    http::admin(auth, req).await?;
    let id = http::product_id(req, "id")?;
    let precondition = http::precondition(req)?;
    if matches!(
        precondition,
        Precondition::Absent | Precondition::MatchesNone(_)
    ) {
        return Err(ApiError::bad_request("DELETE honours If-Match only"));
    }
    match app.store().delete_product(&id, &precondition).await {
        Ok(()) => http::no_content(),
        // RFC 9110 §13.1.1: If-Match is false when there is no current representation.
        Err(StoreError::NotFound) if precondition != Precondition::None => {
            Err(ApiError::PreconditionFailed)
        }
        Err(StoreError::NotFound) => Err(ApiError::NotFound(format!("no product has id {id}"))),
        Err(other) => Err(other.into()),
    }
}

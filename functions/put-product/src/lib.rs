//! `PUT /products/{id}`: create (201) or replace (200) a product, honouring `If-Match` and
//! `If-None-Match`.
//!
//! Replacing needs a precondition (`If-Match` with the `ETag` read, or `If-None-Match` with tags):
//! a write without one only creates, and meets an existing product with 428 and no change. An
//! admin form saved from a stale read would otherwise set `stock` back over units sold since.
//!
//! One conditional `UpdateItem`: the precondition and the version bump happen inside DynamoDB, so
//! two admins racing on one product can never both win against the same `ETag`. A product whose
//! stock is, or is to be, split into buckets (`stock_buckets`) is written by one transaction over
//! its items after a read of them (`shared::store`, products).

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};
use shared::auth::Authenticator;
use shared::domain::{Precondition, ProductDraft};
use shared::http::BodyOf;
use shared::store::{PutOutcome, StoreError};
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
    http::require_method(req, "PUT")?;
    http::admin(auth, req).await?;
    let id = http::product_id(req, "id")?;
    let precondition = http::precondition(req)?;
    let body = http::json_body(req)?;
    let draft = ProductDraft::parse(&body).map_err(ApiError::invalid(BodyOf::Product))?;
    // No precondition: create only. The store checks absence in the same write.
    let create_only = precondition == Precondition::None;
    let precondition = if create_only {
        Precondition::Absent
    } else {
        precondition
    };
    let (outcome, product) = app
        .store()
        .put_product(&id, &draft, app.config().currency(), &precondition)
        .await
        .map_err(|err| match err {
            StoreError::PreconditionFailed if create_only => ApiError::PreconditionRequired(
                format!("product {id} exists: send If-Match with the ETag you read to replace it"),
            ),
            other => other.into(),
        })?;
    match outcome {
        PutOutcome::Replaced => http::json_with_etag(StatusCode::OK, &product.value, &product.etag),
        PutOutcome::Created => {
            let response =
                http::json_with_etag(StatusCode::CREATED, &product.value, &product.etag)?;
            // Ids are URL-safe by construction, so the path needs no escaping.
            http::with_header(response, header::LOCATION, &format!("/products/{id}"))
        }
    }
}

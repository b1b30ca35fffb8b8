//! `GET /products/{id}`: one product and its strong `ETag`.
//!
//! One consistent `GetItem` (and one `BatchGetItem` of its stock buckets when split: the stock
//! shown is their sum, the tag a digest of every item's). `If-None-Match` with the current tag answers 304 without a body. A
//! short public `Cache-Control` lets browsers and a CDN reuse the answer and revalidate it by tag.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::{ApiError, App, http};
use std::convert::Infallible;

pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Infallible> {
    http::finish(respond(app, &req).await)
}

async fn respond(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    http::require_method(req, "GET")?;
    let id = http::product_id(req, "id")?;
    let precondition = http::precondition(req)?;
    let product = app
        .store()
        .get_product(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no product has id {id}")))?;
    let response = if http::not_modified(&precondition, &product.etag) {
        http::not_modified_response(&product.etag)?
    } else {
        http::json_with_etag(StatusCode::OK, &product.value, &product.etag)?
    };
    http::cacheable(response)
}

//! `GET /products?limit=&cursor=`: the catalog in id order, one page per call.
//!
//! One `Query` on GSI1 per page. The cursor is opaque and tamper-evident; it carries the last id
//! of the previous page, so no server remembers where a client is.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::domain::{FieldError, Product, ProductId};
use shared::store::ListProducts;
use shared::{ApiError, App, http};
use std::convert::Infallible;

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;
/// Cursor scope: a cursor from another listing never opens here.
const SCOPE: &str = "products";

#[derive(Serialize)]
struct Listing<'a> {
    items: Vec<&'a Product>,
    next_cursor: Option<String>,
}

pub async fn handle<S: ListProducts + Sync>(
    app: &App<S>,
    req: Request,
) -> Result<Response<Body>, Infallible> {
    http::finish(respond(app, &req).await)
}

async fn respond<S: ListProducts + Sync>(
    app: &App<S>,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    http::require_method(req, "GET")?;
    let limit = http::limit_param(req, DEFAULT_LIMIT, MAX_LIMIT)?;
    let codec = app.config().cursor();
    let bad_cursor = || {
        ApiError::bad_field(FieldError::new(
            "cursor",
            "is not a cursor this API issued; start again without it",
        ))
    };
    let after = match http::query_param(req, "cursor")? {
        None => None,
        Some(cursor) => {
            let position = codec.open(SCOPE, &cursor).map_err(|_| bad_cursor())?;
            Some(ProductId::parse(&position).map_err(|_| bad_cursor())?)
        }
    };
    let page = app.store().list_products(after.as_ref(), limit).await?;
    let listing = Listing {
        items: page.items.iter().map(|p| &p.value).collect(),
        next_cursor: page.next.map(|id| codec.seal(SCOPE, id.as_str())),
    };
    http::json(StatusCode::OK, &listing)
}

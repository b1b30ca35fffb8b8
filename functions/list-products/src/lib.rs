//! `GET /products?limit=&cursor=`: the catalog in id order, one page per call.
//!
//! One `Query` on the listing index (keys only) and one consistent `BatchGetItem` of the page's products per
//! page (and one of the stock buckets of any split product on it). The cursor is opaque and tamper-evident; it carries the last id of the previous page, so
//! no server remembers where a client is. The page carries a strong `ETag` of its bytes and a short
//! public `Cache-Control`; `If-None-Match` with the current tag answers 304.

use lambda_http::{Body, Request, Response};
use shared::domain::{Product, ProductId};
use shared::http::Pager;
use shared::{ApiError, App, http};
use std::convert::Infallible;

pub use shared::http::{DEFAULT_LIMIT, MAX_LIMIT};

/// Cursor scope: a cursor from another listing never opens here.
const SCOPE: &str = "products";

pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Infallible> {
    http::finish(respond(app, &req).await)
}

async fn respond(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    http::require_method(req, "GET")?;
    let precondition = http::precondition(req)?;
    let pager = Pager::new(
        app.config().cursor(),
        SCOPE,
        "is not a cursor this API issued; start again without it",
    );
    let page = pager.request(req, ProductId::parse)?;
    let found = app
        .store()
        .list_products(page.after.as_ref(), page.limit)
        .await?;
    let items: Vec<&Product> = found.items.iter().map(|p| &p.value).collect();
    let response = pager.respond_tagged(
        &items,
        found.next.as_ref().map(ProductId::as_str),
        &precondition,
    )?;
    http::cacheable(response)
}

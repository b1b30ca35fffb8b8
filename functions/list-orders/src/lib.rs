//! `GET /orders?limit=&cursor=`: the caller's orders, newest first, one page per call.
//!
//! One consistent Query of the caller's partition per page (a list right after a 201 shows the
//! new order). The cursor is sealed for this caller: another
//! user's cursor is refused (400), so it can never page into someone else's orders.

use lambda_http::{Body, Request, Response};
use shared::auth::Authenticator;
use shared::domain::OrderId;
use shared::http::Pager;
use shared::{ApiError, App, http};
use std::convert::Infallible;

pub use shared::http::{DEFAULT_LIMIT, MAX_LIMIT};

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
    let scope = format!("orders:{}", caller.user());
    let pager = Pager::new(
        app.config().cursor(),
        &scope,
        "is not a cursor this API issued to you; start again without it",
    );
    let page = pager.request(req, OrderId::parse)?;
    let found = app
        .store()
        .list_orders(caller.user(), page.after.as_ref(), page.limit)
        .await?;
    pager.respond(&found.items, found.next.as_ref().map(OrderId::as_str))
}

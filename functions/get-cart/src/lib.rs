//! `GET /cart`: the caller's cart, priced from the catalog as it is now.
//!
//! One GetItem (the cart) and one BatchGetItem (its products). A product deleted since it was
//! added is shown with `"available": false` and counts for nothing in the total.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::auth::Authenticator;
use shared::domain::CartView;

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
    let cart = app.store().get_cart(caller.user()).await?;
    let products = app.store().get_products(&cart.product_ids()).await?;
    let view = CartView::price(&cart, &products, app.config().currency());
    http::json(StatusCode::OK, &view)
}

//! `GET /cart`: the caller's cart, priced from the catalog as it is now.
//!
//! One GetItem (the cart) and one BatchGetItem (its products). A product deleted since it was
//! added is shown with `"available": false` and counts for nothing in the total.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::auth::Authenticator;
use shared::store::{GetCart, GetProducts};
use shared::{ApiError, App, http, pricing};
use std::convert::Infallible;

/// Any signed-in user: 401 without a valid bearer token.
pub async fn handle<S: GetCart + GetProducts + Sync>(
    app: &App<S>,
    auth: &Authenticator,
    req: Request,
) -> Result<Response<Body>, Infallible> {
    http::finish(respond(app, auth, &req).await)
}

async fn respond<S: GetCart + GetProducts + Sync>(
    app: &App<S>,
    auth: &Authenticator,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    http::require_method(req, "GET")?;
    let caller = auth.authenticate(req.headers()).await?;
    let cart = app.store().get_cart(caller.user()).await?;
    let view = pricing::cart_view(app.store(), &cart, app.config().currency().as_str()).await?;
    http::json(StatusCode::OK, &view)
}

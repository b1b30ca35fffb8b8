//! `DELETE /cart/items/{product_id}`: remove one line of the caller's cart; 204 whether or not it
//! was there (the end state is the same, so a retry is harmless).
//!
//! One conditional UpdateItem.

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
    http::require_method(req, "DELETE")?;
    let caller = http::caller(auth, req).await?;
    let product_id = http::product_id(req, "product_id")?;
    app.store()
        .remove_cart_line(caller.user(), &product_id)
        .await?;
    http::no_content()
}

//! `PUT /cart/items/{product_id}` with `{"quantity": 1..=99}`: set one line of the caller's cart
//! and answer with the whole cart.
//!
//! A BatchGetItem of the product (it must exist: 404 otherwise), one UpdateItem on the cart (a
//! PutItem for a first line), and one BatchGetItem of the cart's other products, if any, to price
//! the answer (the line's own product priced from the first read). A product whose stock is
//! split into buckets (a hot one) is read at most once a second per instance for both
//! (`DynamoStore::shop_products`), so a sale's add-to-carts do not all land on its item. The cart holds at most
//! [`MAX_CART_LINES`](shared::domain::MAX_CART_LINES) products (422 past that), enforced inside
//! DynamoDB so concurrent requests cannot overshoot it.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::auth::Authenticator;
use shared::domain::{CartView, MAX_CART_LINES, Quantity};
use shared::http::{BodyOf, ProblemKind};
use shared::store::CartChange;
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
    http::require_method(req, "PUT")?;
    let caller = http::caller(auth, req).await?;
    let product_id = http::product_id(req, "product_id")?;
    let quantity = Quantity::parse_body(&http::json_body(req)?)
        .map_err(ApiError::invalid(BodyOf::CartLine))?;
    let mut products = app
        .store()
        .shop_products(std::slice::from_ref(&product_id))
        .await?;
    if products.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no product has id {product_id}"
        )));
    }
    let cart = match app
        .store()
        .set_cart_line(caller.user(), &product_id, quantity)
        .await?
    {
        CartChange::Updated(cart) => cart,
        CartChange::Full => {
            return Err(ApiError::Unprocessable {
                kind: ProblemKind::CartFull,
                detail: format!(
                    "a cart holds at most {MAX_CART_LINES} different products; remove one first"
                ),
            });
        }
    };
    // The line's product was read a moment ago: only the cart's other products are read to price
    // the answer (none for a one-line cart), which saves a round trip on every call.
    let others: Vec<_> = cart
        .product_ids()
        .into_iter()
        .filter(|id| *id != product_id)
        .collect();
    if !others.is_empty() {
        products.extend(app.store().shop_products(&others).await?);
    }
    let view = CartView::price(&cart, &products, app.config().currency());
    http::json(StatusCode::OK, &view)
}

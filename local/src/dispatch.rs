//! In-process dispatch: a route's function, called as its own handler in this process. The only
//! part of routing that knows the function crates; the table itself is `devkit::routes`.

use devkit::routes::Function;
use lambda_http::{Body, Request, Response};
use shared::App;
use shared::auth::Authenticator;

/// Calls `function`'s own handler, as its `main` does on Lambda.
pub async fn invoke(
    function: Function,
    app: &App,
    auth: &Authenticator,
    req: Request,
) -> Response<Body> {
    let result = match function {
        Function::ListProducts => list_products::handle(app, req).await,
        Function::GetProduct => get_product::handle(app, req).await,
        Function::PutProduct => put_product::handle(app, auth, req).await,
        Function::DeleteProduct => delete_product::handle(app, auth, req).await,
        Function::GetCart => get_cart::handle(app, auth, req).await,
        Function::PutCartItem => put_cart_item::handle(app, auth, req).await,
        Function::DeleteCartItem => delete_cart_item::handle(app, auth, req).await,
        Function::PlaceOrder => place_order::handle(app, auth, req).await,
        Function::ListOrders => list_orders::handle(app, auth, req).await,
        Function::GetOrder => get_order::handle(app, auth, req).await,
        Function::CancelOrder => cancel_order::handle(app, auth, req).await,
    };
    match result {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

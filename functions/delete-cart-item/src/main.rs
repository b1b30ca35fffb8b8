//! Lambda entry point for `DELETE /cart/items/{product_id}`: build config, client and key set once, then serve invocations.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    // The DynamoDB client and the issuer's key set load concurrently, both before the first request.
    let (app, auth) = tokio::join!(
        shared::App::from_env(),
        shared::auth::Authenticator::from_env()
    );
    let app =
        app.unwrap_or_else(|err| shared::telemetry::exit_at_startup("delete-cart-item", &err));
    let auth =
        auth.unwrap_or_else(|err| shared::telemetry::exit_at_startup("delete-cart-item", &err));
    shared::telemetry::serve("delete-cart-item", |req| {
        delete_cart_item::handle(&app, &auth, req)
    })
    .await
}

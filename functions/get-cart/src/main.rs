//! Lambda entry point for `GET /cart`: build config, client and key set once, then serve invocations.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    // The DynamoDB client and the issuer's key set load concurrently, both before the first request.
    let (app, auth) = tokio::join!(
        shared::App::from_env(),
        shared::auth::Authenticator::from_env()
    );
    let app = app.unwrap_or_else(|err| shared::telemetry::exit_at_startup("get-cart", &err));
    let auth = auth.unwrap_or_else(|err| shared::telemetry::exit_at_startup("get-cart", &err));
    shared::telemetry::serve("get-cart", |req| get_cart::handle(&app, &auth, req)).await
}

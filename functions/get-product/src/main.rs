//! Lambda entry point for `GET /products/{id}`: build config and client once, then serve invocations.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let app = shared::App::from_env()
        .await
        .unwrap_or_else(|err| shared::telemetry::exit_at_startup("get-product", &err));
    shared::telemetry::serve("get-product", |req| get_product::handle(&app, req)).await
}

//! Lambda entry point for `GET /products?limit=&cursor=`: build config and client once, then serve invocations.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let app = shared::App::from_env()
        .await
        .unwrap_or_else(|err| shared::telemetry::exit_at_startup("list-products", &err));
    shared::telemetry::serve("list-products", |req| list_products::handle(&app, req)).await
}

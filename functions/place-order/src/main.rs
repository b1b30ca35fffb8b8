//! Lambda entry point for `POST /orders`: build config, client and key set once, then serve invocations.

use lambda_http::Error;

// One thread: Lambda sends an environment one invocation at a time, and the bench measured a
// multi-threaded runtime's hand-offs between workers at 200 µs of CPU per request (get-product:
// 470 → 270 µs, warm p50 690 → 490 µs, init 3.4 → 2.8 ms). Concurrency (key set and DynamoDB
// during init) needs no second thread.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    // The DynamoDB client and the issuer's key set load concurrently, both before the first request.
    let (app, auth) = tokio::join!(
        shared::App::from_env(),
        shared::auth::Authenticator::from_env()
    );
    let app = app.unwrap_or_else(|err| shared::telemetry::exit_at_startup("place-order", &err));
    let auth = auth.unwrap_or_else(|err| shared::telemetry::exit_at_startup("place-order", &err));
    shared::telemetry::serve("place-order", |req| place_order::handle(&app, &auth, req)).await
}

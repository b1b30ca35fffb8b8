//! Lambda entry point for `POST /orders/{id}/cancel`: everything but the handler is `shared::lambda::run`'s
//! (logging, config, client, key set, one thread; see its docs).

use shared::lambda::{Bearer, run};

fn main() -> Result<(), lambda_http::Error> {
    run("cancel-order", Bearer, cancel_order::handle)
}

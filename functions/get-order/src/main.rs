//! Lambda entry point for `GET /orders/{id}`: everything but the handler is `shared::lambda::run`'s
//! (logging, config, client, key set, one thread; see its docs).

use shared::lambda::{Bearer, run};

fn main() -> Result<(), lambda_http::Error> {
    run("get-order", Bearer, get_order::handle)
}

//! Lambda entry point for `POST /orders`: everything but the handler is `shared::lambda::run`'s
//! (logging, config, client, key set, one thread; see its docs).

use shared::lambda::{Bearer, run};

fn main() -> Result<(), lambda_http::Error> {
    run("place-order", Bearer, place_order::handle)
}

//! Lambda entry point for `GET /orders?limit=&cursor=`: everything but the handler is `shared::lambda::run`'s
//! (logging, config, client, key set, one thread; see its docs).

use shared::lambda::{Bearer, run};

fn main() -> Result<(), lambda_http::Error> {
    run("list-orders", Bearer, list_orders::handle)
}

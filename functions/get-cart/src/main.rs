//! Lambda entry point for `GET /cart`: everything but the handler is `shared::lambda::run`'s
//! (logging, config, client, key set, one thread; see its docs).

use shared::lambda::{Bearer, run};

fn main() -> Result<(), lambda_http::Error> {
    run("get-cart", Bearer, get_cart::handle)
}

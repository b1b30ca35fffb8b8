//! Lambda entry point for `GET /products/{id}`: everything but the handler is `shared::lambda::run`'s
//! (logging, config, client, one thread; see its docs).

use shared::lambda::{Public, run};

fn main() -> Result<(), lambda_http::Error> {
    run("get-product", Public, get_product::handle)
}

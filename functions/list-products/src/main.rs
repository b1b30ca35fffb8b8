//! Lambda entry point for `GET /products?limit=&cursor=`: everything but the handler is `shared::lambda::run`'s
//! (logging, config, client, one thread; see its docs).

use shared::lambda::{Public, run};

fn main() -> Result<(), lambda_http::Error> {
    run("list-products", Public, list_products::handle)
}

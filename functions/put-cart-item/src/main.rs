//! Lambda entry point for `PUT /cart/items/{product_id}`: everything but the handler is `shared::lambda::run`'s
//! (logging, config, client, key set, one thread; see its docs).

use shared::lambda::{Bearer, run};

fn main() -> Result<(), lambda_http::Error> {
    run("put-cart-item", Bearer, put_cart_item::handle)
}

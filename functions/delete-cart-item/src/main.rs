//! Lambda entry point for `DELETE /cart/items/{product_id}`: everything but the handler is `shared::lambda::run`'s
//! (logging, config, client, key set, one thread; see its docs).

use shared::lambda::{Bearer, run};

fn main() -> Result<(), lambda_http::Error> {
    run("delete-cart-item", Bearer, delete_cart_item::handle)
}

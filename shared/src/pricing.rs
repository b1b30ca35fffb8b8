//! Prices a cart from the catalog as it is now: shared by every route that answers with the cart.

use crate::domain::{Cart, CartView, ProductId};
use crate::error::ApiError;
use crate::store::GetProducts;

/// The cart's lines with current names and prices (one BatchGetItem; none for an empty cart).
pub async fn cart_view<S: GetProducts + Sync>(
    store: &S,
    cart: &Cart,
    currency: &str,
) -> Result<CartView, ApiError> {
    let ids = cart
        .lines
        .keys()
        .map(|id| {
            ProductId::parse(id)
                .map_err(|e| ApiError::Internal(format!("stored cart line: {e}").into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let products = store.get_products(&ids).await?;
    Ok(CartView::price(cart, &products, currency))
}

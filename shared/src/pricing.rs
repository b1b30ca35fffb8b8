//! Prices a cart from the catalog as it is now: shared by every route that answers with the cart.

use crate::domain::{Cart, CartView};
use crate::error::ApiError;
use crate::store::GetProducts;

/// The cart's lines with current names and prices (one BatchGetItem; none for an empty cart).
pub async fn cart_view<S: GetProducts + Sync>(
    store: &S,
    cart: &Cart,
    currency: &str,
) -> Result<CartView, ApiError> {
    let ids = cart
        .product_ids()
        .map_err(|e| ApiError::Internal(format!("stored cart line: {e}").into()))?;
    let products = store.get_products(&ids).await?;
    Ok(CartView::price(cart, &products, currency))
}

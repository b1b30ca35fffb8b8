//! Key values of every item type (see [`super::schema`] for the layout table).

use crate::domain::UserId;
use serde::Serialize;

/// A base-table key.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub(super) struct Key {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
}

/// Sort key of a user's cart.
pub(super) const CART_SK: &str = "CART";
/// Sort key prefix of a user's orders; the rest is the order id (a UUIDv7, so time-ordered).
pub(super) const ORDER_SK_PREFIX: &str = "ORDER#";
/// Sort key prefix of a user's idempotency records; the rest is the key as sent.
pub(super) const IDEMPOTENCY_SK_PREFIX: &str = "IDEMPOTENCY#";

/// Sort key of the item counting a user's placed (not cancelled) orders, for the open-orders cap.
/// Not under [`ORDER_SK_PREFIX`], so listing orders never reads it.
pub(super) const OPEN_ORDERS_SK: &str = "OPEN_ORDERS";

/// The partition of everything that belongs to one user: cart, orders, idempotency records.
pub(super) fn user_pk(user: &UserId) -> String {
    format!("USER#{user}")
}

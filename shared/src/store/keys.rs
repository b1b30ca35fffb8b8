//! The one home of every key: the item alias, and the key values of every item type (see
//! [`super::schema`] for the layout table).

use super::error::StoreError;
use crate::domain::{IdempotencyKey, OrderId, ProductId, UserId};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use std::collections::HashMap;

/// A DynamoDB item (or key) as the SDK holds it. Never leaves the store.
pub(super) type Item = HashMap<String, AttributeValue>;

/// Any serde value as an item.
pub(super) fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(StoreError::corrupt)
}

/// A base-table key.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub(super) struct Key {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
}

impl Key {
    pub(super) fn item(&self) -> Result<Item, StoreError> {
        to_item(self)
    }
}

/// Sort key of a product item.
pub(super) const PRODUCT_SK: &str = "PRODUCT";
/// Sort key of a stock bucket item.
pub(super) const STOCK_SK: &str = "STOCK";
/// The one listing-index partition that holds every product, so one query pages through the catalog.
pub(super) const LISTING_PARTITION: &str = "PRODUCTS";
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

pub(super) fn product(id: &ProductId) -> Key {
    Key {
        pk: format!("PRODUCT#{id}"),
        sk: PRODUCT_SK.to_owned(),
    }
}

/// Bucket `bucket` (1 to K-1) of a product whose stock is split over K items. Each bucket is its
/// own partition key, since items that share one share its throughput too; bucket 0 is the
/// product item itself. Ids never hold `#`, so no bucket key is a product's.
pub(super) fn stock_bucket(id: &ProductId, bucket: usize) -> Key {
    Key {
        pk: format!("PRODUCT#{id}#{bucket}"),
        sk: STOCK_SK.to_owned(),
    }
}

/// The item that holds bucket `bucket` of a product's stock.
pub(super) fn stock_holder(id: &ProductId, bucket: usize) -> Key {
    if bucket == 0 {
        product(id)
    } else {
        stock_bucket(id, bucket)
    }
}

/// A product's full listing-index key: what `ExclusiveStartKey` needs to resume a listing after it.
pub(super) fn product_in_listing(id: &ProductId) -> Result<Item, StoreError> {
    #[derive(Serialize)]
    struct IndexKey<'a> {
        #[serde(flatten)]
        base: Key,
        #[serde(rename = "GSI1PK")]
        gsi1pk: &'a str,
        #[serde(rename = "GSI1SK")]
        gsi1sk: &'a str,
    }
    to_item(&IndexKey {
        base: product(id),
        gsi1pk: LISTING_PARTITION,
        gsi1sk: id.as_str(),
    })
}

pub(super) fn cart(user: &UserId) -> Key {
    Key {
        pk: user_pk(user),
        sk: CART_SK.to_owned(),
    }
}

pub(super) fn order(user: &UserId, id: &OrderId) -> Key {
    Key {
        pk: user_pk(user),
        sk: format!("{ORDER_SK_PREFIX}{id}"),
    }
}

pub(super) fn record(user: &UserId, key: &IdempotencyKey) -> Key {
    Key {
        pk: user_pk(user),
        sk: format!("{IDEMPOTENCY_SK_PREFIX}{}", key.as_str()),
    }
}

pub(super) fn open_orders(user: &UserId) -> Key {
    Key {
        pk: user_pk(user),
        sk: OPEN_ORDERS_SK.to_owned(),
    }
}

//! Orders and idempotency records (`PK = USER#<sub>`): their items, and the reads of orders and
//! of a checkout's state. The checkout's and the cancel's transactions are in `checkout` and
//! `cancel`.

use super::client::DynamoStore;
use super::error::StoreError;
use super::expr::{Expr, OnFailure, WithPlaceholders, n, s};
use super::keys::{self, Item, ORDER_SK_PREFIX, user_pk};
use super::ops::OrderPage;
use super::page::{page_fetch, page_of};
use crate::domain::{Cart, IdempotencyKey, IdempotencyRecord, Order, OrderId, UserId};
use aws_sdk_dynamodb::types::TransactWriteItem;
use serde::{Deserialize, Serialize};

/// Idempotency records expire (DynamoDB TTL) this long after the order they answer.
pub const IDEMPOTENCY_TTL_SECS: u64 = 24 * 3600;

#[derive(Serialize, Deserialize)]
pub(super) struct OrderItem {
    #[serde(rename = "PK")]
    pub(super) pk: String,
    #[serde(rename = "SK")]
    pub(super) sk: String,
    pub(super) entity: String,
    #[serde(flatten)]
    pub(super) order: Order,
    /// `true` on every order placed since the open-order counter exists: its cancel gives the
    /// place back. Absent on older orders, whose cancel must not (they never took one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) counts_open: Option<bool>,
}

/// An idempotency record: the request's fingerprint and the order it placed.
///
/// The order is kept whole (`body`, its JSON as answered) so a replay answers the same bytes
/// without reading the order item, which its owner may have cancelled since. `status` and
/// `location` are what the previous release reads: written still, so both releases can serve
/// the same table during a deploy, and never read here.
#[derive(Serialize, Deserialize)]
pub(super) struct RecordItem {
    #[serde(rename = "PK")]
    pub(super) pk: String,
    #[serde(rename = "SK")]
    pub(super) sk: String,
    pub(super) entity: String,
    pub(super) fingerprint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) order_id: Option<OrderId>,
    pub(super) status: u16,
    pub(super) body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) location: Option<String>,
    /// Epoch seconds; the table's TTL attribute.
    pub(super) expires_at: u64,
}

impl RecordItem {
    /// The order this record answers with.
    fn order(&self) -> Result<Order, StoreError> {
        serde_json::from_str(&self.body).map_err(|e| StoreError::Internal(Box::new(e)))
    }
}

fn order_from_item(item: Item) -> Result<Order, StoreError> {
    serde_dynamo::from_item::<_, OrderItem>(item)
        .map(|i| i.order)
        .map_err(StoreError::corrupt)
}

pub(super) fn epoch_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The change of a user's count of open orders inside a transaction (`delta` is +1 for a
/// checkout, -1 for a cancel), under `condition`, built on `e`.
pub(super) fn open_orders_change(
    table: &str,
    user: &UserId,
    delta: i64,
    mut e: Expr,
    condition: String,
) -> Result<TransactWriteItem, StoreError> {
    let open = e.name("open_orders");
    let update = format!(
        "SET {open} = if_not_exists({open}, {zero}) + {delta}, {entity} = {kind}",
        zero = e.value("zero", n(0)),
        delta = e.value("delta", n(delta)),
        entity = e.name("entity"),
        kind = e.value("entity", s("open-orders")),
    );
    e.transact_update(
        table,
        &keys::open_orders(user),
        update,
        condition,
        OnFailure::Nothing,
    )
}

impl DynamoStore {
    /// The caller's cart and the record of `key` (if it has a live one), in one read.
    pub async fn checkout_state(
        &self,
        user: &UserId,
        key: &IdempotencyKey,
    ) -> Result<(Cart, Option<IdempotencyRecord>), StoreError> {
        let (cart, record) =
            super::carts::cart_and(self, user, keys::record(user, key).item()?).await?;
        let now = epoch_secs();
        let record = match record {
            Some(item) => {
                let r: RecordItem = serde_dynamo::from_item(item).map_err(StoreError::corrupt)?;
                // TTL deletion can lag by days: an expired record is treated as absent.
                if r.expires_at > now {
                    Some(IdempotencyRecord {
                        order: r.order()?,
                        fingerprint: r.fingerprint,
                    })
                } else {
                    None
                }
            }
            None => None,
        };
        Ok((cart, record))
    }
}

impl DynamoStore {
    /// `GET /orders`: one Query of the caller's partition, newest first.
    pub async fn list_orders(
        &self,
        user: &UserId,
        after: Option<&OrderId>,
        limit: usize,
    ) -> Result<OrderPage, StoreError> {
        let start = after.map(|id| keys::order(user, id).item()).transpose()?;
        let mut e = Expr::new();
        let condition = format!(
            "{} = {} AND begins_with({}, {})",
            e.name("PK"),
            e.value("pk", s(user_pk(user))),
            e.name("SK"),
            e.value("prefix", s(ORDER_SK_PREFIX))
        );
        let bound = e.done(&[&condition])?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(condition)
            .placeholders(bound)
            .scan_index_forward(false)
            // Read your own writes: a list right after a 201 must show the new order.
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .limit(page_fetch(limit))
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        let (items, more) = page_of(
            out.items,
            out.last_evaluated_key.is_some(),
            limit,
            order_from_item,
        )?;
        let next = items.last().filter(|_| more).map(|last| last.id.clone());
        Ok(OrderPage { items, next })
    }
}

impl DynamoStore {
    /// `GET /orders/{id}`: one GetItem in the caller's partition (someone else's order is not there).
    pub async fn get_order(
        &self,
        user: &UserId,
        id: &OrderId,
    ) -> Result<Option<Order>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keys::order(user, id).item()?))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        out.item.map(order_from_item).transpose()
    }
}

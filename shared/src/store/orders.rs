//! Orders and idempotency records (`PK = USER#<sub>`), and the checkout and cancel transactions.

use super::carts::cart_key;
use super::keys::{IDEMPOTENCY_SK_PREFIX, Key, OPEN_ORDERS_SK, ORDER_SK_PREFIX, user_pk};
use super::products::product_key;
use super::{
    CancelOrder, CancelOutcome, Checkout, CheckoutPlan, CommitOutcome, DynamoStore, GetOrder, Item,
    LineReason, LineRejection, ListOrders, OrderPage, StoreError, page_fetch, page_of, to_item,
};
use crate::domain::{
    Cart, EntityTag, IdempotencyKey, IdempotencyRecord, Order, OrderId, OrderStatus, UserId,
    now_rfc3339,
};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// Idempotency records expire (DynamoDB TTL) this long after the order they answer.
pub const IDEMPOTENCY_TTL_SECS: u64 = 24 * 3600;
/// Attempts at a transaction that DynamoDB cancels for a conflicting concurrent transaction.
const TRANSACTION_ATTEMPTS: u32 = 6;

#[derive(Serialize, Deserialize)]
struct OrderItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    #[serde(flatten)]
    order: Order,
    /// `true` on every order placed since the open-order counter exists: its cancel gives the
    /// place back. Absent on older orders, whose cancel must not (they never took one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    counts_open: Option<bool>,
}

#[derive(Serialize, Deserialize)]
struct RecordItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    fingerprint: String,
    status: u16,
    body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    location: Option<String>,
    /// Epoch seconds; the table's TTL attribute.
    expires_at: u64,
}

fn order_key(user: &UserId, id: &str) -> Result<Item, StoreError> {
    to_item(&Key {
        pk: user_pk(user),
        sk: format!("{ORDER_SK_PREFIX}{id}"),
    })
}

fn record_key(user: &UserId, key: &IdempotencyKey) -> Result<Item, StoreError> {
    to_item(&Key {
        pk: user_pk(user),
        sk: format!("{IDEMPOTENCY_SK_PREFIX}{}", key.as_str()),
    })
}

fn order_from_item(item: Item) -> Result<Order, StoreError> {
    serde_dynamo::from_item::<_, OrderItem>(item)
        .map(|i| i.order)
        .map_err(StoreError::corrupt)
}

fn epoch_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A pause before retrying a conflicted transaction: exponential, with full jitter, so competing
/// writers spread out instead of colliding again in lockstep.
async fn backoff(attempt: u32) {
    use std::hash::{BuildHasher, Hasher};
    let ceiling_ms = 5u64 << attempt.min(6);
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    tokio::time::sleep(Duration::from_millis(random % ceiling_ms.max(1))).await;
}

fn code(reason: &CancellationReason) -> &str {
    reason.code().unwrap_or("None")
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn build<T, E: std::error::Error + Send + Sync + 'static>(
    built: Result<T, E>,
) -> Result<T, StoreError> {
    built.map_err(|e| StoreError::Internal(Box::new(e)))
}

/// The stock change of one product inside a transaction: `delta` is negative to take stock,
/// positive to give it back. A new entity tag and version, because the product changed.
fn stock_update(
    table: &str,
    product_id: &str,
    delta: i64,
    condition: &str,
    extra: &[(&str, AttributeValue)],
) -> Result<TransactWriteItem, StoreError> {
    let id = crate::domain::ProductId::parse(product_id)
        .map_err(|e| StoreError::Internal(e.to_string().into()))?;
    let mut update = Update::builder()
        .table_name(table)
        .set_key(Some(product_key(&id)?))
        .update_expression("SET #stock = #stock + :delta, #version = #version + :one, #etag = :etag, #updated = :now")
        .condition_expression(condition)
        .expression_attribute_names("#stock", "stock")
        .expression_attribute_names("#version", "version")
        .expression_attribute_names("#etag", "etag")
        .expression_attribute_names("#updated", "updated_at")
        .expression_attribute_names("#pk", "PK")
        .expression_attribute_values(":delta", n(delta))
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":etag", s(EntityTag::mint().as_str()))
        .expression_attribute_values(":now", s(now_rfc3339()))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    for (name, value) in extra {
        update = update.expression_attribute_values(*name, value.clone());
    }
    if condition.contains("#price") {
        update = update.expression_attribute_names("#price", "price");
    }
    Ok(TransactWriteItem::builder()
        .update(build(update.build())?)
        .build())
}

/// The change of a user's count of open orders inside a transaction (`delta` is +1 for a
/// checkout, -1 for a cancel), under `condition` (`:cap` is bound when `cap` is given).
fn open_orders_change(
    table: &str,
    user: &UserId,
    delta: i64,
    condition: &str,
    cap: Option<u32>,
) -> Result<TransactWriteItem, StoreError> {
    let mut update = Update::builder()
        .table_name(table)
        .set_key(Some(to_item(&Key {
            pk: user_pk(user),
            sk: OPEN_ORDERS_SK.to_owned(),
        })?))
        .update_expression("SET #open = if_not_exists(#open, :zero) + :delta, #entity = :entity")
        .condition_expression(condition)
        .expression_attribute_names("#open", "open_orders")
        .expression_attribute_names("#entity", "entity")
        .expression_attribute_values(":zero", n(0))
        .expression_attribute_values(":delta", n(delta))
        .expression_attribute_values(":entity", s("open-orders"));
    if let Some(cap) = cap {
        update = update.expression_attribute_values(":cap", n(cap));
    }
    Ok(TransactWriteItem::builder()
        .update(build(update.build())?)
        .build())
}

/// Why a transaction was cancelled, per item, or the error that is not a cancellation.
enum Sent {
    Ok,
    Cancelled(Vec<CancellationReason>),
    InProgress,
}

impl DynamoStore {
    /// Sends a transaction, retrying (with jittered backoff) while DynamoDB cancels it only for
    /// conflicting with another transaction in flight.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Sent, StoreError> {
        for attempt in 0..TRANSACTION_ATTEMPTS {
            let sent = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let err = match sent {
                Ok(_) => return Ok(Sent::Ok),
                Err(err) => err,
            };
            match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
                    let reasons = e.cancellation_reasons().to_vec();
                    let conflicted = reasons.iter().any(|r| code(r) == "TransactionConflict");
                    let throttled = reasons.iter().any(|r| {
                        matches!(
                            code(r),
                            "ThrottlingError"
                                | "ProvisionedThroughputExceeded"
                                | "RequestLimitExceeded"
                        )
                    });
                    if (conflicted || throttled) && attempt + 1 < TRANSACTION_ATTEMPTS {
                        backoff(attempt).await;
                        continue;
                    }
                    if conflicted || throttled {
                        return Err(StoreError::Unavailable(Box::new(err)));
                    }
                    return Ok(Sent::Cancelled(reasons));
                }
                // The SDK's retry of a send whose first attempt is still running in DynamoDB (after
                // an attempt timeout): that attempt may yet commit, so the caller must not assume
                // either outcome.
                Some(TransactWriteItemsError::TransactionInProgressException(_)) => {
                    return Ok(Sent::InProgress);
                }
                _ => return Err(StoreError::from_sdk(err)),
            }
        }
        Err(StoreError::Unavailable(
            "transaction kept conflicting".into(),
        ))
    }
}

impl Checkout for DynamoStore {
    async fn checkout_state(
        &self,
        user: &UserId,
        key: &IdempotencyKey,
    ) -> Result<(Cart, Option<IdempotencyRecord>), StoreError> {
        let (cart, record) = super::carts::cart_and(self, user, record_key(user, key)?).await?;
        let now = epoch_secs();
        let record = match record {
            Some(item) => {
                let r: RecordItem = serde_dynamo::from_item(item).map_err(StoreError::corrupt)?;
                // TTL deletion can lag by days: an expired record is treated as absent.
                (r.expires_at > now).then_some(IdempotencyRecord {
                    fingerprint: r.fingerprint,
                    status: r.status,
                    body: r.body,
                    location: r.location,
                })
            }
            None => None,
        };
        Ok((cart, record))
    }

    async fn commit_checkout(&self, plan: &CheckoutPlan<'_>) -> Result<CommitOutcome, StoreError> {
        let order = plan.order;
        let now = epoch_secs();
        let mut items = Vec::with_capacity(order.items.len() + 4);
        for line in &order.items {
            items.push(stock_update(
                &self.table,
                &line.product_id,
                -i64::from(line.quantity),
                "attribute_exists(#pk) AND #price = :price AND #stock >= :quantity",
                &[
                    (":price", n(line.unit_price)),
                    (":quantity", n(line.quantity)),
                ],
            )?);
        }
        let order_item = to_item(&OrderItem {
            pk: user_pk(plan.user),
            sk: format!("{ORDER_SK_PREFIX}{}", order.id),
            entity: "order".into(),
            order: order.clone(),
            counts_open: Some(true),
        })?;
        items.push(
            TransactWriteItem::builder()
                .put(build(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(order_item))
                        .condition_expression("attribute_not_exists(PK)")
                        .build(),
                )?)
                .build(),
        );
        // The cart is emptied, not deleted, and only if it is still the version that was priced.
        // Never deleting it keeps its version growing for as long as the user exists: a cart
        // that was deleted and created again would start over at version 1, so a checkout held
        // between its read and its write could match a different cart that only looks like the
        // one it priced (a lost line and a double order).
        items.push(
            TransactWriteItem::builder()
                .update(build(
                    Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(cart_key(plan.user)?))
                        .update_expression(
                            "SET #lines = :empty, #version = #version + :one, #updated = :now",
                        )
                        .condition_expression("#version = :version")
                        .expression_attribute_names("#lines", "lines")
                        .expression_attribute_names("#version", "version")
                        .expression_attribute_names("#updated", "updated_at")
                        .expression_attribute_values(":empty", AttributeValue::M(HashMap::new()))
                        .expression_attribute_values(":one", n(1))
                        .expression_attribute_values(":now", s(now_rfc3339()))
                        .expression_attribute_values(":version", n(plan.cart_version))
                        .build(),
                )?)
                .build(),
        );
        let record = to_item(&RecordItem {
            pk: user_pk(plan.user),
            sk: format!("{IDEMPOTENCY_SK_PREFIX}{}", plan.key.as_str()),
            entity: "idempotency".into(),
            fingerprint: plan.record.fingerprint.clone(),
            status: plan.record.status,
            body: plan.record.body.clone(),
            location: plan.record.location.clone(),
            expires_at: now + IDEMPOTENCY_TTL_SECS,
        })?;
        items.push(
            TransactWriteItem::builder()
                .put(build(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(record))
                        .condition_expression("attribute_not_exists(PK) OR #expires < :now")
                        .expression_attribute_names("#expires", "expires_at")
                        .expression_attribute_values(":now", n(now))
                        .build(),
                )?)
                .build(),
        );
        // The user's open orders, counted in their partition and capped in the same transaction:
        // however many checkouts run at once, no more than the cap can commit.
        items.push(open_orders_change(
            &self.table,
            plan.user,
            1,
            "attribute_not_exists(#open) OR #open < :cap",
            Some(plan.max_open_orders),
        )?);
        // No ClientRequestToken of ours. One derived from (user, key) would be sent again by the
        // handler's next attempt with a different transaction (new order id, tag and timestamps),
        // which DynamoDB answers with IdempotentParameterMismatch for 10 minutes; and two stacks
        // sharing an issuer would share tokens. The SDK attaches a fresh token per call and keeps
        // it across its own retries, so a retry of one send cannot commit twice; a second send for
        // the same key cannot either, because the key's record is written only if absent.
        let reasons = match self.transact(items).await? {
            Sent::Ok => return Ok(CommitOutcome::Committed),
            Sent::InProgress => return Ok(CommitOutcome::InProgress),
            Sent::Cancelled(reasons) => reasons,
        };
        let lines = order.items.len();
        let failed = |i: usize| {
            reasons
                .get(i)
                .is_some_and(|r| code(r) == "ConditionalCheckFailed")
        };
        if failed(lines + 2) {
            return Ok(CommitOutcome::KeyTaken);
        }
        let mut rejected = Vec::new();
        for (i, line) in order.items.iter().enumerate() {
            if !failed(i) {
                continue;
            }
            let current = reasons[i]
                .item()
                .cloned()
                .map(serde_dynamo::from_item::<_, crate::domain::Product>)
                .transpose()
                .map_err(StoreError::corrupt)?;
            let reason = match current {
                None => LineReason::Missing,
                Some(p) if p.stock < i64::from(line.quantity) => {
                    LineReason::Short { available: p.stock }
                }
                Some(p) => LineReason::PriceChanged { price: p.price },
            };
            rejected.push(LineRejection {
                product_id: line.product_id.clone(),
                reason,
            });
        }
        if !rejected.is_empty() {
            return Ok(CommitOutcome::LinesRejected(rejected));
        }
        if failed(lines + 1) {
            return Ok(CommitOutcome::CartChanged);
        }
        if failed(lines + 3) {
            return Ok(CommitOutcome::TooManyOpenOrders);
        }
        let codes: Vec<&str> = reasons.iter().map(code).collect();
        Err(StoreError::Internal(
            format!("checkout transaction cancelled: {codes:?}").into(),
        ))
    }
}

impl ListOrders for DynamoStore {
    async fn list_orders(
        &self,
        user: &UserId,
        after: Option<&OrderId>,
        limit: usize,
    ) -> Result<OrderPage, StoreError> {
        let start = after.map(|id| order_key(user, id.as_str())).transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", "PK")
            .expression_attribute_names("#sk", "SK")
            .expression_attribute_values(":pk", s(user_pk(user)))
            .expression_attribute_values(":prefix", s(ORDER_SK_PREFIX))
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
        let next = match items.last() {
            Some(last) if more => Some(
                OrderId::parse(&last.id).map_err(|e| StoreError::Internal(e.to_string().into()))?,
            ),
            _ => None,
        };
        Ok(OrderPage { items, next })
    }
}

impl GetOrder for DynamoStore {
    async fn get_order(&self, user: &UserId, id: &OrderId) -> Result<Option<Order>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(order_key(user, id.as_str())?))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        out.item.map(order_from_item).transpose()
    }
}

impl CancelOrder for DynamoStore {
    async fn cancel_order(
        &self,
        user: &UserId,
        order: &Order,
    ) -> Result<CancelOutcome, StoreError> {
        // Products deleted since the order was placed get no stock back; they are found (and
        // left out) when their condition fails, at most once each.
        let mut gone: HashSet<String> = HashSet::new();
        let mut restock: HashMap<&str, i64> = HashMap::new();
        for line in &order.items {
            *restock.entry(line.product_id.as_str()).or_default() += i64::from(line.quantity);
        }
        // Whether the order took a place in the open-order counter (the order item says; assumed
        // until its condition says otherwise), and whether to give it back (skipped only if the
        // counter is already at 0, which a consistent table never shows).
        let mut counted = true;
        let mut decrement = true;
        let mut learned_counted = false;
        // Each round settles at least one product, the counter or the marker, so this many suffice.
        for _ in 0..=order.items.len() + 2 {
            let cancelled_at = now_rfc3339();
            let marker = if counted {
                "#status = :placed AND #counts = :yes"
            } else {
                "#status = :placed AND attribute_not_exists(#counts)"
            };
            let mut update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(order_key(user, &order.id)?))
                .update_expression("SET #status = :cancelled, #cancelled_at = :now")
                .condition_expression(marker)
                .expression_attribute_names("#status", "status")
                .expression_attribute_names("#cancelled_at", "cancelled_at")
                .expression_attribute_names("#counts", "counts_open")
                .expression_attribute_values(":cancelled", s("cancelled"))
                .expression_attribute_values(":placed", s("placed"))
                .expression_attribute_values(":now", s(cancelled_at.clone()))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                );
            if counted {
                update = update.expression_attribute_values(":yes", AttributeValue::Bool(true));
            }
            let mut items = vec![
                TransactWriteItem::builder()
                    .update(build(update.build())?)
                    .build(),
            ];
            // The order no longer counts against the user's cap of open orders.
            let counter_at = items.len();
            if counted && decrement {
                items.push(open_orders_change(
                    &self.table,
                    user,
                    -1,
                    "#open > :zero",
                    None,
                )?);
            }
            let first_line = items.len();
            let mut restocked: Vec<&str> = restock
                .keys()
                .copied()
                .filter(|id| !gone.contains(*id))
                .collect();
            restocked.sort_unstable();
            for id in &restocked {
                items.push(stock_update(
                    &self.table,
                    id,
                    restock[id],
                    "attribute_exists(#pk)",
                    &[],
                )?);
            }
            let reasons = match self.transact(items).await? {
                Sent::Ok => {
                    let mut cancelled = order.clone();
                    cancelled.status = OrderStatus::Cancelled;
                    cancelled.cancelled_at = Some(cancelled_at);
                    return Ok(CancelOutcome::Cancelled(cancelled));
                }
                Sent::Cancelled(reasons) => reasons,
                Sent::InProgress => return Ok(CancelOutcome::InProgress),
            };
            let failed = |i: usize| {
                reasons
                    .get(i)
                    .is_some_and(|r| code(r) == "ConditionalCheckFailed")
            };
            if failed(0) {
                let still_placed = reasons[0]
                    .item()
                    .and_then(|item| item.get("status"))
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|status| status == "placed");
                if !still_placed {
                    return Ok(CancelOutcome::NotPlaced);
                }
                // Placed, but the marker is not what was assumed: an order from before the
                // counter (or after it, on the second try). Try once with the other condition.
                if learned_counted {
                    return Err(StoreError::Internal(
                        "cancel: the order's open-order marker changed between attempts".into(),
                    ));
                }
                learned_counted = true;
                counted = !counted;
                continue;
            }
            let counter_failed = counted && decrement && failed(counter_at);
            let newly_gone: Vec<&str> = restocked
                .iter()
                .enumerate()
                .filter(|(i, _)| failed(first_line + i))
                .map(|(_, id)| *id)
                .collect();
            if newly_gone.is_empty() && !counter_failed {
                let codes: Vec<&str> = reasons.iter().map(code).collect();
                return Err(StoreError::Internal(
                    format!("cancel transaction cancelled: {codes:?}").into(),
                ));
            }
            decrement &= !counter_failed;
            gone.extend(newly_gone.into_iter().map(str::to_owned));
        }
        Err(StoreError::Internal(
            "cancel could not settle which products exist".into(),
        ))
    }
}

/// Everything checkout left in one user's partition: for the statelessness harness's checker,
/// which compares it with what clients were told. No function calls this.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserAudit {
    pub orders: Vec<Order>,
    /// Each idempotency record: its key, and the order id its stored response names.
    pub keys: Vec<(String, Option<String>)>,
}

#[derive(Deserialize)]
struct AnyItem {
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
}

impl DynamoStore {
    /// Reads a user's whole partition (all pages), consistently.
    pub async fn audit_user(&self, user: &UserId) -> Result<UserAudit, StoreError> {
        let mut audit = UserAudit::default();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", "PK")
                .expression_attribute_values(":pk", s(user_pk(user)))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(StoreError::from_sdk)?;
            for item in out.items.unwrap_or_default() {
                let kind: AnyItem =
                    serde_dynamo::from_item(item.clone()).map_err(StoreError::corrupt)?;
                match kind.entity.as_str() {
                    "order" => audit.orders.push(order_from_item(item)?),
                    "idempotency" => {
                        let record: RecordItem =
                            serde_dynamo::from_item(item).map_err(StoreError::corrupt)?;
                        let order = record
                            .location
                            .as_deref()
                            .and_then(|l| l.strip_prefix("/orders/"))
                            .map(str::to_owned);
                        let key = kind
                            .sk
                            .strip_prefix(IDEMPOTENCY_SK_PREFIX)
                            .unwrap_or(&kind.sk)
                            .to_owned();
                        audit.keys.push((key, order));
                    }
                    _ => {}
                }
            }
            match out.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(audit),
            }
        }
    }
}

//! Orders and idempotency records (`PK = USER#<sub>`), and the checkout and cancel transactions.

use super::client::DynamoStore;
use super::error::StoreError;
use super::expr::{build, n, s};
use super::keys::{self, Item, ORDER_SK_PREFIX, to_item, user_pk};
use super::ops::{
    CancelOrder, CancelOutcome, Checkout, CheckoutCommit, CommitOutcome, GetOrder, ListOrders,
    OrderPage,
};
use super::page::{page_fetch, page_of};
use super::retry::{Patience, random};
use super::txn::{Sent, Throttled, code, is_throttle};
use crate::domain::checkout::check_line;
use crate::domain::{
    Cart, EntityTag, IdempotencyKey, IdempotencyRecord, LineReason, LineRejection, Order, OrderId,
    OrderStatus, Product, ProductId, UserId, now_rfc3339, stock,
};
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Idempotency records expire (DynamoDB TTL) this long after the order they answer.
pub const IDEMPOTENCY_TTL_SECS: u64 = 24 * 3600;

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

/// An idempotency record: the request's fingerprint and the order it placed.
///
/// The order is kept whole (`body`, its JSON as answered) so a replay answers the same bytes
/// without reading the order item, which its owner may have cancelled since. `status` and
/// `location` are what the previous release reads: written still, so both releases can serve
/// the same table during a deploy, and never read here.
#[derive(Serialize, Deserialize)]
struct RecordItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    fingerprint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    order_id: Option<OrderId>,
    status: u16,
    body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    location: Option<String>,
    /// Epoch seconds; the table's TTL attribute.
    expires_at: u64,
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

fn epoch_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The stock change of one item that holds stock (a product, or one of its buckets) inside a
/// transaction: `delta` is negative to take stock, positive to give it back. A new entity tag and version, because the product changed.
fn stock_update(
    table: &str,
    holder: keys::Key,
    delta: i64,
    condition: &str,
    extra: &[(&str, AttributeValue)],
) -> Result<TransactWriteItem, StoreError> {
    let mut update = Update::builder()
        .table_name(table)
        .set_key(Some(holder.item()?))
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
        .set_key(Some(keys::open_orders(user).item()?))
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

impl Checkout for DynamoStore {
    async fn checkout_state(
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

    async fn commit_checkout(
        &self,
        commit: &CheckoutCommit<'_>,
    ) -> Result<CommitOutcome, StoreError> {
        let order = commit.order;
        let now = epoch_secs();
        let mut items = Vec::with_capacity(4);
        let order_item = to_item(&OrderItem {
            pk: user_pk(commit.user),
            sk: keys::order(commit.user, &order.id).sk,
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
                        .set_key(Some(keys::cart(commit.user).item()?))
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
                        .expression_attribute_values(":version", n(commit.cart_version))
                        .build(),
                )?)
                .build(),
        );
        let record_key = keys::record(commit.user, commit.key);
        let record = to_item(&RecordItem {
            pk: record_key.pk,
            sk: record_key.sk,
            entity: "idempotency".into(),
            fingerprint: commit.fingerprint.to_owned(),
            order_id: Some(order.id.clone()),
            status: 201,
            body: serde_json::to_string(order).map_err(|e| StoreError::Internal(Box::new(e)))?,
            location: Some(format!("/orders/{}", order.id)),
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
            commit.user,
            1,
            "attribute_not_exists(#open) OR #open < :cap",
            Some(commit.max_open_orders),
        )?);
        let mut draws = Draws::new(order, commit.buckets);
        let mut patience = Patience::new();
        let mut redraws = 0;
        loop {
            let mut all = draws.stock_updates(&self.table, order)?;
            let first_fixed = all.len();
            if first_fixed + items.len() > MAX_TRANSACTION_ACTIONS {
                // Stock spread so thin that the lines drawn from several buckets need more than
                // one transaction may hold: each of those lines is refused with what one bucket
                // can give it now, so the client can order that much (a retry would draw the same).
                return Ok(CommitOutcome::LinesRejected(draws.too_spread(order)));
            }
            all.extend(items.iter().cloned());
            // No ClientRequestToken of ours. One derived from (user, key) would be sent again by the
            // handler's next attempt with a different transaction (new order id, tag and timestamps),
            // which DynamoDB answers with IdempotentParameterMismatch for 10 minutes; and two stacks
            // sharing an issuer would share tokens. The SDK attaches a fresh token per call and keeps
            // it across its own retries, so a retry of one send cannot commit twice; a second send for
            // the same key cannot either, because the key's record is written only if absent.
            let reasons = match self.transact_retrying(all, Throttled::Return).await? {
                Sent::Ok => return Ok(CommitOutcome::Committed),
                Sent::InProgress => return Ok(CommitOutcome::InProgress),
                Sent::Cancelled(reasons) => reasons,
            };
            // Over a partition's capacity, and no condition failed: a line drawn from one bucket
            // that was over moves to another bucket of its product (picked at random, so likely
            // one with room), and the transaction goes again after a pause. Sending it to the same
            // bucket again would wait for that bucket while the others idle.
            if reasons.iter().any(|r| is_throttle(code(r)))
                && !reasons.iter().any(|r| code(r) == "ConditionalCheckFailed")
            {
                draws.avoid_throttled(&reasons);
                if !patience.pause().await {
                    return Err(StoreError::Unavailable(
                        "the checkout's partitions stayed over their capacity".into(),
                    ));
                }
                continue;
            }
            let failed = |i: usize| {
                reasons
                    .get(i)
                    .is_some_and(|r| code(r) == "ConditionalCheckFailed")
            };
            if failed(first_fixed + 2) {
                return Ok(CommitOutcome::KeyTaken);
            }
            let mut rejected = Vec::new();
            let mut again = Vec::new();
            for (j, &(line_at, _)) in draws.index.iter().enumerate() {
                if !failed(j) {
                    continue;
                }
                let line = &order.items[line_at];
                let current: Option<HeldStock> = returned(&reasons[j])?;
                let now_split = current.as_ref().is_some_and(|held| held.stock_buckets > 1);
                if draws.spread[line_at] == 1 && !now_split {
                    // One item holds all the stock: the product as it was when its condition
                    // failed (DynamoDB returns it), judged by the same rule checkout planned with.
                    let current: Option<Product> = returned(&reasons[j])?;
                    // The condition failed, so the line is rejected whatever the rule says: a
                    // product that passes it now changed back in between (then its price is what
                    // to look at).
                    let reason =
                        check_line(line, current.as_ref()).unwrap_or(LineReason::PriceChanged {
                            price: current.as_ref().map_or(line.unit_price, |p| p.price),
                        });
                    rejected.push(LineRejection {
                        product_id: line.product_id.clone(),
                        requested: line.quantity,
                        reason,
                    });
                    continue;
                }
                match current {
                    Some(held) if held.price != line.unit_price => {
                        rejected.push(LineRejection {
                            product_id: line.product_id.clone(),
                            requested: line.quantity,
                            reason: LineReason::PriceChanged { price: held.price },
                        });
                    }
                    // This bucket is short, or (no item) the product is gone or an admin split
                    // it anew: read the buckets and draw again.
                    Some(_) | None => again.push(line_at),
                }
            }
            if rejected.is_empty() && again.is_empty() {
                if failed(first_fixed + 1) {
                    return Ok(CommitOutcome::CartChanged);
                }
                if failed(first_fixed + 3) {
                    return Ok(CommitOutcome::TooManyOpenOrders);
                }
                let codes: Vec<&str> = reasons.iter().map(code).collect();
                return Err(StoreError::Internal(
                    format!("checkout transaction cancelled: {codes:?}").into(),
                ));
            }
            again.dedup();
            // A line already refused (its price changed on one bucket) is not drawn again.
            again.retain(|&at| {
                !rejected
                    .iter()
                    .any(|r: &LineRejection| r.product_id == order.items[at].product_id)
            });
            for line_at in again {
                if let Some(rejection) = self.redraw(&mut draws, order, line_at).await? {
                    rejected.push(rejection);
                }
            }
            if !rejected.is_empty() {
                return Ok(CommitOutcome::LinesRejected(rejected));
            }
            redraws += 1;
            if redraws >= DRAW_ROUNDS {
                return Err(StoreError::Unavailable(
                    "the product's stock buckets kept running dry under concurrent checkouts; retry"
                        .into(),
                ));
            }
        }
    }
}

/// The item DynamoDB returned with a failed condition (if any), as `T`.
fn returned<T: serde::de::DeserializeOwned>(
    reason: &CancellationReason,
) -> Result<Option<T>, StoreError> {
    reason
        .item()
        .cloned()
        .map(serde_dynamo::from_item::<_, T>)
        .transpose()
        .map_err(StoreError::corrupt)
}

/// Most actions DynamoDB takes in one transaction.
const MAX_TRANSACTION_ACTIONS: usize = 100;
/// Rounds of drawing a checkout's lines again after a bucket turned out short.
const DRAW_ROUNDS: usize = 12;

/// The price and split of the item a failed stock update was conditioned on (a bucket item
/// carries no split: it is never the product's only one).
#[derive(Deserialize)]
struct HeldStock {
    price: i64,
    #[serde(default)]
    stock_buckets: u32,
}

/// Where each line of a checkout takes its stock from: `(bucket, quantity)` per line.
struct Draws {
    /// How many buckets each line's product is split over, as last known.
    spread: Vec<u32>,
    from: Vec<Vec<(usize, u32)>>,
    /// For each stock update sent, the line and the bucket it is for.
    index: Vec<(usize, usize)>,
    /// How many times each line was drawn again.
    redrawn: Vec<u32>,
    /// The most one bucket of each line's product held at its last read (0 before any).
    fullest: Vec<i64>,
}

impl Draws {
    /// One bucket per line, picked at random, without a read.
    fn new(order: &Order, buckets: &HashMap<ProductId, u32>) -> Self {
        let spread: Vec<u32> = order
            .items
            .iter()
            .map(|l| buckets.get(&l.product_id).copied().unwrap_or(1).max(1))
            .collect();
        let from = order
            .items
            .iter()
            .zip(&spread)
            .map(|(l, &k)| vec![(stock::pick(k, random()), l.quantity.get())])
            .collect();
        Self {
            redrawn: vec![0; spread.len()],
            fullest: vec![0; spread.len()],
            spread,
            from,
            index: Vec::new(),
        }
    }

    /// The lines drawn from several buckets, refused: each could have what its fullest bucket
    /// held.
    fn too_spread(&self, order: &Order) -> Vec<LineRejection> {
        order
            .items
            .iter()
            .enumerate()
            .filter(|(at, _)| self.from[*at].len() > 1)
            .map(|(at, line)| LineRejection {
                product_id: line.product_id.clone(),
                requested: line.quantity,
                reason: LineReason::Short {
                    available: self.fullest[at],
                },
            })
            .collect()
    }

    /// Moves each line drawn from one bucket that `reasons` say was over its capacity to another
    /// bucket of its product.
    fn avoid_throttled(&mut self, reasons: &[CancellationReason]) {
        for (j, &(line_at, bucket)) in self.index.iter().enumerate() {
            let throttled = reasons.get(j).is_some_and(|r| is_throttle(code(r)));
            if throttled && self.spread[line_at] > 1 && self.from[line_at].len() == 1 {
                let quantity = self.from[line_at][0].1;
                self.from[line_at] = vec![(
                    stock::pick_other(self.spread[line_at], bucket, random()),
                    quantity,
                )];
            }
        }
    }

    /// The stock updates of every draw, in line order.
    fn stock_updates(
        &mut self,
        table: &str,
        order: &Order,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        self.index.clear();
        let mut items = Vec::with_capacity(order.items.len());
        for (line_at, line) in order.items.iter().enumerate() {
            for &(bucket, quantity) in &self.from[line_at] {
                items.push(stock_update(
                    table,
                    keys::stock_holder(&line.product_id, bucket),
                    -i64::from(quantity),
                    "attribute_exists(#pk) AND #price = :price AND #stock >= :quantity",
                    &[(":price", n(line.unit_price)), (":quantity", n(quantity))],
                )?);
                self.index.push((line_at, bucket));
            }
        }
        Ok(items)
    }
}

impl DynamoStore {
    /// Draws line `line_at` again after a bucket it drew from was short or gone: reads every
    /// bucket (the first time eventually consistent, for half the units: the transaction
    /// re-checks; after that consistently, so a stale read cannot repeat) and draws from one that
    /// holds enough, else from several. The line's rejection when the product is gone or all of its
    /// buckets together hold too little, by a consistent read, so a refusal is never on a stale
    /// figure.
    async fn redraw(
        &self,
        draws: &mut Draws,
        order: &Order,
        line_at: usize,
    ) -> Result<Option<LineRejection>, StoreError> {
        let line = &order.items[line_at];
        let quantity = line.quantity.get();
        let first = draws.redrawn[line_at] == 0;
        draws.redrawn[line_at] += 1;
        let mut whole = if first {
            self.read_stocks(&line.product_id, draws.spread[line_at])
                .await?
        } else {
            self.read_whole(&line.product_id).await?
        };
        let mut from = whole
            .as_ref()
            .and_then(|w| stock::choose(&w.stocks(), quantity, random()));
        if from.is_none() && first {
            whole = self.read_whole(&line.product_id).await?;
            from = whole
                .as_ref()
                .and_then(|w| stock::choose(&w.stocks(), quantity, random()));
        }
        let Some(whole) = whole else {
            return Ok(Some(LineRejection {
                product_id: line.product_id.clone(),
                requested: line.quantity,
                reason: LineReason::Missing,
            }));
        };
        draws.spread[line_at] = whole.spread();
        draws.fullest[line_at] = whole.stocks().into_iter().max().unwrap_or(0);
        match from {
            Some(from) => {
                draws.from[line_at] = from;
                Ok(None)
            }
            None => Ok(Some(LineRejection {
                product_id: line.product_id.clone(),
                requested: line.quantity,
                reason: LineReason::Short {
                    available: whole.stocks().iter().sum(),
                },
            })),
        }
    }
}

impl ListOrders for DynamoStore {
    async fn list_orders(
        &self,
        user: &UserId,
        after: Option<&OrderId>,
        limit: usize,
    ) -> Result<OrderPage, StoreError> {
        let start = after.map(|id| keys::order(user, id).item()).transpose()?;
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
        let next = items.last().filter(|_| more).map(|last| last.id.clone());
        Ok(OrderPage { items, next })
    }
}

impl GetOrder for DynamoStore {
    async fn get_order(&self, user: &UserId, id: &OrderId) -> Result<Option<Order>, StoreError> {
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

impl CancelOrder for DynamoStore {
    async fn cancel_order(
        &self,
        user: &UserId,
        order: &Order,
    ) -> Result<CancelOutcome, StoreError> {
        // Products deleted since the order was placed get no stock back; they are found (and
        // left out) when their condition fails, at most once each.
        let mut gone: HashSet<ProductId> = HashSet::new();
        let mut restock: HashMap<&ProductId, i64> = HashMap::new();
        for line in &order.items {
            *restock.entry(&line.product_id).or_default() += i64::from(line.quantity.get());
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
                .set_key(Some(keys::order(user, &order.id).item()?))
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
            let mut restocked: Vec<&ProductId> = restock
                .keys()
                .copied()
                .filter(|id| !gone.contains(*id))
                .collect();
            restocked.sort_unstable();
            for id in &restocked {
                // Bucket 0, the product item: it exists for as long as the product does, so a
                // cancel needs no read of how the stock is split.
                items.push(stock_update(
                    &self.table,
                    keys::product(id),
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
            let newly_gone: Vec<&ProductId> = restocked
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
            gone.extend(newly_gone.into_iter().cloned());
        }
        Err(StoreError::Internal(
            "cancel could not settle which products exist".into(),
        ))
    }
}

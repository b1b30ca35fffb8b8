//! `POST /orders`'s one transaction: the plan `domain::commit` makes, turned into writes, sent,
//! and its cancellation handed back as an answer beside each action. This file decides nothing:
//! what an answer means is [`Draws::decide`]'s.

use super::client::DynamoStore;
use super::error::StoreError;
use super::expr::{Expr, OnFailure, WithPlaceholders, build, n, s};
use super::keys::{self, to_item, user_pk};
use super::ops::{CheckoutCommit, CommitOutcome};
use super::orders::{IDEMPOTENCY_TTL_SECS, OrderItem, RecordItem, epoch_secs, open_orders_change};
use super::retry::{Patience, random};
use super::txn::{Sent, Throttled, answered};
use crate::domain::checkout::Held;
use crate::domain::commit::{Action, DRAW_ROUNDS, Draws, HeldStock, Next};
use crate::domain::{EntityTag, Money, Order, Timestamp};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use serde::Deserialize;
use std::collections::HashMap;

/// The stock change of one item that holds stock (a product, or one of its buckets) inside a
/// transaction: `delta` is negative to take stock, positive to give it back. A new entity tag and
/// version, because the product changed. `condition` is built on `e`, which this completes.
pub(super) fn stock_update(
    table: &str,
    holder: keys::Key,
    delta: i64,
    mut e: Expr,
    condition: String,
) -> Result<TransactWriteItem, StoreError> {
    let update = format!(
        "SET {stock} = {stock} + {delta}, {version} = {version} + {one}, {etag} = {tag}, {updated} = {now}",
        stock = e.name("stock"),
        delta = e.value("delta", n(delta)),
        version = e.name("version"),
        one = e.value("one", n(1)),
        etag = e.name("etag"),
        tag = e.value("etag", s(EntityTag::mint().as_str())),
        updated = e.name("updated_at"),
        now = e.value("now", s(Timestamp::now())),
    );
    e.transact_update(table, &holder, update, condition, OnFailure::ReturnItem)
}

/// The price, stock and split of the item a failed stock update was conditioned on, as DynamoDB
/// returned it (a bucket item carries no split: it is never the product's only one).
#[derive(Deserialize)]
struct Returned {
    price: Money,
    stock: i64,
    #[serde(default)]
    stock_buckets: u32,
}

impl From<Returned> for HeldStock {
    fn from(r: Returned) -> Self {
        Self {
            held: Held {
                price: r.price,
                stock: r.stock,
            },
            buckets: r.stock_buckets,
        }
    }
}

/// What a checkout writes besides stock, made once: the same order, record and time for every
/// round of the same checkout.
struct Fixed {
    order: HashMap<String, AttributeValue>,
    record: HashMap<String, AttributeValue>,
    /// Epoch seconds when the checkout began: a record that expired before then may be replaced.
    now: u64,
}

impl Fixed {
    fn new(commit: &CheckoutCommit<'_>) -> Result<Self, StoreError> {
        let order = commit.order;
        let now = epoch_secs();
        let record_key = keys::record(commit.user, commit.key);
        Ok(Self {
            order: to_item(&OrderItem {
                pk: user_pk(commit.user),
                sk: keys::order(commit.user, &order.id).sk,
                entity: "order".into(),
                order: order.clone(),
                counts_open: Some(true),
            })?,
            record: to_item(&RecordItem {
                pk: record_key.pk,
                sk: record_key.sk,
                entity: "idempotency".into(),
                fingerprint: commit.fingerprint.to_owned(),
                order_id: Some(order.id.clone()),
                status: 201,
                body: serde_json::to_string(order)
                    .map_err(|e| StoreError::Internal(Box::new(e)))?,
                location: Some(format!("/orders/{}", order.id)),
                expires_at: now + IDEMPOTENCY_TTL_SECS,
            })?,
            now,
        })
    }
}

impl DynamoStore {
    /// Places the order of `commit` in one transaction: every line's stock (drawn from a bucket
    /// of its product), the order, the emptied cart, the key's record and the count of open
    /// orders, all or nothing. A bucket found short or throttled is swapped for another and the
    /// transaction sent again; anything else is an outcome for the handler.
    pub async fn commit_checkout(
        &self,
        commit: &CheckoutCommit<'_>,
    ) -> Result<CommitOutcome, StoreError> {
        let order = commit.order;
        let fixed = Fixed::new(commit)?;
        let mut draws = Draws::new(order, commit.buckets, random);
        let mut patience = Patience::new();
        let mut redraws = 0;
        loop {
            let plan = match draws.plan(order, commit.cart_version, commit.max_open_orders) {
                Ok(plan) => plan,
                Err(rejected) => return Ok(CommitOutcome::LinesRejected(rejected)),
            };
            let items = plan
                .iter()
                .map(|action| self.checkout_item(action, commit, &fixed))
                .collect::<Result<Vec<_>, _>>()?;
            // No ClientRequestToken of ours. One derived from (user, key) would be sent again by
            // the handler's next attempt with a different transaction (new order id, tag and
            // timestamps), which DynamoDB answers with IdempotentParameterMismatch for 10
            // minutes; and two stacks sharing an issuer would share tokens. The SDK attaches a
            // fresh token per call and keeps it across its own retries, so a retry of one send
            // cannot commit twice; a second send for the same key cannot either, because the
            // key's record is written only if absent.
            let reasons = match self.transact_retrying(items, Throttled::Return).await? {
                Sent::Ok => return Ok(CommitOutcome::Committed),
                Sent::InProgress => return Ok(CommitOutcome::InProgress),
                Sent::Cancelled(reasons) => reasons,
            };
            let answers = answered::<_, Returned>(&plan, &reasons, |a| {
                matches!(a, Action::TakeStock { .. })
            })?;
            let answers: Vec<_> = answers
                .into_iter()
                .map(|(a, answer)| (a, answer.map(HeldStock::from)))
                .collect();
            match draws.decide(order, &answers) {
                Next::Throttled => {
                    draws.avoid_throttled(&answers, random);
                    if !patience.pause().await {
                        return Err(StoreError::Unavailable(
                            "the checkout's partitions stayed over their capacity".into(),
                        ));
                    }
                }
                Next::KeyTaken => return Ok(CommitOutcome::KeyTaken),
                Next::CartChanged => return Ok(CommitOutcome::CartChanged),
                Next::CapReached => return Ok(CommitOutcome::TooManyOpenOrders),
                Next::Unexplained => {
                    return Err(StoreError::Internal(
                        format!("checkout transaction cancelled: {answers:?}").into(),
                    ));
                }
                Next::Lines {
                    mut rejected,
                    redraw,
                } => {
                    for line in redraw {
                        if let Some(rejection) = self.redraw(&mut draws, order, line).await? {
                            rejected.push(rejection);
                        }
                    }
                    if !rejected.is_empty() {
                        return Ok(CommitOutcome::LinesRejected(rejected));
                    }
                    redraws += 1;
                    if redraws >= DRAW_ROUNDS {
                        return Err(StoreError::Unavailable(
                            "the product's stock buckets kept running dry under concurrent \
                             checkouts; retry"
                                .into(),
                        ));
                    }
                }
            }
        }
    }

    /// The write that carries out `action`.
    fn checkout_item(
        &self,
        action: &Action,
        commit: &CheckoutCommit<'_>,
        fixed: &Fixed,
    ) -> Result<TransactWriteItem, StoreError> {
        let table = &self.table;
        match *action {
            Action::TakeStock {
                line,
                bucket,
                quantity,
            } => {
                let line = &commit.order.items[line];
                let mut e = Expr::new();
                let condition = format!(
                    "attribute_exists({pk}) AND {price} = {unit} AND {stock} >= {quantity}",
                    pk = e.name("PK"),
                    price = e.name("price"),
                    unit = e.value("price", n(line.unit_price)),
                    stock = e.name("stock"),
                    quantity = e.value("quantity", n(quantity)),
                );
                let holder = keys::stock_holder(&line.product_id, bucket);
                stock_update(table, holder, -i64::from(quantity), e, condition)
            }
            Action::PlaceOrder => put_new(table, fixed.order.clone(), Expr::new(), |e| {
                format!("attribute_not_exists({})", e.name("PK"))
            }),
            Action::RecordKey => put_new(table, fixed.record.clone(), Expr::new(), |e| {
                format!(
                    "attribute_not_exists({}) OR {} < {}",
                    e.name("PK"),
                    e.name("expires_at"),
                    e.value("now", n(fixed.now))
                )
            }),
            Action::EmptyCart { version } => empty_cart(table, commit, version),
            Action::CountOpen { cap } => {
                let mut e = Expr::new();
                let condition = format!(
                    "attribute_not_exists({open}) OR {open} < {cap}",
                    open = e.name("open_orders"),
                    cap = e.value("cap", n(cap)),
                );
                open_orders_change(table, commit.user, 1, e, condition)
            }
        }
    }

    /// Draws line `line` again after a bucket it drew from was short or gone: reads every bucket
    /// (the first time eventually consistent, for half the units: the transaction re-checks;
    /// after that, and when that read found too little, consistently, so a stale read cannot
    /// repeat and a refusal is never on a stale figure). The line's refusal when the product is
    /// gone or all of its buckets together hold too little.
    async fn redraw(
        &self,
        draws: &mut Draws,
        order: &Order,
        line: usize,
    ) -> Result<Option<crate::domain::LineRejection>, StoreError> {
        let id = &order.items[line].product_id;
        if draws.start_redraw(line)
            && let Some(seen) = self.read_stocks(id, draws.spread(line)).await?
            && draws
                .draw_again(order, line, &seen.stocks(), random())
                .is_none()
        {
            return Ok(None);
        }
        Ok(match self.read_whole(id).await? {
            None => Some(Draws::gone(order, line)),
            Some(whole) => draws.draw_again(order, line, &whole.stocks(), random()),
        })
    }
}

/// A put of `item` under the condition `condition` builds on `e`.
fn put_new(
    table: &str,
    item: HashMap<String, AttributeValue>,
    mut e: Expr,
    condition: impl FnOnce(&mut Expr) -> String,
) -> Result<TransactWriteItem, StoreError> {
    let condition = condition(&mut e);
    let bound = e.done(&[&condition])?;
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition)
        .placeholders(bound);
    Ok(TransactWriteItem::builder()
        .put(build(put.build())?)
        .build())
}

/// The cart emptied, not deleted, and only if it is still the version that was priced. Never
/// deleting it keeps its version growing for as long as the user exists: a cart that was deleted
/// and created again would start over at version 1, so a checkout held between its read and its
/// write could match a different cart that only looks like the one it priced (a lost line and a
/// double order).
fn empty_cart(
    table: &str,
    commit: &CheckoutCommit<'_>,
    version: u64,
) -> Result<TransactWriteItem, StoreError> {
    let mut e = Expr::new();
    let v = e.name("version");
    let update = format!(
        "SET {lines} = {empty}, {v} = {v} + {one}, {updated} = {now}",
        lines = e.name("lines"),
        empty = e.value("empty", AttributeValue::M(HashMap::new())),
        one = e.value("one", n(1)),
        updated = e.name("updated_at"),
        now = e.value("now", s(Timestamp::now())),
    );
    let condition = format!("{v} = {}", e.value("version", n(version)));
    e.transact_update(
        table,
        &keys::cart(commit.user),
        update,
        condition,
        OnFailure::Nothing,
    )
}

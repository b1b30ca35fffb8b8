//! `POST /orders/{id}/cancel`'s one transaction: the plan `domain::cancel` makes, turned into
//! writes, sent, and its cancellation handed back as an answer beside each action. What an answer
//! means is [`Cancel::decide`]'s.

use super::checkout::stock_update;
use super::client::DynamoStore;
use super::error::StoreError;
use super::expr::{Expr, OnFailure, n, s};
use super::keys;
use super::ops::CancelOutcome;
use super::orders::open_orders_change;
use super::txn::{Sent, answered};
use crate::domain::cancel::{Cancel, CancelAction, CancelNext};
use crate::domain::{Order, OrderStatus, Timestamp, UserId};
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use serde::Deserialize;

/// The status of the order a failed marker condition returned.
#[derive(Deserialize)]
struct Marked {
    status: OrderStatus,
}

impl DynamoStore {
    /// Cancels `order` of `user` in one transaction: the order marked cancelled (only if placed),
    /// its place in the count of open orders given back, and its stock given back to each
    /// product that still exists. Products deleted since are learned from their failed
    /// conditions and left out of the next round.
    pub async fn cancel_order(
        &self,
        user: &UserId,
        order: &Order,
    ) -> Result<CancelOutcome, StoreError> {
        let mut cancel = Cancel::new(order);
        for _ in 0..Cancel::rounds(order) {
            let cancelled_at = Timestamp::now();
            let plan = cancel.plan();
            let items = plan
                .iter()
                .map(|action| self.cancel_item(action, user, order, &cancelled_at))
                .collect::<Result<Vec<_>, _>>()?;
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
            let answers = answered::<_, Marked>(&plan, &reasons, |a| {
                matches!(a, CancelAction::MarkCancelled { .. })
            })?;
            let answers: Vec<_> = answers
                .into_iter()
                .map(|(a, answer)| (a, answer.map(|m| m.status)))
                .collect();
            match cancel.decide(&answers) {
                CancelNext::Again => {}
                CancelNext::NotPlaced => return Ok(CancelOutcome::NotPlaced),
                CancelNext::Unexplained => {
                    return Err(StoreError::Internal(
                        format!("cancel transaction cancelled: {answers:?}").into(),
                    ));
                }
            }
        }
        Err(StoreError::Internal(
            "cancel could not settle which products exist".into(),
        ))
    }

    /// The write that carries out `action`.
    fn cancel_item(
        &self,
        action: &CancelAction,
        user: &UserId,
        order: &Order,
        cancelled_at: &Timestamp,
    ) -> Result<TransactWriteItem, StoreError> {
        match action {
            CancelAction::MarkCancelled { counted } => {
                mark_cancelled(&self.table, user, order, *counted, cancelled_at)
            }
            CancelAction::FreePlace => {
                let mut e = Expr::new();
                let condition = format!("{} > {}", e.name("open_orders"), e.value("zero", n(0)));
                open_orders_change(&self.table, user, -1, e, condition)
            }
            CancelAction::GiveBack { product, quantity } => {
                let mut e = Expr::new();
                let condition = format!("attribute_exists({})", e.name("PK"));
                stock_update(&self.table, keys::product(product), *quantity, e, condition)
            }
        }
    }
}

/// The order marked cancelled, only if it is placed and carries the open-order marker `counted`
/// says it does (`false`: none, an order from before the counter).
fn mark_cancelled(
    table: &str,
    user: &UserId,
    order: &Order,
    counted: bool,
    cancelled_at: &Timestamp,
) -> Result<TransactWriteItem, StoreError> {
    let mut e = Expr::new();
    let status = e.name("status");
    let update = format!(
        "SET {status} = {cancelled}, {at} = {now}",
        cancelled = e.value("cancelled", s(OrderStatus::Cancelled.as_str())),
        at = e.name("cancelled_at"),
        now = e.value("now", s(cancelled_at.as_str())),
    );
    let marker = if counted {
        format!(
            "{} = {}",
            e.name("counts_open"),
            e.value("yes", AttributeValue::Bool(true))
        )
    } else {
        format!("attribute_not_exists({})", e.name("counts_open"))
    };
    let condition = format!(
        "{status} = {} AND {marker}",
        e.value("placed", s(OrderStatus::Placed.as_str()))
    );
    e.transact_update(
        table,
        &keys::order(user, &order.id),
        update,
        condition,
        OnFailure::ReturnItem,
    )
}

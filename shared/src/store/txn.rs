//! Sending a transaction: retried while DynamoDB cancels it only for a conflict with another
//! transaction in flight or for throttling, and its outcome told apart from the errors that are
//! not a cancellation.

use super::client::DynamoStore;
use super::error::{Class, StoreError, classify_cancellation};
use super::retry::Patience;
use crate::domain::commit::Answer;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{CancellationReason, TransactWriteItem};
use serde::de::DeserializeOwned;

pub(super) fn code(reason: &CancellationReason) -> &str {
    reason.code().unwrap_or("None")
}

/// Whether a cancellation reason says the item's partition is over its capacity.
pub(super) fn is_throttle(code: &str) -> bool {
    matches!(
        code,
        "ThrottlingError" | "ProvisionedThroughputExceeded" | "RequestLimitExceeded"
    )
}

/// Each action of a cancelled transaction's `plan` beside DynamoDB's answer for it (the reasons
/// come in the order the items were sent, one each). Where `reads` says the action's role reads
/// it, the item a failed condition returned is decoded as `T`.
pub(super) fn answered<A: Clone + std::fmt::Debug, T: DeserializeOwned>(
    plan: &[A],
    reasons: &[CancellationReason],
    reads: impl Fn(&A) -> bool,
) -> Result<Vec<(A, Answer<T>)>, StoreError> {
    if plan.len() != reasons.len() {
        return Err(StoreError::Internal(
            format!(
                "{} cancellation reasons for {} actions: {plan:?}",
                reasons.len(),
                plan.len()
            )
            .into(),
        ));
    }
    plan.iter()
        .zip(reasons)
        .map(|(action, reason)| {
            let answer = match code(reason) {
                "None" => Answer::Passed,
                "ConditionalCheckFailed" => Answer::Failed(match reason.item() {
                    Some(item) if reads(action) => {
                        Some(serde_dynamo::from_item(item.clone()).map_err(StoreError::corrupt)?)
                    }
                    _ => None,
                }),
                c if is_throttle(c) => Answer::Throttled,
                c => Answer::Other(c.to_owned()),
            };
            Ok((action.clone(), answer))
        })
        .collect()
}

/// What [`DynamoStore::transact_retrying`] does with a cancellation for throttling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Throttled {
    /// Send the same transaction again after a pause.
    Retry,
    /// Return it: the caller changes the transaction first.
    Return,
}

/// Why a transaction was cancelled, per item, or the error that is not a cancellation.
pub(super) enum Sent {
    Ok,
    Cancelled(Vec<CancellationReason>),
    InProgress,
}

impl DynamoStore {
    /// Sends a transaction, again (with jittered backoff, within the invocation's budget) while
    /// DynamoDB cancels it only for a conflict with another transaction in flight or for
    /// throttling; 503's [`StoreError::Unavailable`] when that outlasts the budget.
    pub(super) async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Sent, StoreError> {
        self.transact_retrying(items, Throttled::Retry).await
    }

    /// As [`DynamoStore::transact`], but with `Throttled::Return`, a cancellation for
    /// throttling is returned to the caller (who may move a write to a partition with room)
    /// instead of retried.
    pub(super) async fn transact_retrying(
        &self,
        items: Vec<TransactWriteItem>,
        throttled: Throttled,
    ) -> Result<Sent, StoreError> {
        let mut patience = Patience::new();
        loop {
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
                    let transient = reasons
                        .iter()
                        .any(|r| classify_cancellation(code(r)) == Class::Retryable);
                    let returned = throttled == Throttled::Return
                        && reasons.iter().any(|r| is_throttle(code(r)));
                    // A failed condition fails every resend of the same transaction: the caller
                    // reads it (and changes the transaction, or answers) at once.
                    let failed = reasons.iter().any(|r| code(r) == "ConditionalCheckFailed");
                    if !transient || returned || failed {
                        return Ok(Sent::Cancelled(reasons));
                    }
                    if !patience.pause().await {
                        return Err(StoreError::Unavailable(Box::new(err)));
                    }
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
    }
}

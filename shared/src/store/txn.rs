//! Sending a transaction: retried while DynamoDB cancels it only for a conflict with another
//! transaction in flight or for throttling, and its outcome told apart from the errors that are
//! not a cancellation.

use super::client::DynamoStore;
use super::error::StoreError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{CancellationReason, TransactWriteItem};
use std::time::Duration;

/// Attempts at a transaction that DynamoDB cancels for a conflicting concurrent transaction.
const TRANSACTION_ATTEMPTS: u32 = 6;

/// A random number, fresh per call, for jitter and for picking a stock bucket: the standard
/// library's randomly keyed hasher is enough for spreading, and needs no extra crate.
pub(super) fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

/// A pause before retrying a conflicted transaction: exponential, with full jitter, so competing
/// writers spread out instead of colliding again in lockstep.
pub(super) async fn backoff(attempt: u32) {
    let ceiling_ms = 5u64 << attempt.min(6);
    tokio::time::sleep(Duration::from_millis(random() % ceiling_ms.max(1))).await;
}

pub(super) fn code(reason: &CancellationReason) -> &str {
    reason.code().unwrap_or("None")
}

/// Why a transaction was cancelled, per item, or the error that is not a cancellation.
pub(super) enum Sent {
    Ok,
    Cancelled(Vec<CancellationReason>),
    InProgress,
}

impl DynamoStore {
    /// Sends a transaction, retrying (with jittered backoff) while DynamoDB cancels it only for
    /// conflicting with another transaction in flight.
    pub(super) async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Sent, StoreError> {
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

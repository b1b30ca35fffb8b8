//! Retrying what DynamoDB refuses only for a moment: a single-item write on an item that a
//! transaction in flight holds (`TransactionConflictException`, which the SDK does not retry),
//! and a transaction cancelled for a conflict or throttling. Each is retried with full-jitter
//! exponential backoff for as long as the invocation's budget allows ([`within`]), and at most
//! [`PATIENCE`]; then the caller answers 503 with `Retry-After`.

use super::error::{Class, StoreError, classify};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use std::future::Future;
use std::time::{Duration, Instant};

/// The longest one store call keeps retrying a conflict, whatever the budget: DynamoDB holds an
/// item for a transaction's few tens of milliseconds, so a conflict that lasts this long is load
/// the client should be told about (503, `Retry-After`), not hidden behind a slow answer.
pub const PATIENCE: Duration = Duration::from_secs(3);
/// Kept back from the deadline for the attempt itself.
const RESERVE: Duration = Duration::from_millis(150);
/// The first backoff ceiling, doubled per attempt up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(8);
const MAX_PAUSE: Duration = Duration::from_millis(200);

tokio::task_local! {
    /// When the invocation must have answered by (its budget), for the code it runs.
    static DEADLINE: Instant;
}

/// Runs `work` with `deadline` as the limit of every retry inside it.
pub async fn within<F: Future>(deadline: Instant, work: F) -> F::Output {
    DEADLINE.scope(deadline, work).await
}

/// A random number, fresh per call, for jitter and for picking a stock bucket: the standard
/// library's randomly keyed hasher is enough for spreading, and needs no extra crate.
pub(super) fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

/// The retries of one store call.
pub(super) struct Patience {
    limit: Instant,
    attempt: u32,
}

impl Patience {
    pub(super) fn new() -> Self {
        let by_patience = Instant::now() + PATIENCE;
        let limit = DEADLINE
            .try_with(|d| d.checked_sub(RESERVE).unwrap_or(*d))
            .map_or(by_patience, |d| d.min(by_patience));
        Self { limit, attempt: 0 }
    }

    /// Waits a jittered pause before the next attempt; `false` (without waiting) when that
    /// attempt would not fit in the budget.
    pub(super) async fn pause(&mut self) -> bool {
        let ceiling = FIRST_PAUSE
            .saturating_mul(1 << self.attempt.min(8))
            .min(MAX_PAUSE);
        let pause = Duration::from_micros(random() % (ceiling.as_micros() as u64).max(1));
        if Instant::now() + pause >= self.limit {
            return false;
        }
        self.attempt += 1;
        tokio::time::sleep(pause).await;
        true
    }

    /// Attempts made after the first.
    pub(super) fn retries(&self) -> u32 {
        self.attempt
    }
}

/// Whether DynamoDB refused `err` because a transaction in flight holds the item.
fn conflicted<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.code() == Some("TransactionConflictException")
}

/// Sends a single-item write, again while a transaction in flight holds the item. Returns the
/// call's own result (success, or any other error for the caller to read), or 503's
/// [`StoreError::Unavailable`] when the conflict outlasts the budget.
pub(super) async fn write<T, E, R, F, Fut>(
    mut send: F,
) -> Result<Result<T, SdkError<E, R>>, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    debug_assert_eq!(classify("TransactionConflictException"), Class::Retryable);
    let mut patience = Patience::new();
    loop {
        let sent = send().await;
        match sent {
            Err(err) if conflicted(&err) => {
                if !patience.pause().await {
                    tracing::warn!(
                        retries = patience.retries(),
                        "a transaction kept holding the item: answering 503"
                    );
                    return Err(StoreError::Unavailable(Box::new(err)));
                }
            }
            other => return Ok(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_deadline_near_stops_the_retries_before_it() {
        let deadline = Instant::now() + Duration::from_millis(100);
        let tried = within(deadline, async {
            let mut patience = Patience::new();
            patience.pause().await
        })
        .await;
        assert!(!tried, "no pause fits in a budget below the reserve");
    }

    #[tokio::test]
    async fn without_a_deadline_patience_bounds_the_retries() {
        let started = Instant::now();
        let mut patience = Patience::new();
        while patience.pause().await {}
        let took = started.elapsed();
        assert!(took <= PATIENCE, "{took:?}");
        assert!(patience.retries() > 10, "{}", patience.retries());
    }
}

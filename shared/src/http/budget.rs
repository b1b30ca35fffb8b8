//! The invocation's time budget: every handler answers before Lambda's deadline, whatever
//! DynamoDB or the token issuer do.

use super::ApiError;
use super::response::problem_response;
use lambda_http::{Body, Request, RequestExt, Response};
use std::convert::Infallible;

/// Kept back from the invocation's deadline: time to render the 503 and hand it to Lambda (a
/// loopback POST to the Runtime API), with room for a slow scheduler.
pub const DEADLINE_MARGIN: std::time::Duration = std::time::Duration::from_millis(250);

/// The time this invocation may still spend: Lambda's deadline (`Lambda-Runtime-Deadline-Ms`, in
/// the request's context) minus [`DEADLINE_MARGIN`]. `None` when the request carries no deadline
/// (a request a test built by hand).
pub fn budget(req: &Request) -> Option<std::time::Duration> {
    let deadline_ms = req.lambda_context_ref().map(|c| c.deadline)?;
    if deadline_ms == 0 {
        return None;
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    Some(
        std::time::Duration::from_millis(deadline_ms.saturating_sub(now_ms))
            .saturating_sub(DEADLINE_MARGIN),
    )
}

/// The invocation's time budget ran out before the handler finished.
#[derive(Debug, thiserror::Error)]
#[error(
    "the invocation's time budget ({budget_ms} ms before Lambda's deadline) ran out before the handler finished"
)]
pub struct BudgetSpent {
    budget_ms: u128,
}

/// Runs a handler within `budget`: past it, the handler's future is dropped (every DynamoDB call
/// in flight with it) and the client gets 503 with `Retry-After` while Lambda still lets this
/// invocation answer, instead of API Gateway's bare 5xx after Lambda cut it off. Dropping a
/// handler mid-way is safe by design: each write is one atomic DynamoDB call, and a checkout
/// whose transaction committed unseen replays from its key's record when retried.
pub async fn within_budget<Fut>(
    budget: Option<std::time::Duration>,
    handler: Fut,
) -> Result<Response<Body>, Infallible>
where
    Fut: std::future::Future<Output = Result<Response<Body>, Infallible>>,
{
    let Some(budget) = budget else {
        return handler.await;
    };
    // The store's retries (of a conflict with a transaction in flight, say) stop short of the
    // budget, so it is the store that answers 503 with its cause, and rarely this timeout.
    let deadline = std::time::Instant::now() + budget;
    match tokio::time::timeout(budget, crate::store::retry::within(deadline, handler)).await {
        Ok(response) => response,
        Err(_) => Ok(problem_response(&ApiError::Unavailable(Box::new(
            BudgetSpent {
                budget_ms: budget.as_millis(),
            },
        )))),
    }
}

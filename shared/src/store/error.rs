//! The store's one error type, and how SDK errors map onto it.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What can go wrong below the handlers. Conditions that fail are outcomes, not errors, and have
/// their own variants so handlers can map them to 404/412 without looking at DynamoDB codes.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the item does not exist")]
    NotFound,
    #[error("the item exists but the precondition does not hold")]
    PreconditionFailed,
    /// Throttling, timeouts, dropped connections, DynamoDB 5xx: worth retrying later.
    #[error("DynamoDB is unavailable or throttling")]
    Unavailable(#[source] BoxError),
    /// Anything else: a bug or a misconfiguration (missing table, missing permission, bad item).
    #[error("DynamoDB request failed")]
    Internal(#[source] BoxError),
}

/// Error codes DynamoDB uses for "slow down / try again"; everything else from the service is
/// treated as internal (a missing table or permission is a deployment bug, not a client error).
const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
];

impl StoreError {
    pub(super) fn from_sdk<E, R>(err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let retryable = match &err {
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(service) => service
                .err()
                .code()
                .is_some_and(|code| RETRYABLE_CODES.contains(&code)),
            _ => false,
        };
        if retryable {
            Self::Unavailable(Box::new(err))
        } else {
            Self::Internal(Box::new(err))
        }
    }

    pub(super) fn corrupt(err: serde_dynamo::Error) -> Self {
        Self::Internal(Box::new(err))
    }
}

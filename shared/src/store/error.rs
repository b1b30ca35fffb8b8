//! The store's one error type, and how every DynamoDB error code maps onto it.

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
    /// Throttling, a transaction holding the item, timeouts, dropped connections, DynamoDB 5xx:
    /// worth retrying later (503 with `Retry-After`).
    #[error("DynamoDB is unavailable, throttling or busy with a conflicting transaction")]
    Unavailable(#[source] BoxError),
    /// Anything else: a bug or a misconfiguration (missing table, missing permission, bad item).
    #[error("DynamoDB request failed")]
    Internal(#[source] BoxError),
}

/// What an error code DynamoDB answers means for this shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Transient: retried where the store can (a conflict with a transaction, a cancelled
    /// transaction), and a 503 with `Retry-After` when it persists.
    Retryable,
    /// A client-visible outcome the calling operation reads itself (a failed condition: 404, 409
    /// or 412 by route; a cancelled transaction: by its reasons; a transaction still in flight:
    /// 409 `request-in-progress`). Reaching the generic mapping anyway is a bug: internal.
    Outcome,
    /// A bug or a deployment problem (missing table or permission, bad request, bad
    /// credentials): an opaque 500 that logs the cause chain.
    Internal,
}

/// Every error code the DynamoDB API reference lists for the operations this shop calls
/// (`GetItem`, `BatchGetItem`, `Query`, `PutItem`, `UpdateItem`, `DeleteItem`,
/// `TransactWriteItems`, `DescribeTimeToLive`, and `CreateTable`/`UpdateTimeToLive` for local
/// set-up), the common errors of every action, and the codes the SDK's clients answer with for
/// credentials. A unit test pins it; a code not listed is internal.
pub const ERROR_CODES: &[(&str, Class)] = &[
    // Capacity and availability.
    ("ThrottlingException", Class::Retryable),
    ("ProvisionedThroughputExceededException", Class::Retryable),
    ("RequestLimitExceeded", Class::Retryable),
    ("InternalServerError", Class::Retryable),
    ("InternalFailure", Class::Retryable),
    ("ServiceUnavailable", Class::Retryable),
    // A single-item write on an item that a transaction in flight holds.
    ("TransactionConflictException", Class::Retryable),
    // Multi-Region strong consistency: another Region's write to the item is in flight.
    ("ReplicatedWriteConflictException", Class::Retryable),
    // Outcomes the operation reads itself.
    ("ConditionalCheckFailedException", Class::Outcome),
    ("TransactionCanceledException", Class::Outcome),
    ("TransactionInProgressException", Class::Outcome),
    // Bugs and deployment problems.
    ("IdempotentParameterMismatchException", Class::Internal),
    ("ResourceNotFoundException", Class::Internal),
    ("ResourceInUseException", Class::Internal),
    ("LimitExceededException", Class::Internal),
    ("ItemCollectionSizeLimitExceededException", Class::Internal),
    ("InvalidEndpointException", Class::Internal),
    ("ValidationException", Class::Internal),
    ("ValidationError", Class::Internal),
    ("SerializationException", Class::Internal),
    ("AccessDeniedException", Class::Internal),
    ("NotAuthorized", Class::Internal),
    ("UnrecognizedClientException", Class::Internal),
    ("InvalidClientTokenId", Class::Internal),
    ("InvalidSignatureException", Class::Internal),
    ("IncompleteSignature", Class::Internal),
    ("MissingAuthenticationToken", Class::Internal),
    ("ExpiredTokenException", Class::Internal),
    ("RequestExpired", Class::Internal),
    ("OptInRequired", Class::Internal),
    ("InvalidAction", Class::Internal),
    ("MissingAction", Class::Internal),
    ("InvalidParameterCombination", Class::Internal),
    ("InvalidParameterValue", Class::Internal),
    ("InvalidQueryParameter", Class::Internal),
    ("MalformedQueryString", Class::Internal),
    ("MissingParameter", Class::Internal),
];

/// The reasons DynamoDB gives, per item, for cancelling a transaction.
pub const CANCELLATION_CODES: &[(&str, Class)] = &[
    ("None", Class::Outcome),
    ("ConditionalCheckFailed", Class::Outcome),
    ("TransactionConflict", Class::Retryable),
    ("ThrottlingError", Class::Retryable),
    ("ProvisionedThroughputExceeded", Class::Retryable),
    ("RequestLimitExceeded", Class::Retryable),
    ("ItemCollectionSizeLimitExceeded", Class::Internal),
    ("ValidationError", Class::Internal),
];

fn lookup(table: &[(&str, Class)], code: &str) -> Class {
    table
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(Class::Internal, |(_, class)| *class)
}

/// The class of an error code (internal when DynamoDB answers one this table does not know).
pub fn classify(code: &str) -> Class {
    lookup(ERROR_CODES, code)
}

/// The class of a transaction's cancellation reason.
pub fn classify_cancellation(code: &str) -> Class {
    lookup(CANCELLATION_CODES, code)
}

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
                .is_some_and(|code| classify(code) == Class::Retryable),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn codes_of(class: Class) -> Vec<&'static str> {
        ERROR_CODES
            .iter()
            .filter(|(_, c)| *c == class)
            .map(|(code, _)| *code)
            .collect()
    }

    /// The whole table, pinned: a change to how a code is treated must change this test too.
    #[test]
    fn every_listed_code_has_one_pinned_class() {
        assert_eq!(
            codes_of(Class::Retryable),
            [
                "ThrottlingException",
                "ProvisionedThroughputExceededException",
                "RequestLimitExceeded",
                "InternalServerError",
                "InternalFailure",
                "ServiceUnavailable",
                "TransactionConflictException",
                "ReplicatedWriteConflictException",
            ]
        );
        assert_eq!(
            codes_of(Class::Outcome),
            [
                "ConditionalCheckFailedException",
                "TransactionCanceledException",
                "TransactionInProgressException",
            ]
        );
        assert_eq!(codes_of(Class::Internal).len(), 26);
        let mut codes: Vec<&str> = ERROR_CODES.iter().map(|(c, _)| *c).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ERROR_CODES.len(), "a code is listed twice");
    }

    #[test]
    fn each_operations_documented_errors_are_classified() {
        // From the API reference's "Errors" section of each operation this shop calls.
        let single_write = [
            "ConditionalCheckFailedException",
            "InternalServerError",
            "InvalidEndpointException",
            "ItemCollectionSizeLimitExceededException",
            "ProvisionedThroughputExceededException",
            "ReplicatedWriteConflictException",
            "RequestLimitExceeded",
            "ResourceNotFoundException",
            "ThrottlingException",
            "TransactionConflictException",
        ];
        let read = [
            "InternalServerError",
            "InvalidEndpointException",
            "ProvisionedThroughputExceededException",
            "RequestLimitExceeded",
            "ResourceNotFoundException",
            "ThrottlingException",
        ];
        let transact = [
            "IdempotentParameterMismatchException",
            "InternalServerError",
            "InvalidEndpointException",
            "ProvisionedThroughputExceededException",
            "RequestLimitExceeded",
            "ResourceNotFoundException",
            "ThrottlingException",
            "TransactionCanceledException",
            "TransactionInProgressException",
        ];
        let common = [
            "AccessDeniedException",
            "IncompleteSignature",
            "InternalFailure",
            "InvalidAction",
            "InvalidClientTokenId",
            "InvalidParameterCombination",
            "InvalidParameterValue",
            "InvalidQueryParameter",
            "MalformedQueryString",
            "MissingAction",
            "MissingAuthenticationToken",
            "MissingParameter",
            "NotAuthorized",
            "OptInRequired",
            "RequestExpired",
            "ServiceUnavailable",
            "ThrottlingException",
            "ValidationError",
        ];
        for code in single_write
            .iter()
            .chain(&read)
            .chain(&transact)
            .chain(&common)
        {
            assert!(
                ERROR_CODES.iter().any(|(c, _)| c == code),
                "{code} is not in the table"
            );
        }
        assert_eq!(classify("TransactionConflictException"), Class::Retryable);
        assert_eq!(classify("ResourceNotFoundException"), Class::Internal);
        assert_eq!(classify("SomethingNew"), Class::Internal);
    }

    #[test]
    fn cancellation_reasons_are_classified() {
        assert_eq!(
            classify_cancellation("TransactionConflict"),
            Class::Retryable
        );
        assert_eq!(classify_cancellation("ThrottlingError"), Class::Retryable);
        assert_eq!(
            classify_cancellation("ProvisionedThroughputExceeded"),
            Class::Retryable
        );
        assert_eq!(
            classify_cancellation("ConditionalCheckFailed"),
            Class::Outcome
        );
        assert_eq!(classify_cancellation("None"), Class::Outcome);
        assert_eq!(classify_cancellation("ValidationError"), Class::Internal);
        assert_eq!(
            classify_cancellation("ItemCollectionSizeLimitExceeded"),
            Class::Internal
        );
    }
}

//! The problem types this API answers with, as one enum: each with its status, title and `type`
//! URI, so a kind cannot be answered with two statuses.

use http::StatusCode;

/// Base of every problem `type`: a tag URI (RFC 4151), an identifier that is never dereferenced.
pub const PROBLEM_BASE: &str = "tag:stateless-shop,2026:problem:";

/// Every problem `type` this API answers with: the last segment of its URI. `docs/api.md#errors`
/// lists them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    BadRequest,
    ValidationFailed,
    NotFound,
    MethodNotAllowed,
    Unauthorized,
    Forbidden,
    PreconditionFailed,
    PreconditionRequired,
    PayloadTooLarge,
    UnsupportedMediaType,
    Unavailable,
    Internal,
    /// 409: a line is short of stock or no longer sold.
    InsufficientStock,
    /// 409: prices changed while the order was being placed.
    PriceChanged,
    /// 409: `expected_total` no longer matches the cart.
    TotalChanged,
    /// 409: the user holds the most open orders allowed.
    TooManyOpenOrders,
    /// 409: DynamoDB still runs an earlier attempt of this very transaction.
    RequestInProgress,
    /// 422: the cart holds the most lines allowed.
    CartFull,
    /// 422: checkout of an empty cart.
    CartEmpty,
    /// 422: an idempotency key reused for another request.
    IdempotencyKeyReused,
}

impl ProblemKind {
    pub const ALL: [Self; 20] = [
        Self::BadRequest,
        Self::ValidationFailed,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::Unauthorized,
        Self::Forbidden,
        Self::PreconditionFailed,
        Self::PreconditionRequired,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::Unavailable,
        Self::Internal,
        Self::InsufficientStock,
        Self::PriceChanged,
        Self::TotalChanged,
        Self::TooManyOpenOrders,
        Self::RequestInProgress,
        Self::CartFull,
        Self::CartEmpty,
        Self::IdempotencyKeyReused,
    ];

    /// The last segment of the problem `type` URI.
    pub fn slug(self) -> &'static str {
        match self {
            Self::BadRequest => "bad-request",
            Self::ValidationFailed => "validation-failed",
            Self::NotFound => "not-found",
            Self::MethodNotAllowed => "method-not-allowed",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::PreconditionFailed => "precondition-failed",
            Self::PreconditionRequired => "precondition-required",
            Self::PayloadTooLarge => "payload-too-large",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
            Self::InsufficientStock => "insufficient-stock",
            Self::PriceChanged => "price-changed",
            Self::TotalChanged => "total-changed",
            Self::TooManyOpenOrders => "too-many-open-orders",
            Self::RequestInProgress => "request-in-progress",
            Self::CartFull => "cart-full",
            Self::CartEmpty => "cart-empty",
            Self::IdempotencyKeyReused => "idempotency-key-reused",
        }
    }

    /// The HTTP status every problem of this type carries.
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::ValidationFailed
            | Self::CartEmpty
            | Self::CartFull
            | Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::InsufficientStock
            | Self::PriceChanged
            | Self::TotalChanged
            | Self::TooManyOpenOrders
            | Self::RequestInProgress => StatusCode::CONFLICT,
        }
    }

    /// The full problem `type` URI.
    pub fn uri(self) -> String {
        format!("{PROBLEM_BASE}{}", self.slug())
    }
}

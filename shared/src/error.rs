//! The HTTP-facing error type and its one mapping to RFC 9457 `application/problem+json`.
//!
//! Every handler returns `Result<Response, ApiError>`; [`crate::http::finish`] turns an error into
//! its problem response. Client errors say what to fix; server errors say nothing about internals
//! (the cause chain goes to the log, once).

use crate::auth::AuthError;
use crate::domain::FieldError;
use crate::store::StoreError;
use http::StatusCode;
use serde::Serialize;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Base of every problem `type`: a tag URI (RFC 4151), an identifier that is never dereferenced.
pub const PROBLEM_BASE: &str = "tag:stateless-shop,2026:problem:";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed: a bad id, query parameter, header, cursor, or JSON syntax.
    #[error("{detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// The JSON is well-formed but breaks the resource's rules.
    #[error("the request body is not a valid product")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    NotFound(String),
    #[error("this route does not allow {method}")]
    MethodNotAllowed { method: String, allow: String },
    /// No bearer token (`invalid_token: false`) or a bad one (`true`). The body never says which
    /// check failed.
    #[error("a valid bearer token is required")]
    Unauthorized { invalid_token: bool },
    #[error("this route requires an admin")]
    Forbidden,
    #[error("the resource changed since you read it, or the precondition does not hold")]
    PreconditionFailed,
    /// A write that would overwrite an existing resource came without `If-Match`.
    #[error("{0}")]
    PreconditionRequired(String),
    /// The request is valid but conflicts with the current state (stock, prices, a request in
    /// flight). `kind` names the problem type; `extra` adds members to the problem document.
    #[error("{detail}")]
    Conflict {
        kind: &'static str,
        detail: String,
        extra: Option<serde_json::Map<String, serde_json::Value>>,
        retry_after: Option<u32>,
    },
    /// Well-formed but not processable as it stands, beyond field validation (an empty cart, a
    /// reused idempotency key).
    #[error("{detail}")]
    Unprocessable { kind: &'static str, detail: String },
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the request body must be JSON: send `Content-Type: application/json`")]
    UnsupportedMediaType,
    /// DynamoDB is throttling or unreachable; the client should retry after a pause.
    #[error("the service is briefly unavailable")]
    Unavailable(#[source] BoxError),
    /// A bug or misconfiguration. The client learns nothing more; the log gets the cause chain.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::BadRequest {
            detail: detail.into(),
            errors: vec![],
        }
    }

    pub fn bad_field(error: FieldError) -> Self {
        Self::BadRequest {
            detail: format!("invalid {}: {}", error.field, error.message),
            errors: vec![error],
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The last segment of the problem `type` URI; README "Errors" lists them all.
    pub fn slug(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "bad-request",
            Self::Validation(_) => "validation-failed",
            Self::NotFound(_) => "not-found",
            Self::MethodNotAllowed { .. } => "method-not-allowed",
            Self::Unauthorized { .. } => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::PreconditionFailed => "precondition-failed",
            Self::PreconditionRequired(_) => "precondition-required",
            Self::Conflict { kind, .. } | Self::Unprocessable { kind, .. } => kind,
            Self::PayloadTooLarge { .. } => "payload-too-large",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// The problem document. Server errors carry only their title.
    pub fn problem(&self) -> Problem<'_> {
        let status = self.status();
        let (detail, errors) = match self {
            Self::BadRequest { detail, errors } => (Some(detail.clone()), errors.as_slice()),
            Self::Validation(errors) => (Some(self.to_string()), errors.as_slice()),
            Self::Unavailable(_) => (
                Some("retry after the number of seconds in Retry-After".to_owned()),
                &[][..],
            ),
            Self::Internal(_) => (None, &[][..]),
            _ => (Some(self.to_string()), &[][..]),
        };
        Problem {
            kind: format!("{PROBLEM_BASE}{}", self.slug()),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail,
            errors,
            extra: match self {
                Self::Conflict { extra, .. } => extra.as_ref(),
                _ => None,
            },
        }
    }
}

/// An RFC 9457 problem document, with an `errors` extension listing each offending field.
#[derive(Debug, Serialize)]
pub struct Problem<'a> {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub errors: &'a [FieldError],
    /// Problem-type specific members (RFC 9457 §3.2), e.g. the products short of stock.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub extra: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Missing => Self::Unauthorized {
                invalid_token: false,
            },
            AuthError::Invalid(reason) => {
                // The reason goes to the log only; the token itself goes nowhere.
                tracing::info!(%reason, "bearer token rejected");
                Self::Unauthorized {
                    invalid_token: true,
                }
            }
            AuthError::NotAdmin => Self::Forbidden,
            AuthError::KeysUnavailable => Self::Unavailable(Box::new(err)),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Self::NotFound("no such resource".into()),
            StoreError::PreconditionFailed => Self::PreconditionFailed,
            StoreError::Unavailable(_) => Self::Unavailable(Box::new(err)),
            StoreError::Internal(_) => Self::Internal(Box::new(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_reveal_nothing() {
        let err = ApiError::Internal("table secret-name is missing".into());
        let body = serde_json::to_string(&err.problem()).expect("serializes");
        assert!(!body.contains("secret-name"), "{body}");
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn validation_problems_list_fields() {
        let err = ApiError::Validation(vec![FieldError::new("price", "must be an integer")]);
        let v = serde_json::to_value(err.problem()).expect("serializes");
        assert_eq!(v["status"], 422);
        assert_eq!(
            v["type"],
            "tag:stateless-shop,2026:problem:validation-failed"
        );
        assert_eq!(v["errors"][0]["field"], "price");
    }
}

//! The HTTP-facing error type, the problem types as one enum, and their one mapping to RFC 9457
//! `application/problem+json`.
//!
//! Every handler returns `Result<Response, ApiError>`; [`super::finish`] turns an error into its
//! problem response. Client errors say what to fix; server errors say nothing about internals (the
//! cause chain goes to the log, once). The lower layers' errors ([`AuthError`], [`StoreError`])
//! are mapped here, the only place that knows both them and HTTP.

use super::conflict::Conflict;
use super::kind::ProblemKind;
use crate::auth::AuthError;
use crate::domain::FieldError;
use crate::store::StoreError;
use http::StatusCode;
use serde::Serialize;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a request body was meant to be, for the 422 detail ("… is not a valid cart line").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyOf {
    Product,
    CartLine,
    Checkout,
}

impl BodyOf {
    fn noun(self) -> &'static str {
        match self {
            Self::Product => "product",
            Self::CartLine => "cart line",
            Self::Checkout => "checkout request",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed: a bad id, query parameter, header, cursor, or JSON syntax.
    #[error("{detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// The JSON is well-formed but breaks the resource's rules.
    #[error("the request body is not a valid {}", .body.noun())]
    Validation {
        body: BodyOf,
        errors: Vec<FieldError>,
    },
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
    /// flight): 409, each kind with its own members.
    #[error("{}", .0.detail())]
    Conflict(Conflict),
    /// Well-formed but not processable as it stands, beyond field validation (an empty cart, a
    /// reused idempotency key).
    #[error("{detail}")]
    Unprocessable { kind: ProblemKind, detail: String },
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

    /// 422 for a body of `body` that breaks these rules.
    pub fn invalid(body: BodyOf) -> impl FnOnce(Vec<FieldError>) -> Self {
        move |errors| Self::Validation { body, errors }
    }

    /// The status of this error's problem type. `Conflict` and `Unprocessable` carry theirs in
    /// their kind, so a kind cannot be answered with two statuses.
    pub fn status(&self) -> StatusCode {
        self.kind().status()
    }

    /// The problem type.
    pub fn kind(&self) -> ProblemKind {
        match self {
            Self::BadRequest { .. } => ProblemKind::BadRequest,
            Self::Validation { .. } => ProblemKind::ValidationFailed,
            Self::NotFound(_) => ProblemKind::NotFound,
            Self::MethodNotAllowed { .. } => ProblemKind::MethodNotAllowed,
            Self::Unauthorized { .. } => ProblemKind::Unauthorized,
            Self::Forbidden => ProblemKind::Forbidden,
            Self::PreconditionFailed => ProblemKind::PreconditionFailed,
            Self::PreconditionRequired(_) => ProblemKind::PreconditionRequired,
            Self::Conflict(conflict) => conflict.kind(),
            Self::Unprocessable { kind, .. } => *kind,
            Self::PayloadTooLarge { .. } => ProblemKind::PayloadTooLarge,
            Self::UnsupportedMediaType => ProblemKind::UnsupportedMediaType,
            Self::Unavailable(_) => ProblemKind::Unavailable,
            Self::Internal(_) => ProblemKind::Internal,
        }
    }

    /// The problem document. Server errors carry only their title.
    pub fn problem(&self) -> Problem<'_> {
        let status = self.status();
        let (detail, errors) = match self {
            Self::BadRequest { detail, errors } => (Some(detail.clone()), errors.as_slice()),
            Self::Validation { errors, .. } => (Some(self.to_string()), errors.as_slice()),
            Self::Unavailable(_) => (
                Some("retry after the number of seconds in Retry-After".to_owned()),
                &[][..],
            ),
            Self::Internal(_) => (None, &[][..]),
            _ => (Some(self.to_string()), &[][..]),
        };
        Problem {
            kind: self.kind().uri(),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail,
            errors,
            extra: match self {
                Self::Conflict(conflict) => conflict.members(),
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
    pub extra: Option<serde_json::Map<String, serde_json::Value>>,
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
        let err = ApiError::invalid(BodyOf::Product)(vec![FieldError::new(
            "price",
            "must be an integer",
        )]);
        let v = serde_json::to_value(err.problem()).expect("serializes");
        assert_eq!(v["detail"], "the request body is not a valid product");
        assert_eq!(v["status"], 422);
        assert_eq!(
            v["type"],
            "tag:stateless-shop,2026:problem:validation-failed"
        );
        assert_eq!(v["errors"][0]["field"], "price");
    }

    #[test]
    fn each_body_names_itself_in_its_422() {
        let cart = ApiError::invalid(BodyOf::CartLine)(vec![]);
        assert_eq!(
            cart.to_string(),
            "the request body is not a valid cart line"
        );
        let checkout = ApiError::invalid(BodyOf::Checkout)(vec![]);
        assert_eq!(
            checkout.to_string(),
            "the request body is not a valid checkout request"
        );
    }

    #[test]
    fn problem_slugs_are_distinct() {
        let slugs: std::collections::HashSet<_> =
            ProblemKind::ALL.iter().map(|k| k.slug()).collect();
        assert_eq!(slugs.len(), ProblemKind::ALL.len());
    }
}

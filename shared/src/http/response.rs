//! The response side: JSON with entity tags, 304/204, replayed bodies, and every error rendered
//! as its RFC 9457 problem document (5xx causes logged once, as a chain).

use super::{ApiError, JSON, PROBLEM_JSON};
use crate::chain::cause_chain;
use crate::domain::EntityTag;
use http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;
use std::convert::Infallible;

/// A JSON response. Its body is text: a binary one is sent to API Gateway base64-encoded
/// (`isBase64Encoded`), a third larger, encoded here and decoded there on every response.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Response<Body>, ApiError> {
    let body = serde_json::to_string(value).map_err(|e| ApiError::Internal(Box::new(e)))?;
    respond(status, &[(header::CONTENT_TYPE, JSON)], Body::Text(body))
}

/// A JSON response carrying the resource's entity tag.
pub fn json_with_etag<T: Serialize>(
    status: StatusCode,
    value: &T,
    etag: &EntityTag,
) -> Result<Response<Body>, ApiError> {
    let mut response = json(status, value)?;
    set_etag(&mut response, etag)?;
    Ok(response)
}

/// How long a shared cache or browser may reuse a public catalog answer before revalidating it
/// with its `ETag`. Short: stock moves with every sale, and a stale figure only costs the shopper
/// a 409 at checkout, which re-checks stock and price. A revalidation that matches is a 304
/// without a body.
pub const CATALOG_CACHE_CONTROL: &str = "public, max-age=5, must-revalidate";

/// Marks a public catalog answer (200 or 304) as cacheable for [`CATALOG_CACHE_CONTROL`].
pub fn cacheable(response: Response<Body>) -> Result<Response<Body>, ApiError> {
    with_header(response, header::CACHE_CONTROL, CATALOG_CACHE_CONTROL)
}

/// 200 with `value` as JSON and a strong `ETag` derived from those very bytes, or 304 when
/// `precondition` (`If-None-Match`) already names that tag: for answers with no stored tag of
/// their own, such as a page of the catalog.
pub fn json_tagged_by_content<T: Serialize>(
    value: &T,
    precondition: &crate::domain::Precondition,
) -> Result<Response<Body>, ApiError> {
    use sha2::Digest;
    let body = serde_json::to_string(value).map_err(|e| ApiError::Internal(Box::new(e)))?;
    let digest = sha2::Sha256::digest(body.as_bytes());
    let tag = EntityTag::from_stored(digest[..16].iter().map(|b| format!("{b:02x}")).collect());
    if super::not_modified(precondition, &tag) {
        return not_modified_response(&tag);
    }
    let mut response = respond(
        StatusCode::OK,
        &[(header::CONTENT_TYPE, JSON)],
        Body::Text(body),
    )?;
    set_etag(&mut response, &tag)?;
    Ok(response)
}

/// 304 Not Modified with the current tag and no body.
pub fn not_modified_response(etag: &EntityTag) -> Result<Response<Body>, ApiError> {
    let mut response = respond(StatusCode::NOT_MODIFIED, &[], Body::Empty)?;
    set_etag(&mut response, etag)?;
    Ok(response)
}

/// Adds (or replaces) one header on a response.
pub fn with_header(
    mut response: Response<Body>,
    name: header::HeaderName,
    value: &str,
) -> Result<Response<Body>, ApiError> {
    let value = HeaderValue::from_str(value).map_err(|e| ApiError::Internal(Box::new(e)))?;
    response.headers_mut().insert(name, value);
    Ok(response)
}

/// A JSON response from an already-serialised body (an idempotent replay, for one).
pub fn raw_json(status: StatusCode, body: String) -> Result<Response<Body>, ApiError> {
    respond(status, &[(header::CONTENT_TYPE, JSON)], Body::Text(body))
}

/// 204 No Content.
pub fn no_content() -> Result<Response<Body>, ApiError> {
    respond(StatusCode::NO_CONTENT, &[], Body::Empty)
}

fn set_etag(response: &mut Response<Body>, etag: &EntityTag) -> Result<(), ApiError> {
    let value =
        HeaderValue::from_str(&etag.header_value()).map_err(|e| ApiError::Internal(Box::new(e)))?;
    response.headers_mut().insert(header::ETAG, value);
    Ok(())
}

fn respond(
    status: StatusCode,
    headers: &[(header::HeaderName, &'static str)],
    body: Body,
) -> Result<Response<Body>, ApiError> {
    let mut builder = Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(name, *value);
    }
    builder
        .body(body)
        .map_err(|e| ApiError::Internal(Box::new(e)))
}

/// Turns a handler's result into the response Lambda returns: errors become problem documents, and
/// 5xx causes are logged once, as a chain, without request data. Never fails.
pub fn finish(result: Result<Response<Body>, ApiError>) -> Result<Response<Body>, Infallible> {
    Ok(result.unwrap_or_else(|err| problem_response(&err)))
}

/// The problem+json response for `err`.
pub fn problem_response(err: &ApiError) -> Response<Body> {
    if err.status().is_server_error() {
        tracing::error!(error = %cause_chain(err), status = err.status().as_u16(), "request failed");
    }
    let body = serde_json::to_string(&err.problem())
        .unwrap_or_else(|_| r#"{"title":"Internal Server Error","status":500}"#.to_owned());
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = err.status();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    match err {
        ApiError::MethodNotAllowed { allow, .. } => {
            if let Ok(value) = HeaderValue::from_str(allow) {
                headers.insert(header::ALLOW, value);
            }
        }
        ApiError::Unavailable(_) => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        ApiError::Conflict(conflict) => {
            if let Some(secs) = conflict.retry_after() {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
        }
        // RFC 6750 §3: the challenge, with an error code only when a token was presented.
        ApiError::Unauthorized {
            invalid_token: false,
        } => {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        ApiError::Unauthorized {
            invalid_token: true,
        } => {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer error="invalid_token""#),
            );
        }
        ApiError::Forbidden => {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer error="insufficient_scope""#),
            );
        }
        _ => {}
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_sets_retry_after_and_405_sets_allow() {
        let r = problem_response(&ApiError::Unavailable("x".into()));
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        let r = problem_response(&ApiError::MethodNotAllowed {
            method: "POST".into(),
            allow: "GET".into(),
        });
        assert_eq!(r.headers()[header::ALLOW], "GET");
        assert_eq!(r.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }

    /// A binary body would go to API Gateway base64-encoded: every JSON answer, problems
    /// included, is text.
    #[test]
    fn json_and_problem_bodies_are_text() {
        let ok = json(StatusCode::OK, &serde_json::json!({"a": 1})).expect("a response");
        assert!(matches!(ok.body(), Body::Text(t) if t == r#"{"a":1}"#));
        let tagged = json_tagged_by_content(&[1, 2], &crate::domain::Precondition::None)
            .expect("a response");
        assert!(matches!(tagged.body(), Body::Text(t) if t == "[1,2]"));
        let problem = problem_response(&ApiError::Unavailable("x".into()));
        assert!(matches!(problem.body(), Body::Text(t) if t.contains("\"status\":503")));
    }
}

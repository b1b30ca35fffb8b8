//! The request side: raw headers, path and query parameters and bodies turned into domain values,
//! or an [`ApiError`] saying what to fix.

use super::ApiError;
use super::JSON;
use crate::domain::{EntityTag, FieldError, IdempotencyKey, OrderId, Precondition, ProductId};
use http::{HeaderValue, header};
use lambda_http::{Request, RequestExt};

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Most entity tags accepted in one `If-Match` / `If-None-Match` header.
pub const MAX_ETAGS: usize = 20;

/// Refuses any method but `allowed` with 405 and an `Allow` header. API Gateway routes by method,
/// but a function can also be invoked directly (tests, `cargo lambda watch`, the console).
pub fn require_method(req: &Request, allowed: &'static str) -> Result<(), ApiError> {
    if req.method().as_str() == allowed {
        Ok(())
    } else {
        Err(ApiError::MethodNotAllowed {
            method: req.method().to_string(),
            allow: allowed.to_owned(),
        })
    }
}

/// The path parameter `name`; 400 when absent (a function invoked outside its route).
pub fn path_param(req: &Request, name: &str) -> Result<String, ApiError> {
    req.path_parameters()
        .first(name)
        .map(str::to_owned)
        .ok_or_else(|| ApiError::bad_request(format!("the path has no {name}")))
}

/// The path parameter `name` as a product id; 400 when absent or malformed.
pub fn product_id(req: &Request, name: &str) -> Result<ProductId, ApiError> {
    ProductId::parse(&path_param(req, name)?).map_err(|mut e| {
        e.field = name.to_owned();
        ApiError::bad_field(e)
    })
}

/// The `{id}` path parameter as an order id; 400 when malformed.
pub fn order_id(req: &Request) -> Result<OrderId, ApiError> {
    OrderId::parse(&path_param(req, "id")?).map_err(ApiError::bad_field)
}

/// The one `Idempotency-Key` header: 400 when missing, repeated or malformed.
pub fn idempotency_key(req: &Request) -> Result<IdempotencyKey, ApiError> {
    let mut values = req.headers().get_all("idempotency-key").iter();
    let missing = || {
        ApiError::bad_field(FieldError::new(
            "Idempotency-Key",
            "is required: send a unique key (e.g. a UUID) per order you mean to place",
        ))
    };
    match (values.next(), values.next()) {
        (Some(value), None) => {
            let raw = value.to_str().map_err(|_| {
                ApiError::bad_field(FieldError::new("Idempotency-Key", "must be visible ASCII"))
            })?;
            IdempotencyKey::parse(raw).map_err(ApiError::bad_field)
        }
        (None, _) => Err(missing()),
        (Some(_), Some(_)) => Err(ApiError::bad_field(FieldError::new(
            "Idempotency-Key",
            "may be sent only once",
        ))),
    }
}

/// The body as JSON if there is one (`None` for an empty body), checked as [`json_body`] does.
pub fn optional_json_body(req: &Request) -> Result<Option<serde_json::Value>, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.is_empty() {
        Ok(None)
    } else {
        json_body(req).map(Some)
    }
}

/// A query parameter given at most once. Repeating one (`?limit=1&limit=2`) is ambiguous: 400.
pub fn query_param(req: &Request, name: &str) -> Result<Option<String>, ApiError> {
    let params = req.query_string_parameters();
    match params.all(name).as_deref() {
        None => Ok(None),
        Some([one]) => Ok(Some((*one).to_owned())),
        Some(_) => Err(ApiError::bad_field(FieldError::new(
            name,
            "may be given only once",
        ))),
    }
}

/// A page size from `?limit=`: `default` when absent, else an integer in `1..=max`.
pub fn limit_param(req: &Request, default: usize, max: usize) -> Result<usize, ApiError> {
    match query_param(req, "limit")? {
        None => Ok(default),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_field(FieldError::new(
                "limit",
                format!("must be an integer from 1 to {max}"),
            ))),
        },
    }
}

/// The body as JSON: 415 unless `Content-Type` is JSON, 413 past [`MAX_BODY_BYTES`], 400 when it
/// does not parse (with the line and column).
pub fn json_body(req: &Request) -> Result<serde_json::Value, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != JSON && !(essence.starts_with("application/") && essence.ends_with("+json")) {
        return Err(ApiError::UnsupportedMediaType);
    }
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "the request body is empty; send a JSON object",
        ));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))
}

/// Parses `If-Match` / `If-None-Match` into one [`Precondition`]. Sending both is refused (400):
/// no route here needs the combination, and guessing its meaning could lose a write.
pub fn precondition(req: &Request) -> Result<Precondition, ApiError> {
    let header = |name: header::HeaderName| -> Result<Option<String>, ApiError> {
        let values: Vec<&HeaderValue> = req.headers().get_all(&name).iter().collect();
        if values.is_empty() {
            return Ok(None);
        }
        let mut joined = Vec::new();
        for v in values {
            joined.push(
                v.to_str()
                    .map_err(|_| ApiError::bad_request(format!("{name} is not visible ASCII")))?,
            );
        }
        Ok(Some(joined.join(",")))
    };
    match (header(header::IF_MATCH)?, header(header::IF_NONE_MATCH)?) {
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "send If-Match or If-None-Match, not both",
        )),
        (None, None) => Ok(Precondition::None),
        (Some(raw), None) => match parse_etags(&raw, "If-Match")? {
            EtagList::Any => Ok(Precondition::Exists),
            // If-Match uses the strong comparison: a weak tag never matches (RFC 9110 §13.1.1).
            EtagList::Tags(tags) => Ok(Precondition::MatchesAny(
                tags.into_iter()
                    .filter(|(weak, _)| !weak)
                    .map(|(_, t)| t)
                    .collect(),
            )),
        },
        (None, Some(raw)) => match parse_etags(&raw, "If-None-Match")? {
            EtagList::Any => Ok(Precondition::Absent),
            // If-None-Match uses the weak comparison: W/"x" and "x" are the same tag.
            EtagList::Tags(tags) => Ok(Precondition::MatchesNone(
                tags.into_iter().map(|(_, t)| t).collect(),
            )),
        },
    }
}

enum EtagList {
    Any,
    Tags(Vec<(bool, EntityTag)>),
}

/// RFC 9110 §8.8.3: `*` or a comma-separated list of `"opaque"` / `W/"opaque"`. The list is read
/// tag by tag, not split on commas first: a comma may appear inside an entity tag.
fn parse_etags(raw: &str, name: &str) -> Result<EtagList, ApiError> {
    let malformed =
        || ApiError::bad_request(format!("{name} must be * or a list of quoted entity tags"));
    if raw.trim() == "*" {
        return Ok(EtagList::Any);
    }
    let ows = [' ', '\t'];
    let mut tags = Vec::new();
    let mut rest = raw;
    loop {
        // Optional whitespace and empty list elements (`#rule`, RFC 9110 §5.6.1).
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            break;
        }
        let (weak, quoted) = match rest.strip_prefix("W/") {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let opaque = quoted.strip_prefix('"').ok_or_else(malformed)?;
        let end = opaque.find('"').ok_or_else(malformed)?;
        let inner = &opaque[..end];
        // etagc = %x21 / %x23-7E / obs-text: no spaces or controls inside (quotes end the tag).
        if inner.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(malformed());
        }
        tags.push((weak, EntityTag::from_stored(inner.to_owned())));
        // After a tag: the end of the list, or a comma.
        rest = opaque[end + 1..].trim_start_matches(ows);
        if !(rest.is_empty() || rest.starts_with(',')) {
            return Err(malformed());
        }
    }
    if tags.is_empty() {
        return Err(malformed());
    }
    if tags.len() > MAX_ETAGS {
        return Err(ApiError::bad_request(format!(
            "{name} may list at most {MAX_ETAGS} entity tags"
        )));
    }
    Ok(EtagList::Tags(tags))
}

/// Whether a GET with `If-None-Match` may answer 304 for a resource whose tag is `current`.
pub fn not_modified(precondition: &Precondition, current: &EntityTag) -> bool {
    match precondition {
        Precondition::Absent => true,
        Precondition::MatchesNone(tags) => tags.contains(current),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;
    use lambda_http::Body;

    fn with_header(name: &'static str, value: &str) -> Request {
        let mut req = Request::new(Body::Empty);
        req.headers_mut()
            .insert(name, HeaderValue::from_str(value).expect("valid header"));
        req
    }

    fn tags(p: Precondition) -> Vec<String> {
        match p {
            Precondition::MatchesAny(t) | Precondition::MatchesNone(t) => {
                t.iter().map(|t| t.as_str().to_owned()).collect()
            }
            other => panic!("expected a tag list, got {other:?}"),
        }
    }

    #[test]
    fn if_match_parses_lists_and_drops_weak_tags() {
        assert_eq!(
            precondition(&with_header("if-match", "*")).ok(),
            Some(Precondition::Exists)
        );
        let p = precondition(&with_header("if-match", r#""a", W/"b" ,"c""#)).expect("valid");
        assert_eq!(tags(p), ["a", "c"]);
        let p = precondition(&with_header("if-none-match", r#"W/"b""#)).expect("valid");
        assert_eq!(tags(p), ["b"]);
        // A comma is an etagc: it may appear inside a tag; empty list elements are skipped.
        let p = precondition(&with_header("if-none-match", r#", "a,b" ,, W/",""#)).expect("valid");
        assert_eq!(tags(p), ["a,b", ","]);
        assert_eq!(
            precondition(&with_header("if-none-match", "*")).ok(),
            Some(Precondition::Absent)
        );
    }

    #[test]
    fn malformed_preconditions_are_bad_requests() {
        for bad in [
            "a",
            r#""a"#,
            r#""a b""#,
            ",",
            r#"W/a"#,
            r#""a"b""#,
            r#""a""b""#,
            r#"W/ "a""#,
            r#""a" *"#,
            "",
        ] {
            let err = precondition(&with_header("if-match", bad)).expect_err(bad);
            assert_eq!(err.status(), StatusCode::BAD_REQUEST, "{bad}");
        }
        let many = (0..=MAX_ETAGS)
            .map(|i| format!("\"{i}\""))
            .collect::<Vec<_>>()
            .join(",");
        assert!(precondition(&with_header("if-match", &many)).is_err());
        let mut both = with_header("if-match", "*");
        both.headers_mut()
            .insert("if-none-match", HeaderValue::from_static("*"));
        assert!(precondition(&both).is_err());
    }

    #[test]
    fn bodies_are_checked_for_type_size_and_syntax() {
        let mk = |ct: &str, body: &str| {
            let mut req = with_header("content-type", ct);
            *req.body_mut() = Body::Text(body.to_owned());
            json_body(&req).map_err(|e| e.status().as_u16())
        };
        assert!(mk("application/json; charset=utf-8", "{}").is_ok());
        assert!(mk("application/merge-patch+json", "{}").is_ok());
        assert_eq!(mk("text/plain", "{}"), Err(415));
        assert_eq!(mk("application/json", "{"), Err(400));
        assert_eq!(mk("application/json", ""), Err(400));
        assert_eq!(
            mk("application/json", &" ".repeat(MAX_BODY_BYTES + 1)),
            Err(413)
        );
    }
}

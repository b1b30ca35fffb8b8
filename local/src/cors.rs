//! CORS as API Gateway applies it from the template's `x-amazon-apigateway-cors`, so a browser
//! front end developed against the local API behaves as it will once deployed.
//!
//! API Gateway answers a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`)
//! itself, for any path, without calling a function: 204 with the allowed methods and headers.
//! To other requests from an allowed origin it adds `Access-Control-Allow-Origin` and
//! `Access-Control-Expose-Headers`. A test in `tests/routes.rs` keeps these settings equal to the
//! template's.

use hyper::header::{HeaderMap, HeaderValue};

/// `allowMethods` in the template.
pub const ALLOW_METHODS: &[&str] = &["GET", "PUT", "POST", "DELETE"];
/// `allowHeaders` in the template.
pub const ALLOW_HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "if-match",
    "if-none-match",
    "idempotency-key",
];
/// `exposeHeaders` in the template.
pub const EXPOSE_HEADERS: &[&str] = &[
    "etag",
    "location",
    "retry-after",
    "idempotent-replayed",
    "www-authenticate",
];
/// `maxAge` in the template, seconds.
pub const MAX_AGE_SECS: u32 = 600;
/// The template's `CorsAllowOrigins` default.
pub const DEFAULT_ALLOW_ORIGINS: &str = "*";

/// Which origins may call the API: `*`, or a list (`CorsAllowOrigins`, comma-separated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    origins: Vec<String>,
}

impl Default for Cors {
    fn default() -> Self {
        Self::parse(DEFAULT_ALLOW_ORIGINS)
    }
}

impl Cors {
    /// From the template parameter's form: `*` or `https://a.example,https://b.example`.
    pub fn parse(origins: &str) -> Self {
        Self {
            origins: origins
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if it is allowed.
    fn allow_origin<'a>(&'a self, origin: &str) -> Option<&'a str> {
        if self.origins.iter().any(|o| o == "*") {
            Some("*")
        } else {
            self.origins
                .iter()
                .find(|o| o.as_str() == origin)
                .map(String::as_str)
        }
    }

    /// Whether `headers` (of an `OPTIONS` request) make a CORS preflight.
    pub fn is_preflight(headers: &HeaderMap) -> bool {
        headers.contains_key(hyper::header::ORIGIN)
            && headers.contains_key(hyper::header::ACCESS_CONTROL_REQUEST_METHOD)
    }

    /// The headers of API Gateway's 204 answer to a preflight: none when the origin or the
    /// method is not allowed (the browser then refuses the call).
    pub fn preflight(&self, request: &HeaderMap) -> HeaderMap {
        let mut out = HeaderMap::new();
        let header = |name| {
            request
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
        };
        let (Some(origin), Some(method)) = (
            header(hyper::header::ORIGIN),
            header(hyper::header::ACCESS_CONTROL_REQUEST_METHOD),
        ) else {
            return out;
        };
        let Some(allowed) = self.allow_origin(origin) else {
            return out;
        };
        if !ALLOW_METHODS.iter().any(|m| m.eq_ignore_ascii_case(method)) {
            return out;
        }
        let pairs = [
            (
                hyper::header::ACCESS_CONTROL_ALLOW_ORIGIN,
                allowed.to_owned(),
            ),
            (
                hyper::header::ACCESS_CONTROL_ALLOW_METHODS,
                ALLOW_METHODS.join(","),
            ),
            (
                hyper::header::ACCESS_CONTROL_ALLOW_HEADERS,
                ALLOW_HEADERS.join(","),
            ),
            (
                hyper::header::ACCESS_CONTROL_MAX_AGE,
                MAX_AGE_SECS.to_string(),
            ),
        ];
        for (name, value) in pairs {
            if let Ok(value) = HeaderValue::from_str(&value) {
                out.insert(name, value);
            }
        }
        out
    }

    /// Adds the CORS headers API Gateway adds to a response for a request from an allowed origin.
    pub fn decorate(&self, request_origin: Option<&str>, response: &mut HeaderMap) {
        let Some(allowed) = request_origin.and_then(|o| self.allow_origin(o)) else {
            return;
        };
        if let Ok(value) = HeaderValue::from_str(allowed) {
            response.insert(hyper::header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        }
        if let Ok(value) = HeaderValue::from_str(&EXPOSE_HEADERS.join(",")) {
            response.insert(hyper::header::ACCESS_CONTROL_EXPOSE_HEADERS, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preflight_from(origin: &str, method: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            hyper::header::ORIGIN,
            HeaderValue::from_str(origin).expect("origin"),
        );
        h.insert(
            hyper::header::ACCESS_CONTROL_REQUEST_METHOD,
            HeaderValue::from_str(method).expect("method"),
        );
        h
    }

    #[test]
    fn any_origin_by_default() {
        let cors = Cors::default();
        let h = preflight_from("http://localhost:5173", "PUT");
        assert!(Cors::is_preflight(&h));
        let out = cors.preflight(&h);
        assert_eq!(out["access-control-allow-origin"], "*");
        assert_eq!(out["access-control-allow-methods"], "GET,PUT,POST,DELETE");
        assert!(
            out["access-control-allow-headers"]
                .to_str()
                .is_ok_and(|v| v.contains("idempotency-key"))
        );
        assert_eq!(out["access-control-max-age"], "600");
    }

    #[test]
    fn a_listed_origin_is_echoed_and_others_get_nothing() {
        let cors = Cors::parse("https://shop.example, http://localhost:5173");
        let out = cors.preflight(&preflight_from("http://localhost:5173", "POST"));
        assert_eq!(out["access-control-allow-origin"], "http://localhost:5173");
        assert!(
            cors.preflight(&preflight_from("https://evil.example", "POST"))
                .is_empty()
        );
        assert!(
            cors.preflight(&preflight_from("https://shop.example", "PATCH"))
                .is_empty(),
            "a method the API does not allow"
        );
        let mut response = HeaderMap::new();
        cors.decorate(Some("https://shop.example"), &mut response);
        assert_eq!(
            response["access-control-allow-origin"],
            "https://shop.example"
        );
        assert!(
            response["access-control-expose-headers"]
                .to_str()
                .is_ok_and(|v| v.contains("etag"))
        );
        let mut response = HeaderMap::new();
        cors.decorate(Some("https://evil.example"), &mut response);
        cors.decorate(None, &mut response);
        assert!(response.is_empty());
    }
}

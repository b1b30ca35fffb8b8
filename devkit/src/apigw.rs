//! API Gateway HTTP API emulation: route matching and payload-2.0 events.
//!
//! The local API and the tests both build the JSON event API Gateway would send and hand it to
//! `lambda_http::request::from_str`, the same deserialisation the Lambda runtime performs. So a
//! handler sees identical `Request`s (headers, path parameters, raw query, body encoding) in a
//! test, in the local API and on AWS.

use base64::Engine as _;
use serde_json::{Map, Value, json};

/// Every function's timeout: `Timeout` in `template.yaml`'s `Globals` (a test in `local/` keeps
/// them equal). The local API and the harness give each invocation this deadline, as Lambda
/// does; the functions answer 503 a margin before it ([`shared::http::within_budget`]).
pub const FUNCTION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Matches a route path such as `/products/{id}` against a concrete path, returning the path
/// parameters, or `None` when it does not match. `{name+}` greedy parameters are not used here.
pub fn match_route(route: &str, path: &str) -> Option<Vec<(String, String)>> {
    let mut params = Vec::new();
    let mut want = route.trim_end_matches('/').split('/');
    let mut got = path.trim_end_matches('/').split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(g)) => {
                if let Some(name) = w.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                    if g.is_empty() {
                        return None;
                    }
                    params.push((name.to_owned(), g.to_owned()));
                } else if w != g {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

/// One HTTP call, as API Gateway would receive it for a route.
#[derive(Debug, Clone)]
pub struct Call {
    method: String,
    route: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    source_ip: String,
    request_id: String,
}

impl Call {
    /// `route` is the route's path template (`/products/{id}`), `target` the requested path with an
    /// optional query string (`/products/p1?x=1`).
    pub fn new(method: &str, route: &str, target: &str) -> Self {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Self {
            method: method.to_ascii_uppercase(),
            route: route.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers: Vec::new(),
            body: None,
            source_ip: "127.0.0.1".to_owned(),
            request_id: uuid::Uuid::new_v4().to_string(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// A JSON body with `Content-Type: application/json`.
    pub fn json(self, value: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(value.to_string())
    }

    pub fn source_ip(mut self, ip: &str) -> Self {
        self.source_ip = ip.to_owned();
        self
    }

    /// The payload-2.0 event: lower-case header names, repeated headers joined with commas,
    /// cookies split out, the body as text or base64.
    pub fn event(&self) -> Value {
        let mut headers = Map::new();
        let mut cookies = Vec::new();
        for (name, value) in &self.headers {
            if name == "cookie" {
                cookies.extend(value.split(';').map(|c| Value::String(c.trim().to_owned())));
                continue;
            }
            let joined = match headers.get(name).and_then(Value::as_str) {
                Some(prev) => format!("{prev},{value}"),
                None => value.clone(),
            };
            headers.insert(name.clone(), Value::String(joined));
        }
        let user_agent = headers
            .get("user-agent")
            .cloned()
            .unwrap_or(Value::String(String::new()));
        let params: Map<String, Value> = match_route(&self.route, &self.path)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let route_key = format!("{} {}", self.method, self.route);
        let mut query = Map::new();
        for pair in self.query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let joined = match query.get(k).and_then(Value::as_str) {
                Some(prev) => format!("{prev},{v}"),
                None => v.to_owned(),
            };
            query.insert(k.to_owned(), Value::String(joined));
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let mut event = json!({
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": self.path,
            "rawQueryString": self.query,
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "local",
                "domainName": "localhost",
                "domainPrefix": "localhost",
                "http": {
                    "method": self.method,
                    "path": self.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": self.source_ip,
                    "userAgent": user_agent,
                },
                "requestId": self.request_id,
                "routeKey": route_key,
                "stage": "$default",
                "time": "",
                "timeEpoch": now as u64,
            },
            "isBase64Encoded": false,
        });
        if !query.is_empty() {
            event["queryStringParameters"] = Value::Object(query);
        }
        if !params.is_empty() {
            event["pathParameters"] = Value::Object(params);
        }
        if !cookies.is_empty() {
            event["cookies"] = Value::Array(cookies);
        }
        if let Some(body) = &self.body {
            match std::str::from_utf8(body) {
                Ok(text) => event["body"] = Value::String(text.to_owned()),
                Err(_) => {
                    event["body"] =
                        Value::String(base64::engine::general_purpose::STANDARD.encode(body));
                    event["isBase64Encoded"] = Value::Bool(true);
                }
            }
        }
        event
    }

    /// The `lambda_http::Request` Lambda's runtime would build from [`Call::event`].
    pub fn request(&self) -> Result<lambda_http::Request, serde_json::Error> {
        request_from_event(&self.event())
    }
}

/// Deserialises an event exactly as the Lambda runtime does (`lambda_http::request::from_str`).
pub fn request_from_event(event: &Value) -> Result<lambda_http::Request, serde_json::Error> {
    lambda_http::request::from_str(&event.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::RequestExt;

    #[test]
    fn routes_match_segment_by_segment() {
        assert_eq!(match_route("/products", "/products"), Some(vec![]));
        assert_eq!(
            match_route("/products/{id}", "/products/p1"),
            Some(vec![("id".into(), "p1".into())])
        );
        assert_eq!(match_route("/products/{id}", "/products/"), None);
        assert_eq!(match_route("/products/{id}", "/products/a/b"), None);
        assert_eq!(match_route("/products", "/orders"), None);
    }

    #[test]
    fn events_become_the_requests_lambda_builds() {
        let req = Call::new("put", "/products/{id}", "/products/p1?limit=2&limit=3")
            .header("If-Match", "\"x\"")
            .json(&json!({"a": 1}))
            .request()
            .expect("a valid event");
        assert_eq!(req.method(), "PUT");
        assert_eq!(req.path_parameters().first("id"), Some("p1"));
        assert_eq!(
            req.query_string_parameters().all("limit"),
            Some(vec!["2", "3"])
        );
        assert_eq!(req.headers()["if-match"], "\"x\"");
        assert_eq!(req.body().as_ref(), br#"{"a":1}"#);
        let binary = Call::new("POST", "/x", "/x")
            .body(vec![0xff, 0x00])
            .request()
            .expect("valid");
        assert_eq!(binary.body().as_ref(), &[0xff, 0x00]);
    }
}

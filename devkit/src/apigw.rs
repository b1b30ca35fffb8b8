//! API Gateway HTTP API emulation: route matching and payload-2.0 events.
//!
//! The local API and the tests both build the JSON event API Gateway would send and hand it to
//! `lambda_http::request::from_str`, the same deserialisation the Lambda runtime performs. So a
//! handler sees identical `Request`s (headers, path parameters, raw query, body encoding) in a
//! test, in the local API and on AWS.

use base64::Engine as _;
use serde_json::{Map, Value};

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
    /// What API Gateway's JWT authorizer passes on, when one checked the call's token.
    jwt_claims: Option<std::collections::HashMap<String, String>>,
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
            jwt_claims: None,
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

    /// The claims of a token API Gateway's JWT authorizer verified, as it passes them on in
    /// `requestContext.authorizer.jwt.claims`: every value a string ([`gateway_claims`]).
    pub fn jwt_claims(mut self, claims: &Value) -> Self {
        self.jwt_claims = Some(gateway_claims(claims));
        self
    }

    pub fn source_ip(mut self, ip: &str) -> Self {
        self.source_ip = ip.to_owned();
        self
    }

    /// The payload-2.0 event, built from `aws_lambda_events`' typed request as API Gateway HTTP
    /// APIs fill it: lower-case header names, repeated headers joined with commas, cookies split
    /// out, the body as text or base64; `rawPath`, the path parameters and the query parameters'
    /// names and values percent-decoded (`%XX` only; a `+` stays a `+`), `rawQueryString` as sent.
    pub fn event(&self) -> Value {
        use lambda_http::aws_lambda_events::apigw::{
            ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContext,
            ApiGatewayV2httpRequestContextHttpDescription,
        };
        use lambda_http::aws_lambda_events::query_map::QueryMap;
        use lambda_http::http::{HeaderMap, HeaderName, HeaderValue, Method};
        let mut joined: Vec<(String, String)> = Vec::new();
        let mut cookies = Vec::new();
        for (name, value) in &self.headers {
            if name == "cookie" {
                cookies.extend(value.split(';').map(|c| c.trim().to_owned()));
                continue;
            }
            match joined.iter_mut().find(|(n, _)| n == name) {
                Some((_, prev)) => *prev = format!("{prev},{value}"),
                None => joined.push((name.clone(), value.clone())),
            }
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &joined {
            // The front doors refuse headers that are not visible ASCII before they get here.
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.insert(name, value);
            }
        }
        let mut query: std::collections::HashMap<String, Vec<String>> = Default::default();
        for pair in self.query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            query.entry(decode(k)).or_default().push(decode(v));
        }
        let route_key = format!("{} {}", self.method, self.route);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);

        let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
        http.method = Method::from_bytes(self.method.as_bytes()).unwrap_or_default();
        http.path = Some(decode(&self.path));
        http.protocol = Some("HTTP/1.1".to_owned());
        http.source_ip = Some(self.source_ip.clone());
        http.user_agent = Some(
            joined
                .iter()
                .find(|(n, _)| n == "user-agent")
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
        );
        let mut context = ApiGatewayV2httpRequestContext::default();
        context.route_key = Some(route_key.clone());
        context.account_id = Some("123456789012".to_owned());
        context.stage = Some("$default".to_owned());
        context.request_id = Some(self.request_id.clone());
        context.apiid = Some("local".to_owned());
        context.domain_name = Some("localhost".to_owned());
        context.domain_prefix = Some("localhost".to_owned());
        context.time = Some(String::new());
        context.time_epoch = i64::try_from(now).unwrap_or(i64::MAX);
        context.http = http;
        if let Some(claims) = &self.jwt_claims {
            use lambda_http::aws_lambda_events::apigw::{
                ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription,
            };
            let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
            jwt.claims = claims.clone();
            let mut authorizer = ApiGatewayRequestAuthorizer::default();
            authorizer.jwt = Some(jwt);
            context.authorizer = Some(authorizer);
        }

        let mut event = ApiGatewayV2httpRequest::default();
        event.version = Some("2.0".to_owned());
        event.route_key = Some(route_key);
        event.raw_path = Some(decode(&self.path));
        event.raw_query_string = Some(self.query.clone());
        event.cookies = (!cookies.is_empty()).then_some(cookies);
        event.headers = headers;
        event.query_string_parameters = QueryMap::from(query);
        event.path_parameters = match_route(&self.route, &self.path)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, decode(&v)))
            .collect();
        event.request_context = context;
        if let Some(body) = &self.body {
            match std::str::from_utf8(body) {
                Ok(text) => event.body = Some(text.to_owned()),
                Err(_) => {
                    event.body = Some(base64::engine::general_purpose::STANDARD.encode(body));
                    event.is_base64_encoded = true;
                }
            }
        }
        let mut value = serde_json::to_value(&event).unwrap_or_default();
        // The typed request also carries a custom authorizer's fields (deprecated there); an HTTP
        // API's payload 2.0 has none of them.
        if let Some(map) = value.as_object_mut() {
            for key in [
                "type",
                "methodArn",
                "httpMethod",
                "identitySource",
                "authorizationToken",
                "resource",
            ] {
                map.remove(key);
            }
            if map
                .get("stageVariables")
                .is_some_and(|v| v.as_object().is_some_and(Map::is_empty))
            {
                map.remove("stageVariables");
            }
        }
        value
    }

    /// The `lambda_http::Request` Lambda's runtime would build from [`Call::event`].
    pub fn request(&self) -> Result<lambda_http::Request, serde_json::Error> {
        request_from_event(&self.event())
    }
}

/// A token's claims as API Gateway's JWT authorizer passes them on: strings as they are, numbers
/// and booleans as their text, an array as its items joined by spaces in brackets (`[a b]`), an
/// object as its JSON.
pub fn gateway_claims(claims: &Value) -> std::collections::HashMap<String, String> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    claims
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(name, value)| {
                    let value = match value {
                        Value::Array(items) => {
                            let items: Vec<String> = items.iter().map(text).collect();
                            format!("[{}]", items.join(" "))
                        }
                        other => text(other),
                    };
                    (name.clone(), value)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Percent-decodes `%XX` sequences as API Gateway does before a function sees a value; a value
/// that does not decode to UTF-8 is passed on as sent.
pub fn decode(raw: &str) -> String {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_or_else(|_| raw.to_owned(), |d| d.into_owned())
}

/// Deserialises an event exactly as the Lambda runtime does (`lambda_http::request::from_str`).
pub fn request_from_event(event: &Value) -> Result<lambda_http::Request, serde_json::Error> {
    lambda_http::request::from_str(&event.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::RequestExt;
    use serde_json::json;

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

    /// API Gateway HTTP APIs percent-decode path and query parameters before the function sees
    /// them; the raw query string stays as sent.
    #[test]
    fn parameters_arrive_percent_decoded() {
        let call = Call::new(
            "GET",
            "/products/{id}",
            "/products/p%2D1?cursor=a%3Db&na%6De=x+y&limit=%32",
        );
        let event = call.event();
        assert_eq!(event["pathParameters"]["id"], "p-1");
        assert_eq!(event["rawPath"], "/products/p-1");
        assert_eq!(event["rawQueryString"], "cursor=a%3Db&na%6De=x+y&limit=%32");
        assert_eq!(event["queryStringParameters"]["cursor"], "a=b");
        assert_eq!(event["queryStringParameters"]["name"], "x+y");
        assert!(event.get("httpMethod").is_none(), "{event}");
        let req = call.request().expect("a valid event");
        assert_eq!(req.path_parameters().first("id"), Some("p-1"));
        assert_eq!(req.query_string_parameters().first("limit"), Some("2"));
    }
}

//! A small HTTP(S) client for the flow: one base URL, a timeout per request, the answer's status,
//! headers and body. TLS is rustls with the Mozilla roots compiled in, as the functions use for
//! their issuer's key set.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use std::time::Duration;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Https = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

/// How long one request may take: a cold start behind API Gateway included.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A client for one API, by its base URL.
pub struct Client {
    base: String,
    http: hyper_util::client::legacy::Client<Https, Full<Bytes>>,
}

/// What the API answered.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: String,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> Result<serde_json::Value, BoxError> {
        serde_json::from_str(&self.body)
            .map_err(|e| format!("the body is not JSON ({e}): {}", self.body).into())
    }

    /// A header's value, as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

impl Client {
    /// A client for the API at `base` (`http://127.0.0.1:3000`, `https://…/prod`).
    pub fn new(base: &str) -> Result<Self, BoxError> {
        let base = base.trim_end_matches('/').to_owned();
        let _: hyper::Uri = base
            .parse()
            .map_err(|e| format!("{base} is not a URL: {e}"))?;
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .build();
        let http =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(https);
        Ok(Self { base, http })
    }

    /// Sends `method path` with `headers` and `body`, and reads the whole answer.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Result<Answer, BoxError> {
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
        let exchange = async {
            let response = self.http.request(request).await?;
            let (parts, body) = response.into_parts();
            let bytes = body.collect().await?.to_bytes();
            Ok::<_, BoxError>(Answer {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            })
        };
        tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| format!("no answer within {} s", TIMEOUT.as_secs()))?
    }
}

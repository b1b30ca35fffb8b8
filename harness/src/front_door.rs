//! API Gateway's part: an HTTP server that resolves the template's routes, builds the payload-2.0
//! event, queues it for the route's function and turns the function's response document back
//! into HTTP. A function that fails or dies mid-invocation is a 502, as on API Gateway.
//!
//! Every response names the instance that served it (`x-served-by: <function>#<slot>`), so the
//! chaos checker can match a 5xx to the fault that caused it.

use crate::fleet::Fleet;
use crate::runtime::Outcome;
use base64::Engine as _;
use devkit::apigw::Call;
use devkit::routes::{self, Resolved};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// API Gateway's integration timeout for HTTP APIs is 30 s; the harness uses the same.
pub const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(30);

/// A running front door.
pub struct FrontDoor {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FrontDoor {
    pub async fn start(fleet: Arc<Fleet>) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, peer)) = accepted else { continue };
                        let fleet = fleet.clone();
                        tokio::spawn(async move {
                            let service = hyper::service::service_fn(move |req| handle(fleet.clone(), peer, req));
                            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                        });
                    }
                    _ = &mut stopped => return,
                }
            }
        });
        Ok(Self {
            addr,
            stop: Some(stop),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for FrontDoor {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn plain(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!(
        "{{\"message\":\"{message}\"}}"
    ))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

async fn handle(
    fleet: Arc<Fleet>,
    peer: SocketAddr,
    req: hyper::Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    // API Gateway answers unknown routes itself, with this body.
    let Resolved::Found(route) = routes::resolve(&method, &path) else {
        return Ok(plain(StatusCode::NOT_FOUND, "Not Found"));
    };
    let Some(queue) = fleet.queue(route.function.binary()) else {
        return Ok(plain(StatusCode::NOT_FOUND, "Not Found"));
    };
    let target = req
        .uri()
        .path_and_query()
        .map_or(path.clone(), |pq| pq.as_str().to_owned());
    let mut call = Call::new(&method, route.path, &target).source_ip(&peer.ip().to_string());
    for (name, value) in req.headers() {
        if let Ok(value) = value.to_str() {
            call = call.header(name.as_str(), value);
        }
    }
    let Ok(body) = Limited::new(req.into_body(), 10 * 1024 * 1024)
        .collect()
        .await
    else {
        return Ok(plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request Entity Too Large",
        ));
    };
    let body = body.to_bytes();
    if !body.is_empty() {
        call = call.body(body.to_vec());
    }
    let invoked = tokio::time::timeout(INTEGRATION_TIMEOUT, queue.invoke(call.event())).await;
    let (outcome, slot) = match invoked {
        Ok(Some(done)) => done,
        Ok(None) => {
            return Ok(plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable",
            ));
        }
        Err(_) => {
            return Ok(plain(
                StatusCode::GATEWAY_TIMEOUT,
                "Endpoint request timed out",
            ));
        }
    };
    let served_by = format!("{}#{slot}", route.function.binary());
    let mut response = match outcome {
        Outcome::Response(document) => to_http(&document)
            .unwrap_or_else(|| plain(StatusCode::BAD_GATEWAY, "Internal Server Error")),
        Outcome::Failed(_) => plain(StatusCode::BAD_GATEWAY, "Internal Server Error"),
    };
    if let Ok(value) = served_by.parse() {
        response.headers_mut().insert("x-served-by", value);
    }
    Ok(response)
}

/// A lambda_http response document (payload 2.0) as HTTP.
fn to_http(document: &Value) -> Option<Response<Full<Bytes>>> {
    let status =
        StatusCode::from_u16(u16::try_from(document.get("statusCode")?.as_u64()?).ok()?).ok()?;
    let body = match document.get("body").and_then(Value::as_str) {
        None => Bytes::new(),
        Some(text) if document.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) => {
            Bytes::from(
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .ok()?,
            )
        }
        Some(text) => Bytes::from(text.to_owned()),
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    for (name, value) in document
        .get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let (Ok(name), Some(Ok(value))) = (
            name.parse::<hyper::header::HeaderName>(),
            value.as_str().map(str::parse),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    Some(response)
}

//! The Lambda Runtime API, as each function process sees it at `AWS_LAMBDA_RUNTIME_API`.
//!
//! One [`Queue`] per function holds invocations; one endpoint per instance serves `next` from it,
//! so whichever instance is idle takes the next invocation (one at a time per process, as on
//! Lambda). The endpoint knows which instance it serves, so the fleet can fail the invocation an
//! instance held when it dies.

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// Which instance of a function served an invocation (its slot index, stable across restarts).
pub type Slot = usize;

/// What came back from an invocation.
#[derive(Debug)]
pub enum Outcome {
    /// The function's response document (for lambda_http: statusCode, headers, body, …).
    Response(Value),
    /// The function reported an error (`/error`), or its process died holding the invocation.
    Failed(String),
}

/// One invocation waiting for, or held by, an instance.
pub struct Invocation {
    pub request_id: String,
    pub event: Value,
    pub done: oneshot::Sender<(Outcome, Slot)>,
    /// When it was queued (the front door's clock).
    pub queued: Instant,
}

/// Invocations of one function, taken by whichever instance asks first.
#[derive(Clone)]
pub struct Queue {
    tx: mpsc::UnboundedSender<Invocation>,
    rx: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>>,
}

impl Default for Queue {
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            tx,
            rx: Arc::new(tokio::sync::Mutex::new(rx)),
        }
    }
}

impl Queue {
    /// Queues `event` and waits for its outcome and the slot that served it; `None` when the
    /// harness is shutting down.
    pub async fn invoke(&self, event: Value) -> Option<(Outcome, Slot)> {
        let (done, outcome) = oneshot::channel();
        let request_id = uuid::Uuid::new_v4().to_string();
        self.tx
            .send(Invocation {
                request_id,
                event,
                done,
                queued: Instant::now(),
            })
            .ok()?;
        outcome.await.ok()
    }

    async fn take(&self) -> Option<Invocation> {
        self.rx.lock().await.recv().await
    }
}

/// Invocations an instance has taken and not yet answered, by request id.
type Held = Arc<Mutex<HashMap<String, oneshot::Sender<(Outcome, Slot)>>>>;

/// The Runtime API endpoint of one instance.
pub struct Endpoint {
    pub addr: SocketAddr,
    slot: Slot,
    held: Held,
    /// Times of the instance's first `next` (its init is done), for the benchmarks.
    pub first_poll: Arc<Mutex<Option<Instant>>>,
    stop: Option<oneshot::Sender<()>>,
}

impl Endpoint {
    /// Serves the Runtime API for one instance on a fresh loopback port.
    pub async fn start(queue: Queue, function: &str, slot: Slot) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let held: Held = Arc::default();
        let first_poll = Arc::new(Mutex::new(None));
        let (stop, mut stopped) = oneshot::channel::<()>();
        let state = Arc::new(State {
            queue,
            held: held.clone(),
            first_poll: first_poll.clone(),
            arn: format!("arn:aws:lambda:local:000000000000:function:{function}"),
            slot,
        });
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let state = state.clone();
                        tokio::spawn(async move {
                            let service = hyper::service::service_fn(move |req| serve(state.clone(), req));
                            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                        });
                    }
                    _ = &mut stopped => return,
                }
            }
        });
        Ok(Self {
            addr,
            slot,
            held,
            first_poll,
            stop: Some(stop),
        })
    }

    /// Fails every invocation this instance holds (its process died): the callers get
    /// [`Outcome::Failed`], as API Gateway gets an error when a Lambda instance crashes.
    pub fn fail_held(&self, why: &str) -> usize {
        let held: Vec<_> = self
            .held
            .lock()
            .map(|mut h| h.drain().collect())
            .unwrap_or_default();
        let n = held.len();
        for (_, done) in held {
            let _ = done.send((Outcome::Failed(why.to_owned()), self.slot));
        }
        n
    }

    /// How many invocations the instance holds now (0 or 1: it takes one at a time).
    pub fn held(&self) -> usize {
        self.held.lock().map(|h| h.len()).unwrap_or(0)
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.fail_held("the endpoint was shut down");
    }
}

struct State {
    queue: Queue,
    held: Held,
    first_poll: Arc<Mutex<Option<Instant>>>,
    arn: String,
    slot: Slot,
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

/// How long an invocation may run before the function is told its deadline passed.
pub const DEADLINE: Duration = Duration::from_secs(30);

async fn serve(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (req.method().as_str(), segments.as_slice()) {
        ("GET", ["2018-06-01", "runtime", "invocation", "next"]) => {
            if let Ok(mut first) = state.first_poll.lock() {
                first.get_or_insert_with(Instant::now);
            }
            let Some(invocation) = state.queue.take().await else {
                return Ok(reply(StatusCode::SERVICE_UNAVAILABLE, "shutting down"));
            };
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0)
                + DEADLINE.as_millis();
            let body = invocation.event.to_string();
            if let Ok(mut held) = state.held.lock() {
                held.insert(invocation.request_id.clone(), invocation.done);
            }
            let mut response = reply(StatusCode::OK, body);
            let headers = response.headers_mut();
            let values = [
                (
                    "lambda-runtime-aws-request-id",
                    invocation.request_id.clone(),
                ),
                ("lambda-runtime-deadline-ms", deadline.to_string()),
                ("lambda-runtime-invoked-function-arn", state.arn.clone()),
                (
                    "lambda-runtime-trace-id",
                    format!("Root=1-{}", &invocation.request_id[..8]),
                ),
                ("content-type", "application/json".to_owned()),
            ];
            for (name, value) in values {
                if let Ok(value) = value.parse() {
                    headers.insert(name, value);
                }
            }
            Ok(response)
        }
        (
            "POST",
            [
                "2018-06-01",
                "runtime",
                "invocation",
                id,
                kind @ ("response" | "error"),
            ],
        ) => {
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let done = state.held.lock().ok().and_then(|mut h| h.remove(*id));
            if let Some(done) = done {
                let outcome = if *kind == "response" {
                    serde_json::from_slice(&body)
                        .map(Outcome::Response)
                        .unwrap_or_else(|e| Outcome::Failed(format!("response is not JSON: {e}")))
                } else {
                    Outcome::Failed(String::from_utf8_lossy(&body).into_owned())
                };
                let _ = done.send((outcome, state.slot));
            }
            Ok(reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#))
        }
        ("POST", ["2018-06-01", "runtime", "init", "error"]) => {
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            tracing::error!(error = %String::from_utf8_lossy(&body), "a function failed to initialise");
            Ok(reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#))
        }
        _ => Ok(reply(StatusCode::NOT_FOUND, "unknown Runtime API path")),
    }
}

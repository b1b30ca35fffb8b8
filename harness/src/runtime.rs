//! The Lambda Runtime API, as each function process sees it at `AWS_LAMBDA_RUNTIME_API`.
//!
//! One [`Queue`] per function holds invocations; one endpoint per instance serves `next` from it,
//! so whichever instance is idle takes the next invocation (one at a time per process, as on
//! Lambda). The endpoint knows which instance it serves, so the fleet can fail the invocation an
//! instance held when it dies, and keep a dead process's pending `next` from taking another.

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
use tokio::sync::{mpsc, oneshot, watch};

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

    /// Puts back an invocation that an instance took but died before it could start.
    fn requeue(&self, invocation: Invocation) {
        let _ = self.tx.send(invocation);
    }
}

/// Invocations an instance has taken and not yet answered, by request id; `None` once the
/// instance is dead, so nothing more can be handed to it.
type Held = Mutex<Option<HashMap<String, oneshot::Sender<(Outcome, Slot)>>>>;

struct State {
    queue: Queue,
    held: Held,
    dead: watch::Sender<bool>,
    /// Set when an invocation outlived [`FUNCTION_TIMEOUT`]: the fleet then stops the process,
    /// as Lambda stops an environment whose invocation timed out.
    timed_out: watch::Sender<bool>,
    first_poll: Mutex<Option<Instant>>,
    arn: String,
    slot: Slot,
}

/// The Runtime API endpoint of one instance (one process; a replacement gets a new endpoint).
pub struct Endpoint {
    pub addr: SocketAddr,
    state: Arc<State>,
    stop: Option<oneshot::Sender<()>>,
}

impl Endpoint {
    /// Serves the Runtime API for one instance on a fresh loopback port.
    pub async fn start(queue: Queue, function: &str, slot: Slot) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            queue,
            held: Mutex::new(Some(HashMap::new())),
            dead: watch::channel(false).0,
            timed_out: watch::channel(false).0,
            first_poll: Mutex::new(None),
            arn: format!("arn:aws:lambda:local:000000000000:function:{function}"),
            slot,
        });
        let (stop, mut stopped) = oneshot::channel::<()>();
        let serving = state.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let state = serving.clone();
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
            state,
            stop: Some(stop),
        })
    }

    /// Resolves once an invocation of this instance has run past [`FUNCTION_TIMEOUT`].
    pub async fn timed_out(&self) {
        let mut timed_out = self.state.timed_out.subscribe();
        let _ = timed_out.wait_for(|t| *t).await;
    }

    /// When the process first polled `next` (its init was done), if it has.
    pub fn first_poll(&self) -> Option<Instant> {
        *self.state.first_poll.lock().ok()?
    }

    /// The instance's process died: fails every invocation it holds (the callers get
    /// [`Outcome::Failed`], as API Gateway gets an error when a Lambda instance crashes), and
    /// stops its pending `next` from taking any more (they stay queued for live instances).
    pub fn fail_held(&self, why: &str) -> usize {
        let _ = self.state.dead.send(true);
        let held = self
            .state
            .held
            .lock()
            .ok()
            .and_then(|mut h| h.take())
            .unwrap_or_default();
        let n = held.len();
        for (_, done) in held {
            let _ = done.send((Outcome::Failed(why.to_owned()), self.state.slot));
        }
        n
    }

    /// How many invocations the instance holds now (0 or 1: it takes one at a time).
    pub fn held(&self) -> usize {
        self.state
            .held
            .lock()
            .ok()
            .and_then(|h| h.as_ref().map(HashMap::len))
            .unwrap_or(0)
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

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

/// How long an invocation may run: the template's `Timeout` (a test in `local/` keeps them equal).
/// Each invocation gets its deadline (`Lambda-Runtime-Deadline-Ms`) from it, and one that is still
/// running at the deadline has its process stopped, as Lambda does.
pub const FUNCTION_TIMEOUT: Duration = devkit::apigw::FUNCTION_TIMEOUT;

async fn serve(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (req.method().as_str(), segments.as_slice()) {
        ("GET", ["2018-06-01", "runtime", "invocation", "next"]) => Ok(next(&state).await),
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
            let done = state
                .held
                .lock()
                .ok()
                .and_then(|mut h| h.as_mut().and_then(|h| h.remove(*id)));
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

/// `GET …/invocation/next`: the next invocation of this function, whenever there is one.
async fn next(state: &Arc<State>) -> Response<Full<Bytes>> {
    if let Ok(mut first) = state.first_poll.lock() {
        first.get_or_insert_with(Instant::now);
    }
    // A killed process's `next` may still be waiting here: it must not take an invocation that
    // a live instance could run.
    let mut dead = state.dead.subscribe();
    let taken = tokio::select! {
        taken = state.queue.take() => taken,
        _ = dead.wait_for(|dead| *dead) => return reply(StatusCode::GONE, "the instance is gone"),
    };
    let Some(invocation) = taken else {
        return reply(StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    };
    let request_id = invocation.request_id.clone();
    let body = invocation.event.to_string();
    {
        let Ok(mut held) = state.held.lock() else {
            return reply(StatusCode::INTERNAL_SERVER_ERROR, "poisoned");
        };
        match held.as_mut() {
            Some(held) => {
                held.insert(request_id.clone(), invocation.done);
            }
            // It died between taking the invocation and now: it never ran, so back in line.
            None => {
                drop(held);
                state.queue.requeue(invocation);
                return reply(StatusCode::GONE, "the instance is gone");
            }
        }
    }
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
        + FUNCTION_TIMEOUT.as_millis();
    // Lambda's side of the deadline: an invocation still held when it passes is cut off.
    {
        let state = Arc::clone(state);
        let request_id = request_id.clone();
        tokio::spawn(async move {
            tokio::time::sleep(FUNCTION_TIMEOUT).await;
            let still_running = state
                .held
                .lock()
                .ok()
                .is_some_and(|h| h.as_ref().is_some_and(|h| h.contains_key(&request_id)));
            if still_running {
                let _ = state.timed_out.send(true);
            }
        });
    }
    let mut response = reply(StatusCode::OK, body);
    let headers = response.headers_mut();
    let values = [
        ("lambda-runtime-aws-request-id", request_id.clone()),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        ("lambda-runtime-invoked-function-arn", state.arn.clone()),
        (
            "lambda-runtime-trace-id",
            format!("Root=1-{}", &request_id[..8]),
        ),
        ("content-type", "application/json".to_owned()),
    ];
    for (name, value) in values {
        if let Ok(value) = value.parse() {
            headers.insert(name, value);
        }
    }
    response
}

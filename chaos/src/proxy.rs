//! A fault proxy between one function instance and the DynamoDB engine: each instance gets its
//! own, so every injected fault is known to have hit that instance.
//!
//! Faults, each with its own rate: DynamoDB throttling (`ThrottlingException`, 400), DynamoDB
//! 5xx (`InternalServerError`), added latency, a connection dropped before the request reaches
//! the engine, one dropped after the engine answered (the write happened, the caller never hears
//! so), SIGKILL of the instance in the middle of a request (before one of its DynamoDB calls), and,
//! for a `TransactWriteItems` that committed, SIGKILL of the instance before it can answer.
//!
//! Besides faults, a [`Stall`] shared by the proxies of one function parks the next
//! `TransactWriteItems` any of them sees, until the scenario releases it: a request held between
//! its read and its write, on purpose and deterministically.

use harness::fleet::Instance;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Fault rates (0.0 to 1.0, per DynamoDB request) and the latency range.
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    pub throttle: f64,
    pub server_error: f64,
    pub latency: f64,
    pub latency_ms: (u64, u64),
    pub drop_before: f64,
    pub drop_after: f64,
    /// Of committed `TransactWriteItems` calls (checkouts and cancels).
    pub kill_after_commit: f64,
    /// Of any DynamoDB call: SIGKILL the instance before the call reaches the engine, so it
    /// dies in the middle of its request, between one write and the next.
    pub kill_mid_request: f64,
}

impl Faults {
    pub const NONE: Self = Self {
        throttle: 0.0,
        server_error: 0.0,
        latency: 0.0,
        latency_ms: (0, 0),
        drop_before: 0.0,
        drop_after: 0.0,
        kill_after_commit: 0.0,
        kill_mid_request: 0.0,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    Throttle,
    ServerError,
    Latency,
    DropBefore,
    DropAfter,
    KillAfterCommit,
    KillMidRequest,
    /// A kill from the harness's random killer, not tied to a DynamoDB call.
    RandomKill,
}

/// One injected fault: where and when.
#[derive(Debug, Clone)]
pub struct Fault {
    pub kind: FaultKind,
    pub function: String,
    pub slot: usize,
    pub at: Instant,
}

/// Every fault injected in a run.
#[derive(Default)]
pub struct FaultLog(Mutex<Vec<Fault>>);

impl FaultLog {
    pub fn record(&self, kind: FaultKind, function: &str, slot: usize) {
        if let Ok(mut log) = self.0.lock() {
            log.push(Fault {
                kind,
                function: function.to_owned(),
                slot,
                at: Instant::now(),
            });
        }
    }

    pub fn all(&self) -> Vec<Fault> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// Parks the next `TransactWriteItems` through any proxy that shares it.
#[derive(Default)]
pub struct Stall {
    armed: Mutex<Option<(Arc<tokio::sync::Notify>, tokio::sync::oneshot::Receiver<()>)>>,
}

/// An armed [`Stall`]: wait until a transaction is parked, then release it.
pub struct Held {
    reached: Arc<tokio::sync::Notify>,
    release: tokio::sync::oneshot::Sender<()>,
}

impl Stall {
    /// Parks the next transaction; the returned [`Held`] says when and lets it go.
    pub fn arm(&self) -> Held {
        let reached = Arc::new(tokio::sync::Notify::new());
        let (release, parked) = tokio::sync::oneshot::channel();
        if let Ok(mut armed) = self.armed.lock() {
            *armed = Some((reached.clone(), parked));
        }
        Held { reached, release }
    }

    fn take(&self) -> Option<(Arc<tokio::sync::Notify>, tokio::sync::oneshot::Receiver<()>)> {
        self.armed.lock().ok()?.take()
    }
}

impl Held {
    /// Waits until the transaction is parked, up to `limit`; false when none arrived.
    pub async fn reached(&self, limit: Duration) -> bool {
        tokio::time::timeout(limit, self.reached.notified())
            .await
            .is_ok()
    }

    pub fn release(self) {
        let _ = self.release.send(());
    }
}

type Client = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    Full<Bytes>,
>;

struct State {
    engine: hyper::Uri,
    client: Client,
    faults: Faults,
    rng: Mutex<fastrand::Rng>,
    log: Arc<FaultLog>,
    function: String,
    slot: usize,
    instance: Arc<OnceLock<Arc<Instance>>>,
    stall: Option<Arc<Stall>>,
}

/// A running proxy; its `endpoint()` is the instance's `AWS_ENDPOINT_URL_DYNAMODB`.
pub struct Proxy {
    pub addr: std::net::SocketAddr,
    /// Set once the fleet has started the instance this proxy serves.
    pub instance: Arc<OnceLock<Arc<Instance>>>,
}

impl Proxy {
    pub async fn start(
        engine: &str,
        function: &str,
        slot: usize,
        faults: Faults,
        seed: u64,
        log: Arc<FaultLog>,
        stall: Option<Arc<Stall>>,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let instance = Arc::new(OnceLock::new());
        let engine: hyper::Uri = engine.parse().map_err(std::io::Error::other)?;
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        let state = Arc::new(State {
            engine,
            client,
            faults,
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
            log,
            function: function.to_owned(),
            slot,
            instance: instance.clone(),
            stall,
        });
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { addr, instance })
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Closing the connection without an answer: hyper drops a connection whose service fails.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by the fault proxy")
    }
}

impl std::error::Error for Dropped {}

fn dynamo_error(status: StatusCode, kind: &str, message: &str) -> Response<Full<Bytes>> {
    let body =
        format!(r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{kind}","message":"{message}"}}"#);
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    response
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(|_| Dropped)?.to_bytes();
    let is_transaction = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.ends_with(".TransactWriteItems"));
    let (roll, pause) = {
        let mut rng = state.rng.lock().map_err(|_| Dropped)?;
        let (lo, hi) = state.faults.latency_ms;
        (rng.f64(), rng.u64(lo..=hi.max(lo)))
    };
    let f = state.faults;
    let record = |kind| state.log.record(kind, &state.function, state.slot);
    // One roll, split into bands, so the rates are exclusive and add up.
    let mut band = 0.0;
    let mut hit = |rate: f64| {
        let lo = band;
        band += rate;
        roll >= lo && roll < band
    };
    if hit(f.throttle) {
        record(FaultKind::Throttle);
        return Ok(dynamo_error(
            StatusCode::BAD_REQUEST,
            "ThrottlingException",
            "Rate of requests exceeds the allowed throughput.",
        ));
    }
    if hit(f.server_error) {
        record(FaultKind::ServerError);
        return Ok(dynamo_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "Internal server error",
        ));
    }
    if hit(f.drop_before) {
        record(FaultKind::DropBefore);
        return Err(Dropped);
    }
    if hit(f.kill_mid_request)
        && let Some(instance) = state.instance.get()
        && instance.kill()
    {
        record(FaultKind::KillMidRequest);
        return Err(Dropped);
    }
    if is_transaction && let Some((reached, release)) = state.stall.as_ref().and_then(|s| s.take())
    {
        reached.notify_one();
        let _ = release.await;
    }
    let drop_after = hit(f.drop_after);
    let kill_after_commit = is_transaction && hit(f.kill_after_commit);
    if hit(f.latency) {
        record(FaultKind::Latency);
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
    let mut forward = Request::builder().method(parts.method).uri(&state.engine);
    for (name, value) in &parts.headers {
        if name != hyper::header::HOST {
            forward = forward.header(name, value);
        }
    }
    let forward = forward.body(Full::new(body)).map_err(|_| Dropped)?;
    let response = state.client.request(forward).await.map_err(|_| Dropped)?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|_| Dropped)?.to_bytes();
    // The transaction is committed; the instance dies before it can tell anyone.
    if kill_after_commit
        && parts.status.is_success()
        && let Some(instance) = state.instance.get()
        && instance.kill()
    {
        record(FaultKind::KillAfterCommit);
        return Err(Dropped);
    }
    if drop_after {
        record(FaultKind::DropAfter);
        return Err(Dropped);
    }
    Ok(Response::from_parts(parts, Full::new(body)))
}

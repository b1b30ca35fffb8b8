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
//! its read and its write, on purpose and deterministically. And a [`Capacity`] shared by every
//! proxy of a run models DynamoDB's per-partition limits; the conflicts of transactions in flight
//! come from the engine's isolation model (`devkit::isolation`), behind every proxy, and are
//! logged here when the engine answers with one.

use crate::capacity::{Admission, Capacity};
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
    /// The engine's isolation model refused a write or cancelled a transaction: an item was held
    /// by a transaction in flight.
    Conflict,
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

/// Parks the next `TransactWriteItems` through any proxy that shares it, until released. A
/// resend of that same transaction (the SDK's, after its 2 s attempt timeout, with the same
/// `ClientRequestToken`) is parked too, so a slow round cannot slip the transaction through early.
#[derive(Default)]
pub struct Stall {
    armed: Mutex<Option<Armed>>,
    /// The parked transaction's token and the release signal, once one is parked.
    parked: Mutex<Option<(Option<String>, tokio::sync::watch::Receiver<bool>)>>,
}

struct Armed {
    reached: Arc<tokio::sync::Notify>,
    released: tokio::sync::watch::Receiver<bool>,
}

/// An armed [`Stall`]: wait until a transaction is parked, then release it. Dropping it
/// releases too.
pub struct Held {
    reached: Arc<tokio::sync::Notify>,
    release: tokio::sync::watch::Sender<bool>,
}

impl Stall {
    /// Parks the next transaction; the returned [`Held`] says when and lets it go.
    pub fn arm(&self) -> Held {
        let reached = Arc::new(tokio::sync::Notify::new());
        let (release, released) = tokio::sync::watch::channel(false);
        if let Ok(mut armed) = self.armed.lock() {
            *armed = Some(Armed {
                reached: reached.clone(),
                released,
            });
        }
        if let Ok(mut parked) = self.parked.lock() {
            *parked = None;
        }
        Held { reached, release }
    }

    /// What a transaction with `token` must wait for, if anything.
    fn intercept(&self, token: Option<String>) -> Option<tokio::sync::watch::Receiver<bool>> {
        if let Some(armed) = self.armed.lock().ok()?.take() {
            armed.reached.notify_one();
            if let Ok(mut parked) = self.parked.lock() {
                *parked = Some((token, armed.released.clone()));
            }
            return Some(armed.released);
        }
        let parked = self.parked.lock().ok()?;
        match parked.as_ref() {
            Some((Some(held), released)) if token.as_ref() == Some(held) => Some(released.clone()),
            _ => None,
        }
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
        let _ = self.release.send(true);
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let _ = self.release.send(true);
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
    capacity: Option<Arc<Capacity>>,
}

/// A running proxy; its `endpoint()` is the instance's `AWS_ENDPOINT_URL_DYNAMODB`.
pub struct Proxy {
    pub addr: std::net::SocketAddr,
    /// Whether it speaks TLS (with the run's throwaway CA), as DynamoDB does.
    tls: bool,
    /// Set once the fleet has started the instance this proxy serves.
    pub instance: Arc<OnceLock<Arc<Instance>>>,
}

/// Where a proxy forwards, whom it serves, and what it does on the way.
pub struct Setup<'a> {
    /// The engine's `http://` endpoint.
    pub engine: &'a str,
    pub function: &'a str,
    pub slot: usize,
    pub faults: Faults,
    /// Seeds this proxy's fault schedule.
    pub seed: u64,
    pub log: Arc<FaultLog>,
    pub stall: Option<Arc<Stall>>,
    /// DynamoDB's capacity, simulated (shared by every proxy of the run).
    pub capacity: Option<Arc<Capacity>>,
    /// Speak TLS with this identity (the run's throwaway CA), as DynamoDB does.
    pub tls: Option<harness::tls::TlsAcceptor>,
}

impl Proxy {
    pub async fn start(setup: Setup<'_>) -> std::io::Result<Self> {
        let Setup {
            engine,
            function,
            slot,
            faults,
            seed,
            log,
            stall,
            capacity,
            tls,
        } = setup;
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
            capacity,
        });
        let speaks_tls = tls.is_some();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = state.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
                    let http = hyper::server::conn::http1::Builder::new();
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                let _ = http.serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                        None => {
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                });
            }
        });
        Ok(Self {
            addr,
            tls: speaks_tls,
            instance,
        })
    }

    pub fn endpoint(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
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
    let operation = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.rsplit_once('.'))
        .map(|(_, op)| op.to_owned())
        .unwrap_or_default();
    let is_transaction = operation == "TransactWriteItems";
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
    if is_transaction && let Some(stall) = &state.stall {
        let token = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|b| b["ClientRequestToken"].as_str().map(str::to_owned));
        if let Some(mut released) = stall.intercept(token) {
            let _ = released.wait_for(|r| *r).await;
        }
    }
    let drop_after = hit(f.drop_after);
    let kill_after_commit = is_transaction && hit(f.kill_after_commit);
    if hit(f.latency) {
        record(FaultKind::Latency);
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
    // DynamoDB's capacity: over a partition's limit, or into a transaction in flight, the call
    // is refused as DynamoDB refuses it. What it admits is forwarded (a batch without its
    // throttled keys) and its reads are charged on the answer.
    let admission = state
        .capacity
        .as_deref()
        .map(|c| c.admit(&operation, &body));
    let mut body = body;
    let mut settle = None;
    let mut rewrote = false;
    match admission {
        Some(Admission::Refuse(status, error)) => {
            record(FaultKind::Throttle);
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            let mut response = Response::new(Full::new(Bytes::from(error)));
            *response.status_mut() = status;
            response.headers_mut().insert(
                "content-type",
                hyper::header::HeaderValue::from_static("application/x-amz-json-1.0"),
            );
            return Ok(response);
        }
        Some(Admission::Forward {
            charge,
            body: rewritten,
            unprocessed,
        }) => {
            if let Some(rewritten) = rewritten {
                body = Bytes::from(rewritten);
                rewrote = true;
            }
            if unprocessed.is_some() {
                // Some of the batch's keys were over their partition's limit: a throttle the
                // client sees (as keys to retry, and maybe a 503 when they stay unprocessed).
                record(FaultKind::Throttle);
            }
            settle = Some((charge, unprocessed));
        }
        None => {}
    }
    let mut forward = Request::builder().method(parts.method).uri(&state.engine);
    for (name, value) in &parts.headers {
        // A rewritten body (a batch without its throttled keys) has another length: hyper
        // computes it when none is set.
        if name != hyper::header::HOST && !(rewrote && name == hyper::header::CONTENT_LENGTH) {
            forward = forward.header(name, value);
        }
    }
    let forward = forward.body(Full::new(body)).map_err(|_| Dropped)?;
    let response = state.client.request(forward).await.map_err(|_| Dropped)?;
    let (mut parts, body) = response.into_parts();
    let mut body = body.collect().await.map_err(|_| Dropped)?.to_bytes();
    // The engine's isolation model refused the call: a transaction in flight held an item.
    if devkit::isolation::is_conflict(parts.status.as_u16(), &body) {
        record(FaultKind::Conflict);
    }
    if let (Some(capacity), Some((charge, unprocessed))) = (state.capacity.as_deref(), settle)
        && parts.status.is_success()
        && let Some(settled) = capacity.settle(&charge, &body, unprocessed)
    {
        body = Bytes::from(settled);
        parts.headers.remove(hyper::header::CONTENT_LENGTH);
        parts.headers.remove("x-amz-crc32");
    }
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

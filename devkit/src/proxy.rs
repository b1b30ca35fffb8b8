//! A controllable proxy between a store and the embedded engine, for tests that need DynamoDB to
//! misbehave in one exact way at one exact moment: a call parked between a handler's read and its
//! write (released when the test says so, never by a sleep), an error DynamoDB can send but the
//! engine never does, every call slowed down, and a record of what was sent. With
//! [`Proxy::isolate`] it also applies DynamoDB's transaction isolation ([`crate::isolation`]):
//! that is how [`crate::Engine::isolated`] puts the model in front of the engine, a transaction
//! it admits running in its own task until the engine answers.
//!
//! It speaks the wire protocol only as far as it must: the operation from `X-Amz-Target`, and,
//! with [`Proxy::remember_tokens`], the `ClientRequestToken` of `TransactWriteItems`, which it
//! holds to AWS's documented rule (the same token with other parameters within 10 minutes is
//! `IdempotentParameterMismatchException`) where the engine forgets tokens of failed transactions.

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, oneshot};

use crate::isolation::{Admission, Isolation};

type Client = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    Full<Bytes>,
>;

/// A call parked by [`Proxy::hold_next`].
pub struct Hold {
    reached: Arc<Notify>,
    release: Option<oneshot::Sender<()>>,
}

impl Hold {
    /// Resolves once the call has arrived and is parked (it has not reached the engine).
    pub async fn reached(&self) {
        self.reached.notified().await;
    }

    /// Lets the parked call go on to the engine.
    pub fn release(mut self) {
        if let Some(release) = self.release.take() {
            let _ = release.send(());
        }
    }
}

struct Parked {
    operation: String,
    reached: Arc<Notify>,
    release: oneshot::Receiver<()>,
}

#[derive(Default)]
struct Rules {
    holds: Vec<Parked>,
    /// Operation → (status, error type) answered once, instead of forwarding.
    failures: Vec<(String, u16, String)>,
    delay: Duration,
    remember_tokens: bool,
    /// `ClientRequestToken` → the request body without it.
    tokens: HashMap<String, serde_json::Value>,
    /// Every request: (operation, body).
    sent: Vec<(String, serde_json::Value)>,
    /// DynamoDB's transaction isolation, applied to what is forwarded.
    isolation: Option<Arc<Isolation>>,
}

struct State {
    engine: hyper::Uri,
    client: Client,
    rules: Mutex<Rules>,
}

/// A running proxy. Dropping it leaves its task serving until the test's runtime ends.
#[derive(Clone)]
pub struct Proxy {
    addr: std::net::SocketAddr,
    state: Arc<State>,
}

impl Proxy {
    /// Listens on `127.0.0.1:0` and forwards to `engine` (an `http://` endpoint).
    pub async fn start(engine: &str) -> std::io::Result<Self> {
        Self::start_on(engine, "127.0.0.1:0").await
    }

    /// As [`Proxy::start`], listening on `addr`.
    pub async fn start_on(engine: &str, addr: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            engine: engine.parse().map_err(std::io::Error::other)?,
            client: hyper_util::client::legacy::Client::builder(
                hyper_util::rt::TokioExecutor::new(),
            )
            .build_http(),
            rules: Mutex::new(Rules::default()),
        });
        let serving = Arc::clone(&state);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = Arc::clone(&serving);
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |req| handle(Arc::clone(&state), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { addr, state })
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// The endpoint for the SDK (`AWS_ENDPOINT_URL_DYNAMODB`, or [`shared::DynamoStore::local`]).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn rules(&self) -> std::sync::MutexGuard<'_, Rules> {
        self.state
            .rules
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Parks the next call of `operation` (e.g. `"TransactWriteItems"`) before it reaches the
    /// engine, until the returned [`Hold`] is released.
    pub fn hold_next(&self, operation: &str) -> Hold {
        let reached = Arc::new(Notify::new());
        let (release, parked) = oneshot::channel();
        self.rules().holds.push(Parked {
            operation: operation.to_owned(),
            reached: Arc::clone(&reached),
            release: parked,
        });
        Hold {
            reached,
            release: Some(release),
        }
    }

    /// Answers the next `times` calls of `operation` with DynamoDB's error `kind` (e.g.
    /// `"TransactionInProgressException"`) and `status`, without forwarding them. The SDK
    /// retries some errors itself (3 attempts in all): `times: 3` lets one reach the caller.
    pub fn fail_next(&self, operation: &str, times: usize, status: u16, kind: &str) {
        let mut rules = self.rules();
        for _ in 0..times {
            rules
                .failures
                .push((operation.to_owned(), status, kind.to_owned()));
        }
    }

    /// The SDK's retry of a `TransactWriteItems` whose first attempt DynamoDB is still running:
    /// `TransactionInProgressException`. The SDK retries that itself (3 attempts in all), so all
    /// three are answered with it and the caller sees it.
    pub fn transaction_in_progress(&self) {
        self.fail_next(
            "TransactWriteItems",
            3,
            400,
            "TransactionInProgressException",
        );
    }

    /// Delays every call by `delay` before forwarding it.
    pub fn delay_all(&self, delay: Duration) {
        self.rules().delay = delay;
    }

    /// Holds `TransactWriteItems` tokens to DynamoDB's rule: a token seen before with other
    /// parameters is refused with `IdempotentParameterMismatchException`, whether or not its first
    /// transaction committed.
    pub fn remember_tokens(&self) {
        self.rules().remember_tokens = true;
    }

    /// Applies DynamoDB's transaction isolation ([`crate::isolation`]) to the calls it forwards.
    pub fn isolate(&self, isolation: Arc<Isolation>) {
        self.rules().isolation = Some(isolation);
    }

    /// The bodies of every call of `operation` so far, in order.
    pub fn sent(&self, operation: &str) -> Vec<serde_json::Value> {
        self.rules()
            .sent
            .iter()
            .filter(|(op, _)| op == operation)
            .map(|(_, body)| body.clone())
            .collect()
    }
}

fn dynamo_error(status: u16, kind: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"),
        "message": format!("{kind} (injected by the test proxy)"),
    });
    dynamo_answer(status, body.to_string())
}

/// A DynamoDB error answer: `status` and its JSON `body`.
fn dynamo_answer(status: u16, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    response
}

/// What the proxy decided for one call before forwarding it.
enum Verdict {
    Forward {
        delay: Duration,
        park: Option<(Arc<Notify>, oneshot::Receiver<()>)>,
        isolation: Option<Arc<Isolation>>,
    },
    Answer(Response<Full<Bytes>>),
}

fn decide(state: &State, operation: &str, body: &serde_json::Value) -> Verdict {
    let mut rules = state
        .rules
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    rules.sent.push((operation.to_owned(), body.clone()));
    if let Some(i) = rules.failures.iter().position(|(op, ..)| op == operation) {
        let (_, status, kind) = rules.failures.remove(i);
        return Verdict::Answer(dynamo_error(status, &kind));
    }
    if rules.remember_tokens
        && operation == "TransactWriteItems"
        && let Some(token) = body.get("ClientRequestToken").and_then(|t| t.as_str())
    {
        let mut params = body.clone();
        if let Some(map) = params.as_object_mut() {
            map.remove("ClientRequestToken");
        }
        match rules.tokens.get(token) {
            Some(first) if *first != params => {
                return Verdict::Answer(dynamo_error(400, "IdempotentParameterMismatchException"));
            }
            Some(_) => {}
            None => {
                rules.tokens.insert(token.to_owned(), params);
            }
        }
    }
    let park = rules
        .holds
        .iter()
        .position(|h| h.operation == operation)
        .map(|i| rules.holds.remove(i))
        .map(|p| (p.reached, p.release));
    Verdict::Forward {
        delay: rules.delay,
        park,
        isolation: rules.isolation.clone(),
    }
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let operation = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or("")
        .to_owned();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let mut holding = None;
    match decide(&state, &operation, &json) {
        Verdict::Answer(response) => return Ok(response),
        Verdict::Forward {
            delay,
            park,
            isolation,
        } => {
            if let Some((reached, release)) = park {
                reached.notify_one();
                let _ = release.await;
            }
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            // Admitted by the isolation model last, as DynamoDB admits a call when it arrives.
            match isolation.map(|i| i.admit(&operation, &json)) {
                Some(Admission::Refuse(status, body)) => {
                    return Ok(dynamo_answer(status, body));
                }
                Some(Admission::Forward(held)) => holding = held,
                None => {}
            }
        }
    }
    let Some(holding) = holding else {
        return forward(&state, parts, body).await;
    };
    // An admitted transaction runs to its end whether or not its client still waits, as in
    // DynamoDB: its own task holds the items for the hold and the engine's time, then lets go.
    let (answer, answered) = oneshot::channel();
    tokio::spawn(async move {
        if !holding.hold().is_zero() {
            tokio::time::sleep(holding.hold()).await;
        }
        let response = forward(&state, parts, body).await;
        drop(holding);
        let _ = answer.send(response);
    });
    answered
        .await
        .unwrap_or_else(|_| Err(std::io::Error::other("the transaction's task ended")))
}

/// Sends the call on to the engine and returns its answer.
async fn forward(
    state: &State,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let mut forward = Request::builder().method(parts.method).uri(&state.engine);
    for (name, value) in &parts.headers {
        if name != hyper::header::HOST {
            forward = forward.header(name, value);
        }
    }
    let forward = forward
        .body(Full::new(body))
        .map_err(std::io::Error::other)?;
    let response = state
        .client
        .request(forward)
        .await
        .map_err(std::io::Error::other)?;
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    Ok(Response::from_parts(parts, Full::new(body)))
}

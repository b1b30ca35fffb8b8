//! Simulated shoppers: browse, edit carts, check out with idempotency keys, cancel. Each retries
//! with the same key on a 5xx, a timeout, a dropped connection or a 409 `Retry-After`, with
//! jittered backoff, as a careful client would. Every request and its outcome is recorded.

use reqwest::{Client, Method};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Attempts per logical operation (the first try and the retries).
pub const ATTEMPTS: u32 = 8;
/// A client gives up on one request after this long; longer than any server-side budget.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(20);

/// One HTTP request and what came of it.
#[derive(Debug, Clone)]
pub struct Record {
    pub id: usize,
    pub user: String,
    pub method: String,
    pub path: String,
    pub key: Option<String>,
    pub started: Instant,
    pub finished: Instant,
    /// `None`: no response (timeout or dropped connection): the outcome is unknown.
    pub status: Option<u16>,
    pub error: Option<String>,
    pub content_type: String,
    pub served_by: Option<String>,
    pub body: Option<Value>,
    pub raw_body: String,
}

/// Everything recorded in a run, and live counters for the progress line.
#[derive(Default)]
pub struct Recorder {
    records: Mutex<Vec<Record>>,
    next: AtomicUsize,
    pub sent: AtomicUsize,
    pub server_errors: AtomicUsize,
    pub unknown: AtomicUsize,
    pub orders: AtomicUsize,
}

impl Recorder {
    pub fn all(&self) -> Vec<Record> {
        self.records.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// One shopper.
pub struct Shopper {
    pub sub: String,
    bearer: String,
    base: String,
    http: Client,
    rng: fastrand::Rng,
    recorder: Arc<Recorder>,
    products: Arc<Vec<String>>,
    placed: Vec<String>,
}

impl Shopper {
    pub fn new(
        sub: String,
        token: &str,
        base: &str,
        seed: u64,
        recorder: Arc<Recorder>,
        products: Arc<Vec<String>>,
    ) -> Self {
        let http = Client::builder()
            .timeout(CLIENT_TIMEOUT)
            .pool_max_idle_per_host(2)
            .build()
            .unwrap_or_default();
        Self {
            sub,
            bearer: format!("Bearer {token}"),
            base: base.to_owned(),
            http,
            rng: fastrand::Rng::with_seed(seed),
            recorder,
            products,
            placed: Vec::new(),
        }
    }

    /// Shops until `deadline`.
    pub async fn run(mut self, deadline: Instant) {
        while Instant::now() < deadline {
            let roll = self.rng.u32(0..100);
            match roll {
                0..=14 => {
                    let limit = self.rng.u32(1..=20);
                    self.retrying(Method::GET, &format!("/products?limit={limit}"), None, None)
                        .await;
                }
                15..=29 => {
                    let product = self.product();
                    self.retrying(Method::GET, &format!("/products/{product}"), None, None)
                        .await;
                }
                30..=59 => {
                    let product = self.product();
                    let quantity = self.rng.u32(1..=3);
                    self.retrying(
                        Method::PUT,
                        &format!("/cart/items/{product}"),
                        Some(json!({"quantity": quantity})),
                        None,
                    )
                    .await;
                }
                60..=64 => {
                    let product = self.product();
                    self.retrying(
                        Method::DELETE,
                        &format!("/cart/items/{product}"),
                        None,
                        None,
                    )
                    .await;
                }
                65..=69 => {
                    self.retrying(Method::GET, "/cart", None, None).await;
                }
                70..=84 => self.checkout().await,
                85..=89 if !self.placed.is_empty() => {
                    let order = self.placed.swap_remove(self.rng.usize(..self.placed.len()));
                    self.retrying(Method::POST, &format!("/orders/{order}/cancel"), None, None)
                        .await;
                }
                90..=94 => {
                    self.retrying(Method::GET, "/orders?limit=5", None, None)
                        .await;
                }
                _ if !self.placed.is_empty() => {
                    let order = self.placed[self.rng.usize(..self.placed.len())].clone();
                    self.retrying(Method::GET, &format!("/orders/{order}"), None, None)
                        .await;
                }
                _ => {}
            }
        }
    }

    fn product(&mut self) -> String {
        self.products[self.rng.usize(..self.products.len())].clone()
    }

    async fn checkout(&mut self) {
        let key = uuid::Uuid::new_v4().to_string();
        if let Some(record) = self
            .retrying(Method::POST, "/orders", None, Some(&key))
            .await
            && record.status == Some(201)
            && let Some(id) = record.body.as_ref().and_then(|b| b["id"].as_str())
        {
            self.placed.push(id.to_owned());
            self.recorder.orders.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Sends one logical operation, retrying what a client should retry; returns the last record.
    async fn retrying(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> Option<Record> {
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            let record = self.send(method.clone(), path, body.as_ref(), key).await;
            let retry = worth_retrying(&record);
            last = Some(record);
            if !retry {
                break;
            }
            back_off(&mut self.rng, attempt).await;
        }
        last
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Record {
        let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
        send(
            &self.http,
            &self.recorder,
            &self.base,
            &self.sub,
            &self.bearer,
            method,
            path,
            body,
            &headers,
        )
        .await
    }
}

/// Whether a careful client sends this request again (with the same key): no answer, a 5xx, or
/// 409 "in progress" (the same key is still being committed elsewhere).
pub(crate) fn worth_retrying(record: &Record) -> bool {
    match record.status {
        None => true,
        Some(s) if s >= 500 => true,
        Some(409) => record
            .body
            .as_ref()
            .and_then(|b| b["type"].as_str())
            .is_some_and(|t| t.ends_with(":request-in-progress")),
        Some(_) => false,
    }
}

/// The pause before retry `attempt`: full jitter on an exponential ceiling (20 ms, 40 ms, … up to
/// 1.3 s).
pub(crate) async fn back_off(rng: &mut fastrand::Rng, attempt: u32) {
    let ceiling = 20u64 << attempt.min(6);
    tokio::time::sleep(Duration::from_millis(rng.u64(0..=ceiling))).await;
}

/// Sends one request as `user` and records it (with its outcome) in `recorder`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn send(
    http: &Client,
    recorder: &Recorder,
    base: &str,
    user: &str,
    bearer: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Record {
    let id = recorder.next.fetch_add(1, Ordering::Relaxed);
    recorder.sent.fetch_add(1, Ordering::Relaxed);
    let mut request = http
        .request(method.clone(), format!("{base}{path}"))
        .header("authorization", bearer);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let started = Instant::now();
    let mut record = Record {
        id,
        user: user.to_owned(),
        method: method.to_string(),
        path: path.to_owned(),
        key: headers
            .iter()
            .find(|(n, _)| *n == "idempotency-key")
            .map(|(_, v)| (*v).to_owned()),
        started,
        finished: started,
        status: None,
        error: None,
        content_type: String::new(),
        served_by: None,
        body: None,
        raw_body: String::new(),
    };
    match request.send().await {
        Ok(response) => {
            record.status = Some(response.status().as_u16());
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            record.content_type = header("content-type").unwrap_or_default();
            record.served_by = header("x-served-by");
            match response.text().await {
                Ok(text) => {
                    record.body = serde_json::from_str(&text).ok();
                    record.raw_body = text;
                }
                Err(err) => {
                    record.status = None;
                    record.error = Some(format!("reading the body: {err}"));
                }
            }
        }
        Err(err) => record.error = Some(err.to_string()),
    }
    record.finished = Instant::now();
    match record.status {
        None => {
            recorder.unknown.fetch_add(1, Ordering::Relaxed);
        }
        Some(s) if s >= 500 => {
            recorder.server_errors.fetch_add(1, Ordering::Relaxed);
        }
        _ => {}
    }
    if let Ok(mut records) = recorder.records.lock() {
        records.push(record.clone());
    }
    record
}

/// An admin who reprices products while shoppers check out: GET for the `ETag`, then PUT with
/// `If-Match`, the same stock and a new price. Checkouts racing a price change must fail whole
/// (409 price-changed), and the stock the admin writes back is the stock it read, so stock stays
/// conserved.
pub struct Admin {
    bearer: String,
    base: String,
    http: Client,
    rng: fastrand::Rng,
    recorder: Arc<Recorder>,
    products: Arc<Vec<String>>,
}

impl Admin {
    pub fn new(
        token: &str,
        base: &str,
        seed: u64,
        recorder: Arc<Recorder>,
        products: Arc<Vec<String>>,
    ) -> Self {
        let http = Client::builder()
            .timeout(CLIENT_TIMEOUT)
            .build()
            .unwrap_or_default();
        Self {
            bearer: format!("Bearer {token}"),
            base: base.to_owned(),
            http,
            rng: fastrand::Rng::with_seed(seed),
            recorder,
            products,
        }
    }

    pub async fn run(mut self, deadline: Instant, every: Duration) {
        while Instant::now() < deadline {
            tokio::time::sleep(every).await;
            let product = self.products[self.rng.usize(..self.products.len())].clone();
            let url = format!("{}/products/{product}", self.base);
            let Ok(current) = self.http.get(&url).send().await else {
                continue;
            };
            let Some(etag) = current
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
            else {
                continue;
            };
            let Ok(body) = current.json::<Value>().await else {
                continue;
            };
            let price = (body["price"].as_i64().unwrap_or(100) + self.rng.i64(-20..=20)).max(1);
            let update = json!({"name": body["name"], "description": body["description"], "price": price, "stock": body["stock"]});
            let path = format!("/products/{product}");
            let headers = [("if-match", etag.as_str())];
            send(
                &self.http,
                &self.recorder,
                &self.base,
                "admin",
                &self.bearer,
                Method::PUT,
                &path,
                Some(&update),
                &headers,
            )
            .await;
        }
    }
}

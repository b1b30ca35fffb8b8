//! Where one warm invocation's microseconds go, phase by phase: `warm-profile <iterations>
//! <events.json> <out.json>`, run by the bench (`cargo run -p bench --release`) with a function's
//! own environment, one process per transport.
//!
//! It builds what a function's `main` builds (logging as configured, the `App`, the key set, the
//! metrics collector: the same calls) on one thread as `shared::lambda::run` does, then times each
//! phase of get-product's and get-cart's invocation in its own loop, `iterations` times, and
//! writes the medians (µs) to `out.json`:
//! - `event_parse`: the API Gateway event's JSON into a `Request` (`lambda_http`'s own parser);
//! - `auth`: the bearer token verified and the caller taken (get-cart);
//! - `store_call`: the DynamoDB calls the handler makes, alone (get-product: one GetItem; get-cart:
//!   a GetItem and a BatchGetItem);
//! - `handler`: the whole handler, auth and store calls included;
//! - `serialisation`: the response into API Gateway's response document, as JSON (what
//!   `lambda_http` does after the handler);
//! - `log_line`: the request's log line (JSON, written to stdout, which the bench sends nowhere);
//! - `metrics`: the EMF document (the log line and the document, less the log line alone);
//! - `observe`: the handler inside `shared::lambda::observe` (budget, log line, metrics) end to
//!   end, the in-process whole.
//!
//! What is not here is the Runtime API's round trip (`next`, the response's POST): the runtime
//! floor's warm p50 in the same run.

use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use shared::telemetry::{self, RequestRecord};
use std::future::Future;
use std::time::Instant;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(iterations), Some(events), Some(out)) = (
        args.get(1).and_then(|n| n.parse::<usize>().ok()),
        args.get(2),
        args.get(3),
    ) else {
        eprintln!("usage: warm-profile <iterations> <events.json> <out.json>");
        std::process::exit(2)
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    match runtime.block_on(profile(iterations.max(1), events)) {
        Ok(doc) => {
            if let Err(err) = std::fs::write(out, doc.to_string()) {
                eprintln!("warm-profile: cannot write {out}: {err}");
                std::process::exit(1)
            }
        }
        Err(err) => {
            eprintln!("warm-profile: {err}");
            std::process::exit(1)
        }
    }
}

async fn profile(n: usize, events: &str) -> Result<Value, BoxError> {
    let events: Value = serde_json::from_str(&std::fs::read_to_string(events)?)?;
    let event = |name: &str| -> Result<String, BoxError> {
        Ok(events
            .get(name)
            .ok_or_else(|| format!("no {name} event"))?
            .to_string())
    };
    let (product_event, cart_event) = (event("get-product")?, event("get-cart")?);
    telemetry::init_for("warm-profile");
    let app: &'static shared::App = Box::leak(Box::new(shared::App::from_env().await?));
    let keys: &'static std::sync::Arc<shared::auth::Authenticator> =
        Box::leak(Box::new(shared::auth::Authenticator::from_env().await?));
    let auth: &'static shared::auth::Authenticator = keys;
    let parse = |e: &str| lambda_http::request::from_str(e).map_err(|err| err.to_string());

    // get-product.
    let id = shared::domain::ProductId::parse("espresso-cup")?;
    let product = json!({
        "event_parse": median(n, || async { parse(&product_event).map(drop) }).await?,
        "store_call": median(n, || async {
            app.store().get_product(&id).await.map(drop).map_err(|e| e.to_string())
        })
        .await?,
        "handler": timed_handler(n, &product_event, |req| get_product::handle(app, req)).await?,
        "serialisation": serialisation(n, get_product::handle(app, parse(&product_event)?).await?)?,
    });
    // get-cart.
    let user = shared::domain::UserId::parse("alice")?;
    let cart = json!({
        "event_parse": median(n, || async { parse(&cart_event).map(drop) }).await?,
        "auth": median(n, || {
            let req = parse(&cart_event);
            async move {
                let req = req?;
                shared::http::caller(auth, &req).await.map(drop).map_err(|e| e.to_string())
            }
        })
        .await?,
        "store_call": median(n, || async {
            let cart = app.store().get_cart(&user).await.map_err(|e| e.to_string())?;
            app.store()
                .get_products(&cart.product_ids())
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        })
        .await?,
        "handler": timed_handler(n, &cart_event, |req| get_cart::handle(app, auth, req)).await?,
        "serialisation": serialisation(n, get_cart::handle(app, auth, parse(&cart_event)?).await?)?,
    });

    // The request's log line alone, then with the metrics collector on: its EMF document.
    let record = RequestRecord {
        request_id: "8f5e3c1a-2b4d-4e6f-9a8b-7c6d5e4f3a2b".to_owned(),
        route: "GET /products/{id}".to_owned(),
        status: 200,
        latency_ms: 0.712,
        cold_start: false,
        caller: Some("3f9a2c4b1d0e8f7a".to_owned()),
        trace_id: Some("1-67a2f0c1-5d4c3b2a1f0e9d8c7b6a5f4e".to_owned()),
    };
    let log_line = median(n, || async {
        telemetry::record(&record);
        Ok(())
    })
    .await?;
    telemetry::init_metrics("warm-profile", app.config().metrics_namespace());
    let with_metrics = median(n, || async {
        telemetry::record(&record);
        Ok(())
    })
    .await?;
    let observe = |event: String, cart: bool| {
        median(n, move || {
            let req = parse(&event);
            async move {
                let req = req?;
                let answer = if cart {
                    let handler = |req| get_cart::handle(app, auth, req);
                    shared::lambda::observe(app.config(), req, &handler).await
                } else {
                    let handler = |req| get_product::handle(app, req);
                    shared::lambda::observe(app.config(), req, &handler).await
                };
                answer.map(drop).map_err(|e| e.to_string())
            }
        })
    };
    let observe_product = observe(product_event.clone(), false).await?;
    let observe_cart = observe(cart_event.clone(), true).await?;
    let mut doc = json!({
        "iterations": n,
        "get-product": product,
        "get-cart": cart,
    });
    for (name, observed) in [("get-product", observe_product), ("get-cart", observe_cart)] {
        doc[name]["log_line"] = json!(log_line);
        doc[name]["metrics"] = json!((with_metrics - log_line).max(0.0));
        doc[name]["observe"] = json!(observed);
    }
    Ok(doc)
}

/// The median time of `n` runs of `f`, in µs, after one untimed run (the first of anything pays
/// for lazy set-up, which init or the first invocation has paid in a function).
async fn median<F, Fut>(n: usize, mut f: F) -> Result<f64, BoxError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    f().await?;
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        f().await?;
        samples.push(started.elapsed().as_secs_f64() * 1e6);
    }
    Ok(bench::stats::quantile(&samples, 0.5).unwrap_or_default())
}

/// The handler alone, on a request parsed outside the timed part; a non-2xx answer is an error
/// (a figure for the wrong path is worse than none).
async fn timed_handler<H, Fut>(n: usize, event: &str, handler: H) -> Result<f64, BoxError>
where
    H: Fn(Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, std::convert::Infallible>>,
{
    let mut samples = Vec::with_capacity(n);
    for i in 0..=n {
        let req = lambda_http::request::from_str(event)?;
        let started = Instant::now();
        let response = handler(req).await?;
        let took = started.elapsed().as_secs_f64() * 1e6;
        if !response.status().is_success() {
            return Err(format!("the handler answered {}", response.status()).into());
        }
        if i > 0 {
            samples.push(took);
        }
    }
    Ok(bench::stats::quantile(&samples, 0.5).unwrap_or_default())
}

/// The response into API Gateway's (HTTP API) response document and its JSON, as `lambda_http`
/// turns a handler's answer into what the runtime posts: status, headers, `Set-Cookie` moved to
/// `cookies`, the body; median µs of `n`.
fn serialisation(n: usize, response: Response<Body>) -> Result<f64, BoxError> {
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpResponse;
    let (parts, body) = response.into_parts();
    let text = match body {
        Body::Text(t) => t,
        Body::Empty => String::new(),
        _ => return Err("a binary body".into()),
    };
    let mut samples = Vec::with_capacity(n);
    for _ in 0..=n {
        let (headers, text) = (parts.headers.clone(), text.clone());
        let started = Instant::now();
        let mut headers = headers;
        let cookies: Vec<String> = headers
            .get_all(lambda_http::http::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        headers.remove(lambda_http::http::header::SET_COOKIE);
        let mut doc = ApiGatewayV2httpResponse::default();
        doc.status_code = i64::from(parts.status.as_u16());
        doc.headers = headers;
        doc.body = Some(Body::Text(text));
        doc.cookies = cookies;
        let bytes = serde_json::to_vec(&doc)?;
        samples.push(started.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(bytes);
    }
    samples.remove(0);
    Ok(bench::stats::quantile(&samples, 0.5).unwrap_or_default())
}

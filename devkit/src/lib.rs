//! Development kit shared by the local API, the tests, the harness, chaos and bench: never
//! deployed, never imported by a function's library. It depends on `shared` only.
//!
//! # Layout
//! - [`engine`]: an embedded dynoxide DynamoDB engine on a loopback port.
//! - [`audit`]: a user's whole partition read back, for the chaos checker.
//! - [`apigw`]: builds API Gateway HTTP API (payload 2.0) events, the exact JSON Lambda receives,
//!   and turns them into `lambda_http::Request`s by the same deserialisation Lambda's runtime uses.
//! - [`tokens`]: a development token issuer (ES256 key, key set, minted access tokens).
//! - [`isolation`]: DynamoDB's transaction isolation (conflicts with a transaction in flight),
//!   modelled in front of the engine, which serializes every request.
//! - [`proxy`]: a proxy in front of the engine that parks, fails, slows or records chosen calls.
//! - [`routes`]: the route table (routes, resolution, binary names), declared once.
//! - [`spawn_app`]: an isolated app for one test: its own in-memory engine (behind the
//!   transaction isolation model) and table, and an authenticator that trusts its own
//!   development issuer; [`spawn_app_holding`] lengthens the transactions' hold.

pub mod apigw;
pub mod audit;
pub mod engine;
pub mod isolation;
pub mod proxy;
pub mod routes;
pub mod tokens;

use shared::{App, Config, DynamoStore};

pub use engine::Engine;

/// An app wired to its own engine and table. Dropping it stops the engine.
pub struct TestApp {
    pub app: App,
    pub engine: Engine,
    /// Trusts [`TestApp::issuer`] only.
    pub auth: std::sync::Arc<shared::auth::Authenticator>,
    pub issuer: tokens::DevIssuer,
}

impl TestApp {
    /// `Bearer <token>` for a plain user.
    pub fn user_bearer(&self, sub: &str) -> String {
        format!("Bearer {}", self.issuer.mint(&tokens::TokenSpec::user(sub)))
    }

    /// The same app (settings and table) with its DynamoDB calls going through `proxy`.
    pub fn through(&self, proxy: &proxy::Proxy) -> App {
        App::new(
            self.app.config().clone(),
            DynamoStore::local(&proxy.endpoint(), self.app.store().table()),
        )
    }

    /// The transaction isolation model in front of this app's engine.
    pub fn isolation(&self) -> &std::sync::Arc<isolation::Isolation> {
        self.engine
            .isolation()
            .expect("spawn_app puts the isolation model in front of the engine")
    }

    /// A proxy in front of this app's engine.
    pub async fn proxy(&self) -> proxy::Proxy {
        proxy::Proxy::start(&self.engine.endpoint())
            .await
            .expect("start a proxy on 127.0.0.1:0")
    }

    /// `Bearer <token>` for an admin.
    pub fn admin_bearer(&self, sub: &str) -> String {
        format!(
            "Bearer {}",
            self.issuer.mint(&tokens::TokenSpec::admin(sub))
        )
    }
}

/// Starts an in-memory engine on `127.0.0.1:0`, behind DynamoDB's transaction isolation (a
/// transaction holds its items for the engine's own time: see [`isolation`]), creates the table
/// exactly as `template.yaml` declares it, and returns an app pointed at it. Every call is
/// isolated from every other.
pub async fn spawn_app() -> TestApp {
    spawn_app_holding(std::time::Duration::ZERO).await
}

/// As [`spawn_app`], with every transaction holding its items `hold` longer than the engine
/// takes, so concurrent requests meet the conflicts DynamoDB answers with.
pub async fn spawn_app_holding(hold: std::time::Duration) -> TestApp {
    let engine = Engine::memory()
        .await
        .expect("start an in-memory dynoxide engine on 127.0.0.1:0")
        .isolated(hold)
        .await
        .expect("start the isolation model on 127.0.0.1:0");
    let table = format!("shop-test-{}", uuid::Uuid::new_v4().simple());
    let app = app_for(&engine, &table, &[])
        .await
        .expect("create the test table in the embedded engine");
    let issuer = tokens::DevIssuer::generate().expect("generate a P-256 key");
    let auth = shared::auth::Authenticator::new(issuer.auth_config())
        .await
        .expect("the dev key set is valid");
    TestApp {
        app,
        engine,
        auth,
        issuer,
    }
}

/// An app on `engine` with `table` (created if missing) and extra settings, e.g. `("CURRENCY", "USD")`.
pub async fn app_for(
    engine: &Engine,
    table: &str,
    extra: &[(&str, &str)],
) -> Result<App, Box<dyn std::error::Error + Send + Sync>> {
    let config = Config::from_lookup(|name| {
        if name == shared::config::vars::TABLE_NAME {
            return Some(table.to_owned());
        }
        extra
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })?;
    let store = DynamoStore::local(&engine.endpoint(), table);
    store.ensure_table().await?;
    Ok(App::new(config, store))
}

/// The body of a response as JSON (tests only; panics with the body when it is not JSON).
pub fn body_json(response: &lambda_http::Response<lambda_http::Body>) -> serde_json::Value {
    let bytes: &[u8] = response.body().as_ref();
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

/// Writes a product straight through the store (no handler), for tests that need one to exist.
pub async fn seed_product(
    app: &App,
    id: &str,
    name: &str,
    price: i64,
    stock: i64,
) -> shared::domain::Versioned<shared::domain::Product> {
    let id = shared::domain::ProductId::parse(id).expect("a valid product id");
    let draft = shared::domain::ProductDraft::parse(&serde_json::json!({
        "name": name, "description": format!("{name}, for tests"), "price": price, "stock": stock,
    }))
    .expect("a valid draft");
    let (_, stored) = app
        .store()
        .put_product(
            &id,
            &draft,
            app.config().currency(),
            &shared::domain::Precondition::None,
        )
        .await
        .expect("the engine accepts the write");
    stored
}

/// The `lambda_http::Request` for an event file's JSON (tests feed `events/*.json` through this).
pub fn request_from_event_json(json: &str) -> lambda_http::Request {
    lambda_http::request::from_str(json)
        .expect("the event is a valid API Gateway HTTP API payload 2.0 event")
}

/// The response's header `name` as a string ("" when absent).
pub fn header<'r>(response: &'r lambda_http::Response<lambda_http::Body>, name: &str) -> &'r str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// As [`request_from_event_json`], with the event's `authorization` header replaced by `bearer`
/// (the files carry a placeholder, since a real token would expire).
pub fn request_from_event_json_with(json: &str, bearer: &str) -> lambda_http::Request {
    let mut event: serde_json::Value = serde_json::from_str(json).expect("the event is JSON");
    assert!(
        event["headers"]["authorization"].is_string(),
        "the event has an authorization header to replace"
    );
    event["headers"]["authorization"] = serde_json::Value::String(bearer.to_owned());
    apigw::request_from_event(&event)
        .expect("the event is a valid API Gateway HTTP API payload 2.0 event")
}

/// The user id of a test user.
pub fn user(sub: &str) -> shared::domain::UserId {
    shared::domain::UserId::parse(sub).expect("a valid user id")
}

/// Puts `quantity` of a product in `sub`'s cart straight through the store.
pub async fn add_to_cart(app: &App, sub: &str, product: &str, quantity: u32) {
    let id = shared::domain::ProductId::parse(product).expect("a valid product id");
    let quantity =
        shared::domain::Quantity::parse_body(&serde_json::json!({ "quantity": quantity }))
            .expect("1 to 99");
    // A cart held by transactions for longer than the store's patience is a 503 the client
    // retries (a test with 30 checkouts of one user at once meets it): so does this helper.
    let mut tries = 0;
    let change = loop {
        tries += 1;
        match app.store().set_cart_line(&user(sub), &id, quantity).await {
            Err(shared::store::StoreError::Unavailable(_)) if tries < 5 => continue,
            other => break other.expect("the engine accepts the write"),
        }
    };
    assert!(
        matches!(change, shared::store::CartChange::Updated(_)),
        "the cart has room"
    );
}

/// Places an order for `sub` from `lines` (product, quantity) straight through the store, at the
/// products' current prices: setup for tests of the order routes, which must not depend on the
/// checkout function. Returns the order as stored.
pub async fn place_order(app: &App, sub: &str, lines: &[(&str, u32)]) -> shared::domain::Order {
    use shared::domain::{IdempotencyKey, OrderId, checkout};
    use shared::store::{CheckoutCommit, CommitOutcome};
    for (product, quantity) in lines {
        add_to_cart(app, sub, product, *quantity).await;
    }
    let user = user(sub);
    let key = IdempotencyKey::parse(&uuid::Uuid::new_v4().to_string()).expect("a valid key");
    let (cart, _) = app
        .store()
        .checkout_state(&user, &key)
        .await
        .expect("reads the cart");
    let products = app
        .store()
        .get_products(&cart.product_ids())
        .await
        .expect("reads the products");
    let plan = checkout::plan(&cart, &products, app.config().currency(), None)
        .expect("the cart can be ordered");
    let order = plan.order(OrderId::new(), shared::domain::Timestamp::now());
    let commit = CheckoutCommit {
        user: &user,
        key: &key,
        cart_version: cart.version,
        order: &order,
        buckets: &products
            .values()
            .map(|p| (p.id.clone(), p.stock_buckets))
            .collect(),
        fingerprint: "",
        max_open_orders: app.config().max_open_orders(),
    };
    assert_eq!(
        app.store().commit_checkout(&commit).await.expect("commits"),
        CommitOutcome::Committed
    );
    order
}

/// A product's current stock, read straight from the store.
pub async fn stock_of(app: &App, product: &str) -> Option<i64> {
    let id = shared::domain::ProductId::parse(product).expect("a valid product id");
    app.store()
        .get_product(&id)
        .await
        .expect("the engine answers")
        .map(|p| p.value.stock)
}

/// `req` as Lambda delivers it with `budget` left before the invocation's deadline
/// (`Lambda-Runtime-Deadline-Ms`, carried in the request's Lambda context).
pub fn with_deadline(
    req: lambda_http::Request,
    budget: std::time::Duration,
) -> lambda_http::Request {
    use lambda_http::RequestExt;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970");
    let mut context = lambda_http::Context::default();
    context.request_id = uuid::Uuid::new_v4().to_string();
    context.deadline = u64::try_from((now + budget).as_millis()).expect("a deadline in range");
    req.with_lambda_context(context)
}

/// Runs `req` through the functions' common wrapper (`shared::lambda::observe`, as `main`
/// serves it) with `deadline` left before Lambda's deadline; returns the response and how long it
/// took.
pub async fn observe_with_deadline<F, Fut>(
    config: &Config,
    req: lambda_http::Request,
    deadline: std::time::Duration,
    handler: &F,
) -> (
    lambda_http::Response<lambda_http::Body>,
    std::time::Duration,
)
where
    F: Fn(lambda_http::Request) -> Fut,
    Fut: std::future::Future<
            Output = Result<lambda_http::Response<lambda_http::Body>, std::convert::Infallible>,
        >,
{
    let started = std::time::Instant::now();
    let response = shared::lambda::observe(config, with_deadline(req, deadline), handler)
        .await
        .unwrap_or_else(|never| match never {});
    (response, started.elapsed())
}

/// Asserts that `response` is the spent budget's answer: 503 problem+json with `Retry-After`,
/// sent before `deadline` (`took` after the request arrived).
pub fn assert_answered_503_before(
    response: &lambda_http::Response<lambda_http::Body>,
    took: std::time::Duration,
    deadline: std::time::Duration,
) {
    assert_eq!(response.status(), 503);
    assert_eq!(header(response, "content-type"), "application/problem+json");
    assert_eq!(header(response, "retry-after"), "1");
    assert!(
        took < deadline,
        "answered after {took:?}, past the {deadline:?} deadline"
    );
}

/// Cancels every placed order of `sub` straight through the store, giving their stock back.
pub async fn cancel_all(app: &App, sub: &str) {
    let user = user(sub);
    let orders = app
        .store()
        .list_orders(&user, None, 100)
        .await
        .expect("the engine answers")
        .items;
    for order in orders
        .iter()
        .filter(|o| o.status == shared::domain::OrderStatus::Placed)
    {
        app.store()
            .cancel_order(&user, order)
            .await
            .expect("the engine accepts the cancel");
    }
}

/// Sends one DynamoDB call (`operation`, e.g. `"GetItem"`, with its JSON body) straight to the
/// engine, bypassing the store: for tests that must see or shape an item the way no function
/// would (an item from an older version of the code, a counter's raw value). Panics on a failure.
pub async fn engine_call(
    engine: &Engine,
    operation: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    endpoint_call(&engine.endpoint(), operation, body).await
}

/// As [`engine_call`], to the engine at `endpoint` (e.g. `local::Running::engine_endpoint`).
pub async fn endpoint_call(
    endpoint: &str,
    operation: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    use http_body_util::{BodyExt, Full};
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<hyper::body::Bytes>>();
    let request = hyper::Request::post(endpoint)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", format!("DynamoDB_20120810.{operation}"))
        // The engine checks that a request is signed, not the signature.
        .header("x-amz-date", "20260101T000000Z")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=local/20260101/local/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0",
        )
        .body(Full::new(hyper::body::Bytes::from(body.to_string())))
        .expect("a valid request");
    let response = client.request(request).await.expect("the engine answers");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("the engine's body")
        .to_bytes();
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    assert!(status.is_success(), "{operation} failed: {status} {value}");
    value
}

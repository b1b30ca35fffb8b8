//! The end-to-end flow against any base URL: the local API, or a stack after `sam deploy`.
//!
//! [`run`] walks the API as a shop's two kinds of users do, each step on ids it creates and
//! removes, and stops at the first answer that is not what the API reference promises:
//! 1. the catalog: `GET /products`;
//! 2. an admin creates a product (`PUT` with `If-None-Match: *`), reads it back with its `ETag`,
//!    and replaces it with `If-Match`;
//! 3. a shopper (whose cart must start empty: a checkout orders the whole cart) puts it in the
//!    cart and reads the cart;
//! 4. checks out with an `Idempotency-Key`, and sends the same request again: the replay
//!    answers the same order with `Idempotent-Replayed: true`;
//! 5. reads the order and finds it in the list, then cancels it;
//! 6. the admin deletes the product (`If-Match`), and it is gone.
//!
//! Whatever happens, the product it made is deleted and the order it placed is cancelled
//! before it returns. Tokens come from the caller ([`Tokens`]): the environment, a Cognito user
//! pool (`cognito`), or the local API's development issuer.
//!
//! # Layout
//! - `client`: a small HTTP(S) client (rustls, the Mozilla roots compiled in).
//! - [`cognito`]: tokens from a Cognito user pool (`InitiateAuth`, user and password).

mod client;
pub mod cognito;

pub use client::{Answer, Client};
use serde_json::{Value, json};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The bearer tokens of the two users the flow needs.
#[derive(Clone)]
pub struct Tokens {
    /// A shopper whose cart is empty (a dedicated smoke-test user: the flow checks out the cart).
    pub shopper: String,
    /// A caller with the admin group or scope.
    pub admin: String,
}

impl std::fmt::Debug for Tokens {
    // Tokens never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens { shopper: <redacted>, admin: <redacted> }")
    }
}

/// One step that passed, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub name: &'static str,
    pub status: u16,
    pub millis: u128,
}

/// Runs the flow against `base` (e.g. `https://abc.execute-api.eu-west-1.amazonaws.com`), and
/// returns each step that passed. The first step that does not answer as promised is the error,
/// naming the step, the status and the body.
pub async fn run(base: &str, tokens: &Tokens) -> Result<Vec<Step>, BoxError> {
    let client = Client::new(base)?;
    let product = format!("smoke-{}", uuid::Uuid::new_v4().simple());
    let mut flow = Flow {
        client,
        tokens: tokens.clone(),
        product,
        steps: Vec::new(),
        order: None,
        created: false,
    };
    let outcome = flow.walk().await;
    let cleaned = flow.clean_up().await;
    outcome?;
    cleaned?;
    Ok(flow.steps)
}

struct Flow {
    client: Client,
    tokens: Tokens,
    product: String,
    steps: Vec<Step>,
    /// The order placed, to cancel if a later step fails.
    order: Option<String>,
    /// Whether the product exists, to delete if a later step fails.
    created: bool,
}

impl Flow {
    /// Sends one request and checks its status; records the step.
    async fn step(
        &mut self,
        name: &'static str,
        request: Request<'_>,
        expected: u16,
    ) -> Result<Answer, BoxError> {
        let started = std::time::Instant::now();
        let answer = self
            .client
            .send(request.method, request.path, &request.headers, request.body)
            .await
            .map_err(|e| format!("{name}: {} {} failed: {e}", request.method, request.path))?;
        if answer.status != expected {
            return Err(format!(
                "{name}: {} {} answered {}, not {expected}: {}",
                request.method, request.path, answer.status, answer.body
            )
            .into());
        }
        self.steps.push(Step {
            name,
            status: answer.status,
            millis: started.elapsed().as_millis(),
        });
        Ok(answer)
    }

    fn shopper(&self) -> String {
        format!("Bearer {}", self.tokens.shopper)
    }

    fn admin(&self) -> String {
        format!("Bearer {}", self.tokens.admin)
    }

    async fn walk(&mut self) -> Result<(), BoxError> {
        self.catalog().await?;
        self.admin_writes().await?;
        self.cart().await?;
        self.checkout().await?;
        self.remove().await
    }

    async fn catalog(&mut self) -> Result<(), BoxError> {
        let list = self
            .step("list the catalog", Request::get("/products?limit=5"), 200)
            .await?;
        expect(
            list.json()?.get("items").is_some_and(Value::is_array),
            "a page of products",
        )
    }

    /// Creates the product, reads it, replaces it.
    async fn admin_writes(&mut self) -> Result<(), BoxError> {
        let path = format!("/products/{}", self.product);
        let draft = json!({"name": "Smoke test", "description": "Made and removed by the smoke run.", "price": 250, "stock": 5});
        let admin = self.admin();
        let create = Request::put(&path, &draft)
            .header("authorization", &admin)
            .header("if-none-match", "*");
        self.step("an admin creates a product", create, 201).await?;
        self.created = true;
        let read = self.step("read it back", Request::get(&path), 200).await?;
        let etag = read.header("etag").ok_or("read it back: no ETag")?;
        let replaced = json!({"name": "Smoke test", "description": "Made and removed by the smoke run.", "price": 300, "stock": 5});
        let replace = Request::put(&path, &replaced)
            .header("authorization", &admin)
            .header("if-match", &etag);
        let replaced = self.step("replace it with If-Match", replace, 200).await?;
        expect(replaced.json()?["price"] == 300, "the new price")
    }

    async fn cart(&mut self) -> Result<(), BoxError> {
        let shopper = self.shopper();
        let cart = self
            .step(
                "the shopper's cart starts empty",
                Request::get("/cart").header("authorization", &shopper),
                200,
            )
            .await?;
        if cart.json()?["items"]
            .as_array()
            .is_some_and(|i| !i.is_empty())
        {
            return Err("the shopper's cart is not empty: use a dedicated smoke-test user (the flow orders the whole cart)".into());
        }
        let line = json!({"quantity": 2});
        let path = format!("/cart/items/{}", self.product);
        let put = Request::put(&path, &line).header("authorization", &shopper);
        let cart = self.step("put 2 in the cart", put, 200).await?;
        expect(cart.json()?["total"] == 600, "a cart of 2 × 300")
    }

    async fn checkout(&mut self) -> Result<(), BoxError> {
        let shopper = self.shopper();
        let key = format!("smoke-{}", uuid::Uuid::new_v4().simple());
        let body = json!({"expected_total": 600});
        let place = || {
            Request::post("/orders", &body)
                .header("authorization", &shopper)
                .header("idempotency-key", &key)
        };
        let placed = self.step("check out", place(), 201).await?;
        let order = placed.json()?;
        let id = order["id"]
            .as_str()
            .ok_or("check out: no order id")?
            .to_owned();
        self.order = Some(id.clone());
        let replayed = self
            .step("the same request again is a replay", place(), 201)
            .await?;
        expect(
            replayed.header("idempotent-replayed").as_deref() == Some("true")
                && replayed.json()?["id"] == id.as_str(),
            "the same order, replayed",
        )?;
        let path = format!("/orders/{id}");
        let read = Request::get(&path).header("authorization", &shopper);
        self.step("read the order", read, 200).await?;
        let list = Request::get("/orders?limit=5").header("authorization", &shopper);
        let list = self.step("list the orders", list, 200).await?;
        let listed = list.json()?["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|o| o["id"] == id.as_str()));
        expect(listed, "the order in the list")?;
        let cancel_path = format!("/orders/{id}/cancel");
        let cancel = Request::post(&cancel_path, &Value::Null).header("authorization", &shopper);
        let cancelled = self.step("cancel it", cancel, 200).await?;
        self.order = None;
        expect(
            cancelled.json()?["status"] == "cancelled",
            "a cancelled order",
        )
    }

    async fn remove(&mut self) -> Result<(), BoxError> {
        let path = format!("/products/{}", self.product);
        // The sale and the cancel changed its stock, so its tag too: read it again.
        let read = self
            .step("read it after the sale", Request::get(&path), 200)
            .await?;
        expect(
            read.json()?["stock"] == 5,
            "the stock back at 5 after the cancel",
        )?;
        let etag = read
            .header("etag")
            .ok_or("read it after the sale: no ETag")?;
        let admin = self.admin();
        let delete = Request::delete(&path)
            .header("authorization", &admin)
            .header("if-match", &etag);
        self.step("an admin deletes the product", delete, 204)
            .await?;
        self.created = false;
        self.step("it is gone", Request::get(&path), 404).await?;
        Ok(())
    }

    /// Cancels the order and deletes the product a failed run left behind.
    async fn clean_up(&mut self) -> Result<(), BoxError> {
        if let Some(id) = self.order.take() {
            let path = format!("/orders/{id}/cancel");
            let shopper = self.shopper();
            self.client
                .send("POST", &path, &[("authorization", shopper.as_str())], None)
                .await
                .map_err(|e| format!("clean-up: cancel order {id}: {e}"))?;
        }
        if self.created {
            let path = format!("/products/{}", self.product);
            let admin = self.admin();
            self.client
                .send(
                    "DELETE",
                    &path,
                    &[("authorization", admin.as_str()), ("if-match", "*")],
                    None,
                )
                .await
                .map_err(|e| format!("clean-up: delete product {}: {e}", self.product))?;
        }
        Ok(())
    }
}

fn expect(held: bool, what: &str) -> Result<(), BoxError> {
    if held {
        Ok(())
    } else {
        Err(format!("expected {what}").into())
    }
}

/// One request of the flow.
struct Request<'a> {
    method: &'static str,
    path: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    body: Option<String>,
}

impl<'a> Request<'a> {
    fn get(path: &'a str) -> Self {
        Self {
            method: "GET",
            path,
            headers: Vec::new(),
            body: None,
        }
    }

    fn delete(path: &'a str) -> Self {
        Self {
            method: "DELETE",
            ..Self::get(path)
        }
    }

    fn with_json(method: &'static str, path: &'a str, body: &Value) -> Self {
        let body = (!body.is_null()).then(|| body.to_string());
        let headers = if body.is_some() {
            vec![("content-type", "application/json")]
        } else {
            Vec::new()
        };
        Self {
            method,
            path,
            headers,
            body,
        }
    }

    fn put(path: &'a str, body: &Value) -> Self {
        Self::with_json("PUT", path, body)
    }

    fn post(path: &'a str, body: &Value) -> Self {
        Self::with_json("POST", path, body)
    }

    fn header(mut self, name: &'a str, value: &'a str) -> Self {
        self.headers.push((name, value));
        self
    }
}

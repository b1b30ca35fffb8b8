//! What each function's invocations are: its own `events/` request, with a fresh token, and the
//! state reset (outside the timed window) that makes every warm invocation do the documented work
//! rather than a replay or an error: `PUT /products/{id}` with `If-None-Match: *` creates the
//! product each time because the bench deletes it first, checkout finds a full cart, and so on.
//! Workloads are keyed by [`Function`], matched exhaustively: a function added to
//! `devkit::routes` does not compile here until it has one.

use crate::report::Calls;
use devkit::routes::Function;
use devkit::tokens::{DevIssuer, TokenSpec};
use serde_json::Value;
use shared::App;
use shared::domain::{Precondition, ProductId};
use shared::store::StoreError;
use std::path::Path;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The user of every protected event, and the admin of the admin ones.
const USER: &str = "alice";
const ADMIN: &str = "admin";
/// What the events name: checkout expects `2 × espresso-cup` at 900 (= its `expected_total`).
const CUP: &str = "espresso-cup";
const CUP_PRICE: i64 = 900;
const MUG: &str = "travel-mug";
/// The order id the order events carry as a placeholder.
const ORDER_PLACEHOLDER: &str = "0196b3a2-6c1e-7d4f-8a2b-3c4d5e6f7a8b";

/// One function's workload.
pub struct Workload {
    pub function: String,
    kind: Function,
    /// The event as stored in `events/`, tokens not yet filled in.
    template: Value,
    /// Status every invocation must answer, or the bench stops: a figure for the wrong path is
    /// worse than none.
    pub expect: u16,
    /// Text the body must contain, where the status alone could come from the wrong path.
    pub expect_body: Option<&'static str>,
    pub describe: &'static str,
}

/// The table the bench and the artifact check create in their engine.
pub const TABLE: &str = "bench";

/// The DynamoDB key of the item the storage floor reads (`PK`, `SK`): the product
/// `GET /products/{id}` reads in its event.
pub fn storage_floor_key() -> (String, String) {
    (format!("PRODUCT#{CUP}"), "PRODUCT".to_owned())
}

impl Workload {
    /// The workload of `function`, from `events/<function>.json` under `root`.
    pub fn load(root: &Path, function: &str) -> Result<Self, BoxError> {
        let kind = Function::from_binary(function).ok_or_else(|| {
            format!("no workload is defined for {function}: not a function of devkit::routes")
        })?;
        let path = root.join("events").join(format!("{function}.json"));
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("read {}: {e}", path.display()))?;
        let template: Value = serde_json::from_str(&text)?;
        let (expect, describe) = match kind {
            Function::ListProducts => (200, "the event's page of the catalog (limit 2), as sent"),
            Function::GetProduct => (200, "one product by id, as sent (one consistent GetItem)"),
            Function::PutProduct => (
                201,
                "creates the product (`If-None-Match: *`); the bench deletes it before each",
            ),
            Function::DeleteProduct => (
                204,
                "deletes the product; the bench re-creates it before each",
            ),
            Function::GetCart => (200, "reads a one-line cart and prices it, as sent"),
            Function::PutCartItem => (200, "sets the cart line, as sent"),
            Function::DeleteCartItem => {
                (204, "removes the line; the bench puts it back before each")
            }
            Function::PlaceOrder => (
                201,
                "a real checkout (transaction of stock, order, cart, key): a fresh \
                 Idempotency-Key each time, the cart refilled before each",
            ),
            Function::ListOrders => (200, "the newest 10 orders of the user, as sent"),
            Function::GetOrder => (
                200,
                "one order of the user (the placeholder id swapped for a real one)",
            ),
            Function::CancelOrder => (
                200,
                "a real cancel (transaction restoring stock) of an order the bench places before each",
            ),
        };
        let expect_body = match kind {
            Function::GetCart => Some(r#""total":1800"#),
            Function::ListOrders | Function::ListProducts => Some(r#""items":[{"#),
            Function::GetProduct => Some(r#""id":"espresso-cup""#),
            Function::PlaceOrder => Some(r#""status":"placed""#),
            Function::CancelOrder => Some(r#""status":"cancelled""#),
            _ => None,
        };
        Ok(Self {
            function: function.to_owned(),
            kind,
            template,
            expect,
            expect_body,
            describe,
        })
    }

    /// Whether its route takes no token (so its init fetches no key set).
    pub fn public(&self) -> bool {
        self.kind.public()
    }

    /// The DynamoDB calls of one warm invocation of this workload, in order (the product is not
    /// split into stock buckets here, so no bucket reads):
    pub fn calls(&self) -> Calls {
        let (items, transaction) = match self.kind {
            // Query of the listing index, BatchGetItem of the page's 2 products.
            Function::ListProducts => (2, None),
            // GetItem.
            Function::GetProduct => (1, None),
            // UpdateItem (create, conditional).
            Function::PutProduct => (1, None),
            // DeleteItem (conditional).
            Function::DeleteProduct => (1, None),
            // GetItem of the cart, BatchGetItem of its product.
            Function::GetCart => (2, None),
            // BatchGetItem of the product, UpdateItem of the cart.
            Function::PutCartItem => (2, None),
            // UpdateItem of the cart (conditional).
            Function::DeleteCartItem => (1, None),
            // BatchGetItem of the cart and the key's record, BatchGetItem of the product, then
            // the checkout: stock, order, cart, key, open-order count.
            Function::PlaceOrder => (2, Some(5)),
            // Query of the user's orders.
            Function::ListOrders => (1, None),
            // GetItem.
            Function::GetOrder => (1, None),
            // GetItem of the order, then the cancel: order, open-order count, stock.
            Function::CancelOrder => (1, Some(3)),
        };
        Calls { items, transaction }
    }

    /// The event as stored, placeholders and all (the runtime floor ignores what it gets).
    pub fn raw_event(&self) -> Value {
        self.template.clone()
    }

    /// `METHOD /path` of the event.
    pub fn route(&self) -> String {
        self.template["routeKey"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// The engine's state and the tokens every workload uses.
pub struct World {
    pub app: App,
    issuer: DevIssuer,
    user_bearer: String,
    admin_bearer: String,
    /// The user's and the admin's claims as API Gateway's JWT authorizer passes them.
    gateway: (Value, Value),
    /// Whether every protected event carries them (`AUTH_MODE=authorizer` for the whole run).
    behind_authorizer: bool,
    /// An order of the user, for `GET /orders/{id}`.
    order: String,
}

impl World {
    /// Seeds the catalog (the events' products, plenty of stock) and a few orders.
    pub async fn seed(app: App, issuer: DevIssuer) -> Self {
        devkit::seed_product(&app, CUP, "Espresso cup", CUP_PRICE, 100_000_000).await;
        for (i, id) in ["pour-over-kettle", "grinder", "beans-ethiopia"]
            .iter()
            .enumerate()
        {
            devkit::seed_product(&app, id, id, 1_000 + 500 * i as i64, 1_000).await;
        }
        let mut order = String::new();
        for _ in 0..3 {
            order = devkit::place_order(&app, USER, &[(CUP, 1)])
                .await
                .id
                .to_string();
        }
        let bearer = |spec: &TokenSpec| format!("Bearer {}", issuer.mint(spec));
        // Tokens live an hour: longer than any run.
        let user_bearer = bearer(&TokenSpec {
            ttl_secs: 3600,
            ..TokenSpec::user(USER)
        });
        let admin_bearer = bearer(&TokenSpec {
            ttl_secs: 3600,
            ..TokenSpec::admin(ADMIN)
        });
        Self {
            app,
            issuer,
            user_bearer,
            admin_bearer,
            gateway: (
                gateway(TokenSpec::user(USER)),
                gateway(TokenSpec::admin(ADMIN)),
            ),
            behind_authorizer: false,
            order,
        }
    }

    /// Every protected event from now on carries the claims API Gateway's JWT authorizer would
    /// pass (`requestContext.authorizer.jwt.claims`), for functions in `AUTH_MODE=authorizer`.
    pub fn behind_authorizer(&mut self) {
        self.behind_authorizer = true;
    }

    /// The key set the functions trust.
    pub fn jwks(&self) -> Value {
        self.issuer.jwks()
    }

    /// Once per function per round, before its first invocation.
    pub async fn before_run(&self, w: &Workload) -> Result<(), BoxError> {
        match w.kind {
            Function::GetCart => devkit::add_to_cart(&self.app, USER, CUP, 2).await,
            // A run of checkouts leaves its last order placed: without this, a bench of many runs
            // (three transports of three rounds) reaches the user's cap of open orders.
            Function::PlaceOrder | Function::CancelOrder => self.cancel_open_orders().await?,
            _ => {}
        }
        Ok(())
    }

    /// Cancels the user's placed orders but the one `get-order` reads.
    async fn cancel_open_orders(&self) -> Result<(), BoxError> {
        let user = devkit::user(USER);
        let page = self.app.store().list_orders(&user, None, 20).await?;
        for order in page.items.iter().filter(|o| {
            o.status == shared::domain::OrderStatus::Placed && o.id.as_str() != self.order
        }) {
            self.app.store().cancel_order(&user, order).await?;
        }
        Ok(())
    }

    /// Resets what the previous invocation changed and returns the next event. Not timed.
    pub async fn next_event(&self, w: &Workload) -> Result<Value, BoxError> {
        self.next_event_as(w, self.behind_authorizer).await
    }

    /// As [`Self::next_event`], with the authorizer's claims in a protected event if
    /// `behind_authorizer` (one contestant in that mode, the run in the other).
    pub async fn next_event_as(
        &self,
        w: &Workload,
        behind_authorizer: bool,
    ) -> Result<Value, BoxError> {
        let mut event = w.template.clone();
        let mut order = None;
        match w.kind {
            Function::PutProduct => {
                // Absent already (the first time of a round) is as good as deleted.
                match self
                    .app
                    .store()
                    .delete_product(&ProductId::parse(MUG)?, &Precondition::None)
                    .await
                {
                    Ok(_) | Err(StoreError::NotFound) => {}
                    Err(err) => return Err(err.into()),
                }
            }
            Function::DeleteProduct => {
                devkit::seed_product(&self.app, MUG, "Travel mug", 1_290, 40).await;
            }
            Function::DeleteCartItem => devkit::add_to_cart(&self.app, USER, CUP, 2).await,
            Function::PlaceOrder => {
                // The previous invocation's order is cancelled, so the user stays under the cap
                // of open orders (MAX_OPEN_ORDERS) however many invocations a round makes.
                self.cancel_open_orders().await?;
                devkit::add_to_cart(&self.app, USER, CUP, 2).await;
                event["headers"]["idempotency-key"] =
                    Value::String(uuid::Uuid::new_v4().to_string());
            }
            Function::GetOrder => order = Some(self.order.clone()),
            Function::CancelOrder => {
                order = Some(
                    devkit::place_order(&self.app, USER, &[(CUP, 1)])
                        .await
                        .id
                        .to_string(),
                );
            }
            _ => {}
        }
        if let Some(auth) = event["headers"]["authorization"].as_str() {
            let admin = auth.contains("--admin");
            let bearer = if admin {
                &self.admin_bearer
            } else {
                &self.user_bearer
            };
            event["headers"]["authorization"] = Value::String(bearer.clone());
            if behind_authorizer {
                let (user, admin_claims) = &self.gateway;
                event["requestContext"]["authorizer"] = if admin {
                    admin_claims.clone()
                } else {
                    user.clone()
                };
            }
        }
        if let Some(order) = order {
            let text = event.to_string().replace(ORDER_PLACEHOLDER, &order);
            event = serde_json::from_str(&text)?;
        }
        Ok(event)
    }
}

/// What API Gateway's JWT authorizer passes for a token of `spec`: the claims it verified, in
/// `requestContext.authorizer` (arrays space-joined, as it does).
fn gateway(spec: TokenSpec) -> Value {
    let claims = DevIssuer::claims(&TokenSpec {
        ttl_secs: 3600,
        ..spec
    });
    serde_json::json!({"jwt": {"claims": devkit::apigw::gateway_claims(&claims), "scopes": null}})
}

#[cfg(test)]
mod tests {
    use super::*;
    use devkit::routes::ROUTES;

    fn root() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    /// Every function of the route table has a workload, from its own event, for one of its routes.
    #[test]
    fn every_function_has_a_workload_for_its_route() {
        for function in Function::ALL {
            let name = function.binary();
            let w = Workload::load(&root(), name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(w.function, name);
            assert!(!w.describe.is_empty(), "{name}");
            assert!((200..300).contains(&w.expect), "{name}: {}", w.expect);
            let routes: Vec<String> = ROUTES
                .iter()
                .filter(|r| r.function == *function)
                .map(|r| format!("{} {}", r.method, r.path))
                .collect();
            assert!(
                routes.contains(&w.route()),
                "{name}: the event's route {} is not one of {routes:?}",
                w.route()
            );
        }
    }

    /// No workload for a name that is not a function: the bench refuses it.
    #[test]
    fn no_workload_for_an_unknown_function() {
        let err = Workload::load(&root(), "no-such-function")
            .err()
            .expect("no workload");
        assert!(err.to_string().contains("no-such-function"), "{err}");
    }
}

//! The one entry point of every function's binary: `main` is one call,
//! `shared::lambda::run("get-product", Public, get_product::handle)`.
//!
//! [`run`] sets up logging, reads [`Config`] (exiting with a message naming the variable to fix),
//! builds the DynamoDB client and, for [`Bearer`] functions, loads the issuer's key set at the same
//! time, then serves invocations. Every request goes through [`observe`]: one log line and one
//! metrics document, within the invocation's time budget.
//!
//! Init is profiled phase by phase ([`crate::profile`]): `RUST_LOG=info,shared::profile=debug`
//! logs the phases as one line before the first event is polled.
//!
//! One thread: Lambda sends an execution environment one invocation at a time, and the bench
//! measured a multi-threaded runtime's hand-offs between workers at 200 µs of CPU per request
//! (get-product: 470 → 270 µs, warm p50 690 → 490 µs, init 3.4 → 2.8 ms). The concurrency that
//! matters (key set and DynamoDB connection during init) needs no second thread.

use crate::auth::Authenticator;
use crate::profile::{self, Phase};
use crate::{App, Config, ConfigError, http, telemetry};
use lambda_http::{Body, Request, Response};
use std::convert::Infallible;
use std::future::Future;

/// What every handler returns: a response (errors already rendered as problem documents).
pub type Answer = Result<Response<Body>, Infallible>;

/// Which credentials a function's routes ask for, and so what its init loads.
pub trait Access {
    /// What init builds for the handler besides the app.
    type Keys: Send + Sync + 'static;
    fn load() -> impl Future<Output = Result<Self::Keys, ConfigError>>;
}

/// A public route: no token, so no key set is fetched during init.
#[derive(Debug, Clone, Copy)]
pub struct Public;

/// A route for a signed-in caller (or an admin): the issuer's key set is loaded during init,
/// concurrently with the DynamoDB connection.
#[derive(Debug, Clone, Copy)]
pub struct Bearer;

impl Access for Public {
    type Keys = ();
    async fn load() -> Result<(), ConfigError> {
        Ok(())
    }
}

impl Access for Bearer {
    type Keys = std::sync::Arc<Authenticator>;
    async fn load() -> Result<Self::Keys, ConfigError> {
        crate::profile::time_async(Phase::KeySet, Authenticator::from_env()).await
    }
}

/// A function's handler, as its crate exports it: `handle(&App, Request)` for [`Public`] routes,
/// `handle(&App, &Authenticator, Request)` for [`Bearer`] ones.
pub trait Handler<A: Access> {
    type Future: Future<Output = Answer> + Send;
    fn call(&self, app: &'static App, keys: &'static A::Keys, req: Request) -> Self::Future;
}

impl<F, Fut> Handler<Public> for F
where
    F: Fn(&'static App, Request) -> Fut,
    Fut: Future<Output = Answer> + Send,
{
    type Future = Fut;
    fn call(&self, app: &'static App, _: &'static (), req: Request) -> Fut {
        self(app, req)
    }
}

impl<F, Fut> Handler<Bearer> for F
where
    F: Fn(&'static App, &'static Authenticator, Request) -> Fut,
    Fut: Future<Output = Answer> + Send,
{
    type Future = Fut;
    fn call(
        &self,
        app: &'static App,
        keys: &'static std::sync::Arc<Authenticator>,
        req: Request,
    ) -> Fut {
        self(app, keys, req)
    }
}

/// Runs `function` on Lambda: logging, config, store and key set once, then every invocation
/// through `handler`. Returns only if the runtime stops; exits with status 1 (and a log line
/// saying what to set) when the configuration is invalid.
pub fn run<A: Access, H: Handler<A> + Sync>(
    function: &'static str,
    _access: A,
    handler: H,
) -> Result<(), lambda_http::Error> {
    profile::start();
    let runtime = profile::time(Phase::Runtime, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    })
    .unwrap_or_else(|err| telemetry::exit_at_startup(function, &err));
    runtime.block_on(async {
        profile::time(Phase::Telemetry, || telemetry::init_for(function));
        // The DynamoDB client and the issuer's key set load concurrently, both before the first
        // request. The app and keys live as long as the process (Lambda never ends it cleanly),
        // so they are leaked once rather than reference-counted on every request.
        let (app, keys) = tokio::join!(App::from_env(), A::load());
        let app: &'static App = Box::leak(Box::new(
            app.unwrap_or_else(|err| telemetry::exit_at_startup(function, &err)),
        ));
        let keys: &'static A::Keys = Box::leak(Box::new(
            keys.unwrap_or_else(|err| telemetry::exit_at_startup(function, &err)),
        ));
        profile::time(Phase::Metrics, || {
            telemetry::init_metrics(function, app.config().metrics_namespace())
        });
        if let Some((spans, total)) = profile::finish() {
            tracing::debug!(
                target: "shared::profile",
                phases = %profile::format(&spans),
                total_us = total.as_micros() as u64,
                "init profile"
            );
        }
        let handler = &handler;
        lambda_http::run(lambda_http::service_fn(move |req| async move {
            let call = |req| handler.call(app, keys, req);
            // Boxed (one allocation per invocation): a handler's future, store calls and all,
            // nests deep enough that inline it passed the compiler's layout depth limit
            // (`queries overflow the depth limit`, put-cart-item's binary).
            Box::pin(observe(app.config(), req, &call)).await
        }))
        .await
    })
}

/// Runs one request as Lambda does here: within the invocation's time budget (503 with
/// `Retry-After` before Lambda's deadline, [`http::within_budget`]), with its log line and metrics
/// ([`telemetry::observe`]). The local server and the tests call it too.
pub async fn observe<F, Fut>(config: &Config, req: Request, handler: &F) -> Answer
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Answer>,
{
    let within = |req: Request| http::within_budget(http::budget(&req), handler(req));
    telemetry::observe(req, config.caller_id_key(), &within).await
}

//! The one crate every function uses: configuration, domain types, DynamoDB access, errors and
//! HTTP helpers. It knows no function and no route table; functions depend on it, never the reverse.
//!
//! # Layout
//! Three layers; a module imports only from the layers below it (and never from a function).
//!
//! 1. [`domain`]: the shop's vocabulary and rules, no I/O: validated newtypes (`ProductId`,
//!    `OrderId`, `Quantity`, `UserId`, `IdempotencyKey`, `EntityTag`, …), `Product`, `Cart`,
//!    `Order`, `domain::checkout` (pricing, stock, the expected total) and `domain::stock` (a hot
//!    product's stock split into buckets).
//!    [`chain`]: the error cause chain on one line (std only). [`profile`]: init's phases timed. [`tls`]:
//!    the authorities outgoing connections trust, decoded once.
//! 2. [`config`]: every setting, read once at start-up. [`cursor`]: opaque, tamper-evident
//!    paging cursors. [`store`]: the single-table DynamoDB design, one method per operation,
//!    `DynamoStore` (SDK types never leave it). [`auth`]: bearer-token verification. [`telemetry`]:
//!    logs and metrics, one line per request.
//! 3. [`http`]: request parsing, responses, `ApiError` and its problem kinds, the deadline
//!    budget. [`lambda`]: the entry point every `main` calls.
//!
//! [`lambda::run`] builds an [`App`] once (config and client, outside the handler) and hands
//! `&App` to the function's handler for every invocation.

// Layer 1: no imports from this crate (the domain's rules, the error-chain helper, the init
// profile).
pub mod chain;
pub mod domain;
pub mod profile;
pub mod tls;
// Layer 2: each imports only layer 1 (and `config`, read first).
pub mod auth;
pub mod config;
pub mod cursor;
pub mod store;
pub mod telemetry;
// Layer 3: the HTTP face and the entry point, over everything below.
pub mod http;
pub mod lambda;

pub use config::{Config, ConfigError};
pub use http::ApiError;
pub use store::DynamoStore;

/// Everything a handler needs, built once per process: settings and a store.
#[derive(Debug, Clone)]
pub struct App {
    config: Config,
    store: DynamoStore,
}

impl App {
    pub fn new(config: Config, store: DynamoStore) -> Self {
        Self { config, store }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn store(&self) -> &DynamoStore {
        &self.store
    }
    /// Reads the configuration, builds the DynamoDB client from the standard AWS environment and
    /// opens its connection.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = profile::time(profile::Phase::Config, Config::from_env)?;
        let store = DynamoStore::from_env(config.table_name()).await?;
        if config.open_connection_at_init() {
            store.open_connection().await;
        }
        Ok(Self::new(config, store))
    }
}

//! The one crate every function uses: configuration, domain types, DynamoDB access, errors and
//! HTTP helpers. It knows no function and no route table; functions depend on it, never the reverse.
//!
//! # Layout
//! - [`config`]: typed settings from the environment, validated once at start-up.
//! - [`domain`]: validated newtypes (`ProductId`, `ProductDraft`, `EntityTag`, `UserId`,
//!   `Quantity`, `OrderId`, `IdempotencyKey`, …), `Product`, `Cart`, `Order`.
//! - [`store`]: the single-table DynamoDB design, one narrow trait per operation, `DynamoStore`.
//! - [`cursor`]: opaque, tamper-evident paging cursors.
//! - [`error`]: `ApiError`, the one mapping from failures to RFC 9457 problem responses.
//! - [`http`]: request parsing and response rendering shared by the handlers.
//! - [`pricing`]: a cart priced from the catalog as it is now.
//! - [`auth`]: bearer-token verification (the policy around `jsonwebtoken`) and the caller.
//! - [`telemetry`]: logging set-up honouring Lambda's log settings.
//!
//! A function's `main` builds an [`App`] once (config and client, outside the handler) and hands
//! `&App` to its handler for every invocation.

pub mod auth;
pub mod config;
pub mod cursor;
pub mod domain;
pub mod error;
pub mod http;
pub mod pricing;
pub mod store;
pub mod telemetry;

pub use config::{Config, ConfigError};
pub use error::ApiError;
pub use store::DynamoStore;

/// Everything a handler needs, built once per process: settings and a store.
///
/// Generic over the store so a handler is written against the narrow trait it uses
/// (`S: GetProduct`), while production and tests both pass a [`DynamoStore`].
#[derive(Debug, Clone)]
pub struct App<S = DynamoStore> {
    config: Config,
    store: S,
}

impl<S> App<S> {
    pub fn new(config: Config, store: S) -> Self {
        Self { config, store }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn store(&self) -> &S {
        &self.store
    }
}

impl App<DynamoStore> {
    /// Reads the configuration, builds the DynamoDB client from the standard AWS environment and
    /// opens its connection.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let store = DynamoStore::from_env(config.table_name()).await?;
        // `OPEN_CONNECTION_AT_INIT=false` skips it (for measuring its effect with the bench).
        if std::env::var("OPEN_CONNECTION_AT_INIT").map_or(true, |v| v != "false") {
            store.open_connection().await;
        }
        Ok(Self::new(config, store))
    }
}

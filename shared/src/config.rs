//! Typed configuration, read from the environment once at start-up and validated there.
//!
//! A function that is missing a setting must refuse to start with a message naming the variable,
//! rather than fail on the first request. The DynamoDB endpoint is deliberately not here: the SDK
//! reads its own standard settings (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_REGION`, credentials).

use crate::cursor::CursorCodec;
use crate::domain::Currency;

/// Environment variables read by [`Config::from_env`].
pub mod vars {
    pub const TABLE_NAME: &str = "TABLE_NAME";
    pub const CURRENCY: &str = "CURRENCY";
    pub const CURSOR_SECRET: &str = "CURSOR_SECRET";
    pub const MAX_OPEN_ORDERS: &str = "MAX_OPEN_ORDERS";
}

/// Placed (not cancelled) orders one user may hold at once, unless `MAX_OPEN_ORDERS` says otherwise.
pub const DEFAULT_MAX_OPEN_ORDERS: u32 = 10;
/// Largest `MAX_OPEN_ORDERS` accepted.
pub const MAX_MAX_OPEN_ORDERS: u32 = 1_000_000;

/// Shortest `CURSOR_SECRET` accepted, in bytes: an HMAC-SHA256 key shorter than this is guessable.
pub const MIN_CURSOR_SECRET_BYTES: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error(
        "{0} is not set: set it to the name of the DynamoDB table (the stack output `TableName`)"
    )]
    Missing(&'static str),
    #[error("{var} is invalid: {why}")]
    Invalid { var: &'static str, why: String },
}

/// Settings shared by every function.
#[derive(Clone)]
pub struct Config {
    table_name: String,
    currency: Currency,
    cursor: CursorCodec,
    max_open_orders: u32,
}

impl std::fmt::Debug for Config {
    // Hand-written so the cursor key can never reach a log line through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("table_name", &self.table_name)
            .field("currency", &self.currency)
            .field("cursor", &"<keyed, redacted>")
            .field("max_open_orders", &self.max_open_orders)
            .finish()
    }
}

impl Config {
    /// Reads and validates the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Same as [`Config::from_env`], from any lookup: tests pass a map instead of mutating the
    /// process environment, which is shared by every test thread.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let table_name = get(vars::TABLE_NAME)
            .filter(|s| !s.trim().is_empty())
            .ok_or(ConfigError::Missing(vars::TABLE_NAME))?;
        // DynamoDB's own rule for table names, checked here so a typo fails at start-up.
        let valid_table = (3..=255).contains(&table_name.len())
            && table_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
        if !valid_table {
            return Err(ConfigError::Invalid {
                var: vars::TABLE_NAME,
                why:
                    "a DynamoDB table name is 3 to 255 characters of A-Z, a-z, 0-9, '_', '-' or '.'"
                        .into(),
            });
        }
        let currency = match get(vars::CURRENCY) {
            None => Currency::default(),
            Some(raw) => Currency::parse(&raw).map_err(|e| ConfigError::Invalid {
                var: vars::CURRENCY,
                why: e.message,
            })?,
        };
        let cursor_key = match get(vars::CURSOR_SECRET) {
            Some(secret) if secret.len() >= MIN_CURSOR_SECRET_BYTES => secret.into_bytes(),
            Some(_) => {
                return Err(ConfigError::Invalid {
                    var: vars::CURSOR_SECRET,
                    why: format!(
                        "must be at least {MIN_CURSOR_SECRET_BYTES} bytes, e.g. `openssl rand -hex 32`"
                    ),
                });
            }
            // Without a secret, cursors are still integrity-checked (a flipped byte is refused), but
            // keyed by the table name, which is not secret. Forging one gains nothing: it only picks
            // where a page of a public listing starts. README "Limits" says so.
            None => format!("stateless-shop cursor key for table {table_name}").into_bytes(),
        };
        let cursor = CursorCodec::new(&cursor_key).map_err(|_| ConfigError::Invalid {
            var: vars::CURSOR_SECRET,
            why: "must not be empty".into(),
        })?;
        let max_open_orders = match get(vars::MAX_OPEN_ORDERS).filter(|s| !s.trim().is_empty()) {
            None => DEFAULT_MAX_OPEN_ORDERS,
            Some(raw) => raw
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_MAX_OPEN_ORDERS).contains(n))
                .ok_or_else(|| ConfigError::Invalid {
                    var: vars::MAX_OPEN_ORDERS,
                    why: format!(
                        "must be a whole number from 1 to {MAX_MAX_OPEN_ORDERS} (placed orders one user may hold)"
                    ),
                })?,
        };
        Ok(Self {
            table_name,
            currency,
            cursor,
            max_open_orders,
        })
    }

    pub fn table_name(&self) -> &str {
        &self.table_name
    }

    pub fn currency(&self) -> &Currency {
        &self.currency
    }

    /// How many placed (not cancelled) orders one user may hold at once (`MAX_OPEN_ORDERS`).
    pub fn max_open_orders(&self) -> u32 {
        self.max_open_orders
    }

    /// The codec for paging cursors, keyed by `CURSOR_SECRET` (or the table name; see above).
    pub fn cursor(&self) -> &CursorCodec {
        &self.cursor
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn table_name_is_required_and_checked() {
        assert_eq!(load(&[]).unwrap_err(), ConfigError::Missing("TABLE_NAME"));
        assert!(matches!(
            load(&[("TABLE_NAME", "a b")]),
            Err(ConfigError::Invalid {
                var: "TABLE_NAME",
                ..
            })
        ));
        let c = load(&[("TABLE_NAME", "shop")]).expect("valid");
        assert_eq!(c.table_name(), "shop");
        assert_eq!(c.currency().as_str(), "EUR");
    }

    #[test]
    fn currency_and_secret_are_validated() {
        assert!(matches!(
            load(&[("TABLE_NAME", "shop"), ("CURRENCY", "eur")]),
            Err(ConfigError::Invalid {
                var: "CURRENCY",
                ..
            })
        ));
        assert!(matches!(
            load(&[("TABLE_NAME", "shop"), ("CURSOR_SECRET", "short")]),
            Err(ConfigError::Invalid {
                var: "CURSOR_SECRET",
                ..
            })
        ));
        let secret = "s".repeat(32);
        let c = load(&[
            ("TABLE_NAME", "shop"),
            ("CURRENCY", "USD"),
            ("CURSOR_SECRET", &secret),
        ])
        .expect("valid");
        assert_eq!(c.currency().as_str(), "USD");
        let sealed = c.cursor().seal("s", "p");
        let keyed_by_table = load(&[("TABLE_NAME", "shop")]).expect("valid");
        assert!(
            keyed_by_table.cursor().open("s", &sealed).is_err(),
            "the secret keys the cursors"
        );
        assert!(
            !format!("{c:?}").contains(&secret),
            "Debug must not print the secret"
        );
    }
}

//! Typed configuration, read from the environment once at start-up and validated there.
//!
//! A function that is missing a setting must refuse to start with a message naming the variable,
//! rather than fail on the first request. [`ConfigError`] is that message for every setting a
//! function reads at start-up: these here, the store's (`AWS_CA_BUNDLE`) and the token
//! verifier's (`JWT_*`, `JWKS_*`). Each names its variable ([`ConfigError::var`]) and what to set
//! it to; there is no other kind of start-up failure to tell apart, so one type serves them all. The DynamoDB endpoint is deliberately not here: the SDK
//! reads its own standard settings (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_REGION`, credentials).

use crate::cursor::CursorCodec;
use crate::domain::Currency;

/// Environment variables read by [`Config::from_env`].
pub mod vars {
    pub const TABLE_NAME: &str = "TABLE_NAME";
    pub const CURRENCY: &str = "CURRENCY";
    pub const CURSOR_SECRET: &str = "CURSOR_SECRET";
    pub const MAX_OPEN_ORDERS: &str = "MAX_OPEN_ORDERS";
    pub const METRICS_NAMESPACE: &str = "METRICS_NAMESPACE";
    pub const OPEN_CONNECTION_AT_INIT: &str = "OPEN_CONNECTION_AT_INIT";
}

/// The metrics namespace unless `METRICS_NAMESPACE` names another.
pub const DEFAULT_METRICS_NAMESPACE: &str = "StatelessShop";

/// Placed (not cancelled) orders one user may hold at once, unless `MAX_OPEN_ORDERS` says otherwise.
pub const DEFAULT_MAX_OPEN_ORDERS: u32 = 10;
/// Largest `MAX_OPEN_ORDERS` accepted.
pub const MAX_MAX_OPEN_ORDERS: u32 = 1_000_000;

/// Shortest `CURSOR_SECRET` accepted, in bytes: an HMAC-SHA256 key shorter than this is guessable.
pub const MIN_CURSOR_SECRET_BYTES: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A required variable is unset (or empty); `hint` says what to set it to.
    #[error("{var} is not set: {hint}")]
    Missing {
        var: &'static str,
        hint: &'static str,
    },
    #[error("{var} is invalid: {why}")]
    Invalid { var: &'static str, why: String },
}

impl ConfigError {
    /// The variable to fix.
    pub fn var(&self) -> &'static str {
        match self {
            Self::Missing { var, .. } | Self::Invalid { var, .. } => var,
        }
    }
}

/// Settings shared by every function.
#[derive(Clone)]
pub struct Config {
    table_name: String,
    currency: Currency,
    cursor: CursorCodec,
    max_open_orders: u32,
    /// Keys the caller ids of the request log: `CURSOR_SECRET` only, never the table-name
    /// fallback (anyone could compute ids with that and test guesses of a subject).
    caller_id_key: Option<Vec<u8>>,
    metrics_namespace: String,
    open_connection_at_init: bool,
}

impl std::fmt::Debug for Config {
    // Hand-written so the cursor key can never reach a log line through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("table_name", &self.table_name)
            .field("currency", &self.currency)
            .field("cursor", &"<keyed, redacted>")
            .field("max_open_orders", &self.max_open_orders)
            .field(
                "caller_id_key",
                &self.caller_id_key.as_ref().map(|_| "<redacted>"),
            )
            .field("metrics_namespace", &self.metrics_namespace)
            .field("open_connection_at_init", &self.open_connection_at_init)
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
        let table_name = table_name(get(vars::TABLE_NAME))?;
        let currency = match get(vars::CURRENCY) {
            None => Currency::default(),
            Some(raw) => Currency::parse(&raw).map_err(|e| ConfigError::Invalid {
                var: vars::CURRENCY,
                why: e.message,
            })?,
        };
        let secret = get(vars::CURSOR_SECRET);
        let caller_id_key = secret
            .as_ref()
            .filter(|s| s.len() >= MIN_CURSOR_SECRET_BYTES)
            .map(|s| s.clone().into_bytes());
        let cursor = cursor(secret, &table_name)?;
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
        let metrics_namespace = get(vars::METRICS_NAMESPACE)
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_METRICS_NAMESPACE.to_owned());
        // Anything but `false` opens the DynamoDB connection during init (`false`: to measure it).
        let open_connection_at_init =
            get(vars::OPEN_CONNECTION_AT_INIT).is_none_or(|v| v != "false");
        Ok(Self {
            table_name,
            currency,
            cursor,
            max_open_orders,
            caller_id_key,
            metrics_namespace,
            open_connection_at_init,
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

    /// The key of the request log's caller ids: `CURSOR_SECRET`, or `None` when it is not set.
    pub fn caller_id_key(&self) -> Option<&[u8]> {
        self.caller_id_key.as_deref()
    }

    /// The CloudWatch namespace of the function's metrics (`METRICS_NAMESPACE`).
    pub fn metrics_namespace(&self) -> &str {
        &self.metrics_namespace
    }

    /// Whether init opens the DynamoDB connection before the first request
    /// (`OPEN_CONNECTION_AT_INIT`, default true; `false` only to measure its effect).
    pub fn open_connection_at_init(&self) -> bool {
        self.open_connection_at_init
    }
}

/// `TABLE_NAME`: required, and a name DynamoDB accepts (checked here, so a typo fails at
/// start-up).
fn table_name(raw: Option<String>) -> Result<String, ConfigError> {
    let table_name = raw
        .filter(|s| !s.trim().is_empty())
        .ok_or(ConfigError::Missing {
            var: vars::TABLE_NAME,
            hint: "set it to the name of the DynamoDB table (the stack output `TableName`)",
        })?;
    // DynamoDB's own rule for table names, checked here so a typo fails at start-up.
    let valid_table = (3..=255).contains(&table_name.len())
        && table_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
    if !valid_table {
        return Err(ConfigError::Invalid {
            var: vars::TABLE_NAME,
            why: "a DynamoDB table name is 3 to 255 characters of A-Z, a-z, 0-9, '_', '-' or '.'"
                .into(),
        });
    }
    Ok(table_name)
}

/// The listing cursors' key: `CURSOR_SECRET` (at least [`MIN_CURSOR_SECRET_BYTES`]), else one
/// derived from the table name.
fn cursor(secret: Option<String>, table_name: &str) -> Result<CursorCodec, ConfigError> {
    let cursor_key = match secret {
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
        // where a page of a public listing starts. docs/api.md "Limits" says so.
        None => format!("stateless-shop cursor key for table {table_name}").into_bytes(),
    };
    CursorCodec::new(&cursor_key).map_err(|_| ConfigError::Invalid {
        var: vars::CURSOR_SECRET,
        why: "must not be empty".into(),
    })
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
        let missing = load(&[]).expect_err("no table");
        assert_eq!(missing.var(), "TABLE_NAME");
        assert!(
            missing
                .to_string()
                .starts_with("TABLE_NAME is not set: set it to the name of the DynamoDB table"),
            "{missing}"
        );
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
        assert_eq!(c.caller_id_key(), Some(secret.as_bytes()));
        assert_eq!(
            keyed_by_table.caller_id_key(),
            None,
            "no secret, no caller ids"
        );
    }

    #[test]
    fn metrics_namespace_and_warm_up_are_read_once_here() {
        let c = load(&[("TABLE_NAME", "shop")]).expect("valid");
        assert_eq!(c.metrics_namespace(), "StatelessShop");
        assert!(c.open_connection_at_init());
        let c = load(&[
            ("TABLE_NAME", "shop"),
            ("METRICS_NAMESPACE", "Shop/Test"),
            ("OPEN_CONNECTION_AT_INIT", "false"),
        ])
        .expect("valid");
        assert_eq!(c.metrics_namespace(), "Shop/Test");
        assert!(!c.open_connection_at_init());
    }
}

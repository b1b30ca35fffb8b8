//! Token verification settings, read once at start-up.

use crate::config::ConfigError;

/// Environment variables read by [`AuthConfig::from_env`].
pub mod vars {
    pub const JWT_ISSUER: &str = "JWT_ISSUER";
    pub const JWKS_URL: &str = "JWKS_URL";
    pub const JWKS_JSON: &str = "JWKS_JSON";
    pub const JWT_AUDIENCE: &str = "JWT_AUDIENCE";
    pub const ADMIN_GROUP: &str = "ADMIN_GROUP";
    pub const ADMIN_SCOPE: &str = "ADMIN_SCOPE";
    pub const JWT_HS256_SECRET: &str = "JWT_HS256_SECRET";
}

/// Shortest HS256 secret accepted, in bytes (RFC 7518 §3.2: at least the hash size).
pub const MIN_HS256_SECRET_BYTES: usize = 32;

/// Where the issuer's public keys come from.
#[derive(Clone, PartialEq, Eq)]
pub enum KeySource {
    /// Fetched over HTTPS (plain HTTP only on loopback, for local runs).
    Url(String),
    /// A key set given inline: pinned, never refetched.
    Inline(String),
    /// No key set: only HS256 tokens (when a secret is set).
    None,
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Url(url) => write!(f, "Url({url})"),
            Self::Inline(json) => write!(f, "Inline({} bytes)", json.len()),
            Self::None => f.write_str("None"),
        }
    }
}

/// Validated verification policy inputs.
#[derive(Clone)]
pub struct AuthConfig {
    pub(super) issuer: String,
    pub(super) keys: KeySource,
    pub(super) audiences: Vec<String>,
    pub(super) admin_group: String,
    pub(super) admin_scope: String,
    pub(super) hs256_secret: Option<Vec<u8>>,
    pub(super) refetch_interval: std::time::Duration,
    pub(super) fetch_timeout: std::time::Duration,
}

impl std::fmt::Debug for AuthConfig {
    // Hand-written so the HS256 secret never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("issuer", &self.issuer)
            .field("keys", &self.keys)
            .field("audiences", &self.audiences)
            .field("admin_group", &self.admin_group)
            .field("admin_scope", &self.admin_scope)
            .field("hs256", &self.hs256_secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

fn invalid(var: &'static str, why: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        var,
        why: why.into(),
    }
}

impl AuthConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Same as [`AuthConfig::from_env`], from any lookup (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let issuer = get(vars::JWT_ISSUER).ok_or_else(|| {
            invalid(vars::JWT_ISSUER, "is not set: set it to the exact `iss` of your tokens, e.g. https://cognito-idp.<region>.amazonaws.com/<pool id>")
        })?;
        let keys = match (get(vars::JWKS_URL), get(vars::JWKS_JSON)) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    vars::JWKS_URL,
                    "and JWKS_JSON are both set: set exactly one key source",
                ));
            }
            (Some(url), None) => {
                check_url(&url)?;
                KeySource::Url(url)
            }
            (None, Some(json)) => KeySource::Inline(json),
            (None, None) => KeySource::None,
        };
        let hs256_secret = match get(vars::JWT_HS256_SECRET) {
            Some(secret) if secret.len() >= MIN_HS256_SECRET_BYTES => Some(secret.into_bytes()),
            Some(_) => {
                return Err(invalid(
                    vars::JWT_HS256_SECRET,
                    format!("must be at least {MIN_HS256_SECRET_BYTES} bytes"),
                ));
            }
            None => None,
        };
        if keys == KeySource::None && hs256_secret.is_none() {
            return Err(invalid(
                vars::JWKS_URL,
                "is not set: set JWKS_URL (or JWKS_JSON) to the issuer's public key set",
            ));
        }
        let audiences = get(vars::JWT_AUDIENCE)
            .map(|a| {
                a.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            issuer,
            keys,
            audiences,
            admin_group: get(vars::ADMIN_GROUP).unwrap_or_else(|| "admin".to_owned()),
            admin_scope: get(vars::ADMIN_SCOPE).unwrap_or_else(|| "shop/admin".to_owned()),
            hs256_secret,
            refetch_interval: super::keys::REFETCH_INTERVAL,
            fetch_timeout: super::keys::FETCH_TIMEOUT,
        })
    }

    /// Overrides the key cache's timing (defaults: one refetch per 10 s, 3 s per fetch). Not an
    /// environment setting: tests use it to exercise the cache without waiting.
    pub fn with_cache_timing(
        mut self,
        refetch_interval: std::time::Duration,
        fetch_timeout: std::time::Duration,
    ) -> Self {
        self.refetch_interval = refetch_interval;
        self.fetch_timeout = fetch_timeout;
        self
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn admin_group(&self) -> &str {
        &self.admin_group
    }

    pub fn admin_scope(&self) -> &str {
        &self.admin_scope
    }
}

/// HTTPS, or plain HTTP to a loopback host (the local API serves its dev key set that way).
fn check_url(url: &str) -> Result<(), ConfigError> {
    let uri: http::Uri = url
        .parse()
        .map_err(|_| invalid(vars::JWKS_URL, "is not a URL"))?;
    let host = uri.host().unwrap_or("");
    let loopback = matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1");
    match uri.scheme_str() {
        Some("https") if !host.is_empty() => Ok(()),
        Some("http") if loopback => Ok(()),
        _ => Err(invalid(
            vars::JWKS_URL,
            "must be an https:// URL (plain http only on 127.0.0.1 or localhost)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)]) -> Result<AuthConfig, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        AuthConfig::from_lookup(|k| map.get(k).cloned())
    }

    fn var_of(result: Result<AuthConfig, ConfigError>) -> &'static str {
        match result {
            Err(ConfigError::Invalid { var, .. }) | Err(ConfigError::Missing(var)) => var,
            Ok(c) => panic!("expected an error, got {c:?}"),
        }
    }

    #[test]
    fn missing_and_contradictory_settings_are_refused() {
        assert_eq!(var_of(load(&[])), "JWT_ISSUER");
        assert_eq!(var_of(load(&[("JWT_ISSUER", "i")])), "JWKS_URL");
        assert_eq!(
            var_of(load(&[
                ("JWT_ISSUER", "i"),
                ("JWKS_URL", "https://x/j"),
                ("JWKS_JSON", "{}")
            ])),
            "JWKS_URL"
        );
        assert_eq!(
            var_of(load(&[
                ("JWT_ISSUER", "i"),
                ("JWKS_URL", "http://example.com/jwks")
            ])),
            "JWKS_URL"
        );
        assert_eq!(
            var_of(load(&[("JWT_ISSUER", "i"), ("JWKS_URL", "ftp://x/j")])),
            "JWKS_URL"
        );
        assert_eq!(
            var_of(load(&[("JWT_ISSUER", "i"), ("JWT_HS256_SECRET", "short")])),
            "JWT_HS256_SECRET"
        );
    }

    #[test]
    fn defaults_and_lists() {
        let c = load(&[
            ("JWT_ISSUER", "i"),
            ("JWKS_URL", "http://127.0.0.1:3000/.well-known/jwks.json"),
            ("JWT_AUDIENCE", " a, b ,,"),
        ])
        .expect("valid");
        assert_eq!(c.audiences, ["a", "b"]);
        assert_eq!((c.admin_group(), c.admin_scope()), ("admin", "shop/admin"));
        let secret = "s".repeat(32);
        let c = load(&[("JWT_ISSUER", "i"), ("JWT_HS256_SECRET", &secret)])
            .expect("HS256 alone is enough");
        assert!(!format!("{c:?}").contains(&secret));
    }
}

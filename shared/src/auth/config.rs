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
    pub const JWKS_MAX_AGE_SECS: &str = "JWKS_MAX_AGE_SECS";
    pub const JWKS_CA_BUNDLE: &str = "JWKS_CA_BUNDLE";
    pub const AUTH_MODE: &str = "AUTH_MODE";
}

/// Who checks a bearer token's signature (`AUTH_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// `verify` (the default): the function verifies the token itself, against the issuer's key
    /// set. The same everywhere: on Lambda, in `sam local`, in the local API and in tests.
    #[default]
    Verify,
    /// `authorizer`: API Gateway's JWT authorizer verified the signature, and the function reads
    /// the claims it passes (`requestContext.authorizer.jwt.claims`), applying the same claim
    /// rules. No key set is loaded at init; a request without claims is a 401.
    Authorizer,
}

/// Default admin group (`cognito:groups`), used when `ADMIN_GROUP` is not set at all.
pub const DEFAULT_ADMIN_GROUP: &str = "admin";
/// Default admin scope (`scope`), used when `ADMIN_SCOPE` is not set at all.
pub const DEFAULT_ADMIN_SCOPE: &str = "shop/admin";
/// Default for `JWKS_MAX_AGE_SECS`: a key withdrawn by the issuer stops verifying within an hour.
pub const DEFAULT_JWKS_MAX_AGE_SECS: u64 = 3600;
/// Largest `JWKS_MAX_AGE_SECS` accepted (one day).
pub const MAX_JWKS_MAX_AGE_SECS: u64 = 86_400;

/// Shortest HS256 secret accepted, in bytes (RFC 7518 §3.2: at least the hash size).
pub const MIN_HS256_SECRET_BYTES: usize = 32;

/// Where the issuer's public keys come from.
#[derive(Clone, PartialEq, Eq)]
pub enum KeySource {
    /// Fetched over HTTPS (plain HTTP only on loopback, or on `host.docker.internal` inside a
    /// `sam local` container, for local runs).
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
    pub(super) mode: AuthMode,
    pub(super) issuer: String,
    pub(super) keys: KeySource,
    pub(super) audiences: Vec<String>,
    /// `None`: no group makes an admin (`ADMIN_GROUP` set to the empty string).
    pub(super) admin_group: Option<String>,
    /// `None`: no scope makes an admin (`ADMIN_SCOPE` set to the empty string).
    pub(super) admin_scope: Option<String>,
    pub(super) hs256_secret: Option<Vec<u8>>,
    pub(super) refetch_interval: std::time::Duration,
    pub(super) fetch_timeout: std::time::Duration,
    /// A fetched key set older than this is fetched again before it verifies another token.
    pub(super) max_age: std::time::Duration,
    /// `JWKS_CA_BUNDLE`'s PEM: the only authorities trusted for `JWKS_URL` when set.
    pub(super) ca_bundle: Option<Vec<u8>>,
}

impl std::fmt::Debug for AuthConfig {
    // Hand-written so the HS256 secret never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("mode", &self.mode)
            .field("issuer", &self.issuer)
            .field("keys", &self.keys)
            .field("audiences", &self.audiences)
            .field("admin_group", &self.admin_group)
            .field("admin_scope", &self.admin_scope)
            .field("max_age", &self.max_age)
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
        // Set but empty turns an admin path off; unset keeps its default. Read before `get`
        // below, which treats empty as unset for every other setting.
        let admin_path = |name: &str, default: &str| match get(name) {
            None => Some(default.to_owned()),
            Some(v) if v.trim().is_empty() => None,
            Some(v) => Some(v.trim().to_owned()),
        };
        let admin_group = admin_path(vars::ADMIN_GROUP, DEFAULT_ADMIN_GROUP);
        let admin_scope = admin_path(vars::ADMIN_SCOPE, DEFAULT_ADMIN_SCOPE);
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let issuer = get(vars::JWT_ISSUER).ok_or(ConfigError::Missing {
            var: vars::JWT_ISSUER,
            hint: "set it to the exact `iss` of your tokens, e.g. https://cognito-idp.<region>.amazonaws.com/<pool id>",
        })?;
        let mode = match get(vars::AUTH_MODE).as_deref().map(str::trim) {
            None | Some("verify") => AuthMode::Verify,
            Some("authorizer") => AuthMode::Authorizer,
            Some(_) => {
                return Err(invalid(
                    vars::AUTH_MODE,
                    "must be `verify` (the function verifies tokens) or `authorizer` (API Gateway's JWT authorizer did)",
                ));
            }
        };
        let (keys, hs256_secret) = key_sources(&get, mode)?;
        let audiences = get(vars::JWT_AUDIENCE)
            .map(|a| {
                a.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let max_age = max_age(get(vars::JWKS_MAX_AGE_SECS))?;
        let ca_bundle = get(vars::JWKS_CA_BUNDLE)
            .map(|path| {
                std::fs::read(&path).map_err(|e| {
                    invalid(
                        vars::JWKS_CA_BUNDLE,
                        format!(
                            "cannot read {path}: {e}; point it at the PEM file of your issuer's CA"
                        ),
                    )
                })
            })
            .transpose()?;
        Ok(Self {
            mode,
            issuer,
            keys,
            audiences,
            admin_group,
            admin_scope,
            ca_bundle,
            hs256_secret,
            refetch_interval: super::keys::REFETCH_INTERVAL,
            fetch_timeout: super::keys::FETCH_TIMEOUT,
            max_age: std::time::Duration::from_secs(max_age),
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

    /// Overrides the key set's maximum age (`JWKS_MAX_AGE_SECS`, whole seconds) below a second,
    /// for tests that watch a withdrawn key expire.
    pub fn with_max_age(mut self, max_age: std::time::Duration) -> Self {
        self.max_age = max_age;
        self
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn mode(&self) -> AuthMode {
        self.mode
    }

    /// The same settings in `mode` (the local API runs its emulated authorizer on a copy in
    /// `Verify` mode, in front of functions in `Authorizer` mode).
    pub fn with_mode(mut self, mode: AuthMode) -> Self {
        self.mode = mode;
        self
    }

    /// The group (`cognito:groups`) that makes an admin; `None` when that path is off.
    pub fn admin_group(&self) -> Option<&str> {
        self.admin_group.as_deref()
    }

    /// The scope (`scope`) that makes an admin; `None` when that path is off.
    pub fn admin_scope(&self) -> Option<&str> {
        self.admin_scope.as_deref()
    }
}

/// Where the keys come from (`JWKS_URL` or `JWKS_JSON`, not both) and the HS256 secret, if
/// any; at least one of them must be set.
fn key_sources(
    get: &impl Fn(&str) -> Option<String>,
    mode: AuthMode,
) -> Result<(KeySource, Option<Vec<u8>>), ConfigError> {
    let keys = match (get(vars::JWKS_URL), get(vars::JWKS_JSON)) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                vars::JWKS_URL,
                "and JWKS_JSON are both set: set exactly one key source",
            ));
        }
        (Some(url), None) => {
            // `sam local` sets AWS_SAM_LOCAL=true in its containers; nothing on AWS does.
            check_url(&url, get("AWS_SAM_LOCAL").as_deref() == Some("true"))?;
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
    // Behind API Gateway's authorizer the function verifies no signature: no key set to load.
    if keys == KeySource::None && hs256_secret.is_none() && mode == AuthMode::Verify {
        return Err(ConfigError::Missing {
            var: vars::JWKS_URL,
            hint: "set JWKS_URL (or JWKS_JSON) to the issuer's public key set",
        });
    }
    Ok((keys, hs256_secret))
}

/// `JWKS_MAX_AGE_SECS`: whole seconds from 1 to [`MAX_JWKS_MAX_AGE_SECS`] (default
/// [`DEFAULT_JWKS_MAX_AGE_SECS`]).
fn max_age(raw: Option<String>) -> Result<u64, ConfigError> {
    match raw {
        None => Ok(DEFAULT_JWKS_MAX_AGE_SECS),
        Some(raw) => raw
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=MAX_JWKS_MAX_AGE_SECS).contains(n))
            .ok_or_else(|| {
                invalid(
                    vars::JWKS_MAX_AGE_SECS,
                    format!("must be whole seconds from 1 to {MAX_JWKS_MAX_AGE_SECS}"),
                )
            }),
    }
}

/// HTTPS, or plain HTTP to a loopback host (the local API serves its dev key set that way), or,
/// only inside a `sam local` container (`sam_local`), to `host.docker.internal`, the host as seen
/// from there. That name is resolved through DNS, so it is never trusted for plain HTTP elsewhere.
fn check_url(url: &str, sam_local: bool) -> Result<(), ConfigError> {
    let uri: http::Uri = url
        .parse()
        .map_err(|_| invalid(vars::JWKS_URL, "is not a URL"))?;
    let host = uri.host().unwrap_or("");
    let loopback = matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1")
        || (sam_local && host == "host.docker.internal");
    match uri.scheme_str() {
        Some("https") if !host.is_empty() => Ok(()),
        Some("http") if loopback => Ok(()),
        _ => Err(invalid(
            vars::JWKS_URL,
            "must be an https:// URL (plain http only on 127.0.0.1 or localhost, and on host.docker.internal under sam local)",
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
            Err(e) => e.var(),
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
        assert_eq!(
            var_of(load(&[("JWT_ISSUER", "i"), ("AUTH_MODE", "gateway")])),
            "AUTH_MODE"
        );
    }

    #[test]
    fn behind_the_authorizer_no_key_set_is_needed() {
        let c = load(&[("JWT_ISSUER", "i"), ("AUTH_MODE", "authorizer")]).expect("valid");
        assert_eq!(c.mode(), AuthMode::Authorizer);
        assert_eq!(c.keys, KeySource::None);
        let c = load(&[("JWT_ISSUER", "i"), ("JWKS_URL", "https://x/j")]).expect("valid");
        assert_eq!(c.mode(), AuthMode::Verify, "the default");
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
        assert_eq!(
            (c.admin_group(), c.admin_scope()),
            (Some("admin"), Some("shop/admin"))
        );
        assert_eq!(c.max_age, std::time::Duration::from_secs(3600));
        let secret = "s".repeat(32);
        let c = load(&[("JWT_ISSUER", "i"), ("JWT_HS256_SECRET", &secret)])
            .expect("HS256 alone is enough");
        assert!(!format!("{c:?}").contains(&secret));
    }

    #[test]
    fn an_empty_admin_setting_turns_that_path_off() {
        let base = [("JWT_ISSUER", "i"), ("JWKS_URL", "https://issuer/jwks")];
        let with = |extra: &[(&str, &str)]| {
            let mut pairs = base.to_vec();
            pairs.extend_from_slice(extra);
            load(&pairs).expect("valid")
        };
        let c = with(&[("ADMIN_SCOPE", "")]);
        assert_eq!((c.admin_group(), c.admin_scope()), (Some("admin"), None));
        let c = with(&[("ADMIN_GROUP", " "), ("ADMIN_SCOPE", "shop/ops")]);
        assert_eq!((c.admin_group(), c.admin_scope()), (None, Some("shop/ops")));
    }

    #[test]
    fn plain_http_to_the_docker_host_only_under_sam_local() {
        let url = (
            "JWKS_URL",
            "http://host.docker.internal:3000/.well-known/jwks.json",
        );
        assert_eq!(var_of(load(&[("JWT_ISSUER", "i"), url])), "JWKS_URL");
        assert_eq!(
            var_of(load(&[
                ("JWT_ISSUER", "i"),
                url,
                ("AWS_SAM_LOCAL", "false")
            ])),
            "JWKS_URL"
        );
        assert!(load(&[("JWT_ISSUER", "i"), url, ("AWS_SAM_LOCAL", "true")]).is_ok());
        let https = ("JWKS_URL", "https://host.docker.internal/jwks");
        assert!(load(&[("JWT_ISSUER", "i"), https]).is_ok());
    }

    #[test]
    fn the_key_set_max_age_is_bounded() {
        let base = [("JWT_ISSUER", "i"), ("JWKS_URL", "https://issuer/jwks")];
        for bad in ["0", "-1", "1h", "86401"] {
            let mut pairs = base.to_vec();
            pairs.push(("JWKS_MAX_AGE_SECS", bad));
            assert_eq!(var_of(load(&pairs)), "JWKS_MAX_AGE_SECS", "{bad}");
        }
        let mut pairs = base.to_vec();
        pairs.push(("JWKS_MAX_AGE_SECS", "600"));
        assert_eq!(
            load(&pairs).expect("valid").max_age,
            std::time::Duration::from_secs(600)
        );
    }
}

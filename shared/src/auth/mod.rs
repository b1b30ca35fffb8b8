//! Stateless authentication: every request proves who it is with a signed JWT, verified here.
//!
//! `jsonwebtoken` (aws-lc-rs backend) checks signatures and the time claims; this module is the
//! policy around it, following RFC 8725:
//! - tokens over [`MAX_TOKEN_BYTES`] are refused before any parsing;
//! - only RS256 and ES256 keys from the configured key set, each pinned to its own algorithm (an
//!   RSA key never verifies an HS256 token), and HS256 only when `JWT_HS256_SECRET` is set;
//! - the header's `jku`, `x5u`, `jwk` and `x5c` are never used to find a key; `kid` is only a map
//!   key; a `crit` header is refused; `typ`, when present, must say JWT;
//! - `iss` must equal `JWT_ISSUER`; `exp` is required; `nbf` and `iat` are checked when present,
//!   with [`LEEWAY_SECS`] of clock skew; `sub` is required and non-empty (it is the user id);
//!   `aud` (or Cognito's `client_id`) must match `JWT_AUDIENCE` when that is set; a `token_use`
//!   claim, when present, must be `access`.
//!
//! Callers learn only "invalid token"; the log says which check failed, never the token.
//!
//! Behind API Gateway's JWT authorizer (`AUTH_MODE=authorizer`, [`AuthMode::Authorizer`]), the
//! gateway has checked the signature and the time claims; [`Authenticator::authorized`] reads
//! the claims it passes and applies the same claim rules (issuer, subject, time, audience or
//! `client_id`, `token_use`, admin by group or scope). No key set is loaded then.
//!
//! Layout: `config` (settings), `keys` (key set parsing and the per-process cache).

mod config;
pub mod keys;

pub use crate::domain::UserId;
pub use config::{AuthConfig, AuthMode, KeySource, vars};
pub use keys::{KeyCache, KeysError, Lookup};

use crate::config::ConfigError;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// Longest token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECS: u64 = 30;

/// Who is calling: the token's `sub`, and whether it carries the admin group or scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    user: UserId,
    admin: bool,
}

impl Caller {
    pub fn user(&self) -> &UserId {
        &self.user
    }

    pub fn is_admin(&self) -> bool {
        self.admin
    }
}

/// Why a request is not authenticated. Only the log sees [`Rejection`]; the client sees 401.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    #[error("invalid token: {0}")]
    Invalid(Rejection),
    #[error("the caller is not an admin")]
    NotAdmin,
    #[error("the issuer's key set cannot be loaded")]
    KeysUnavailable,
}

/// Which check a token failed, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    TooLarge,
    Malformed,
    Critical,
    Type,
    Algorithm,
    UnknownKey,
    KeyAlgorithmMismatch,
    Signature,
    Expired,
    NotYetValid,
    IssuedInFuture,
    Issuer,
    Subject,
    Audience,
    TokenUse,
    Claims,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// Verifies bearer tokens. Built once per process; cheap to share.
pub struct Authenticator {
    config: AuthConfig,
    keys: KeyCache,
    hs256: Option<DecodingKey>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Reads the settings and loads the key set (fetching it now when it comes from a URL).
    pub async fn from_env() -> Result<Arc<Self>, ConfigError> {
        Self::new(AuthConfig::from_env()?).await
    }

    pub async fn new(config: AuthConfig) -> Result<Arc<Self>, ConfigError> {
        let keys = match &config.keys {
            // The gateway verified the signature: nothing to fetch during init.
            _ if config.mode == AuthMode::Authorizer => KeyCache::pinned(keys::KeySet::new()),
            KeySource::Inline(json) => {
                KeyCache::pinned(keys::parse_key_set(json).map_err(|e| ConfigError::Invalid {
                    var: vars::JWKS_JSON,
                    why: e.to_string(),
                })?)
            }
            KeySource::Url(url) => KeyCache::fetched(
                url,
                config.refetch_interval,
                config.fetch_timeout,
                config.max_age,
                config.ca_bundle.as_deref(),
            )
            .await
            .map_err(|e| ConfigError::Invalid {
                var: vars::JWKS_URL,
                why: e.to_string(),
            })?,
            KeySource::None => KeyCache::pinned(keys::KeySet::new()),
        };
        // Never empty: `JWT_HS256_SECRET` is at least `MIN_HS256_SECRET_BYTES`, checked at start-up.
        let hs256 = config
            .hs256_secret
            .as_deref()
            .map(DecodingKey::from_secret)
            .transpose()
            .map_err(|e| ConfigError::Invalid {
                var: vars::JWT_HS256_SECRET,
                why: e.to_string(),
            })?;
        Ok(Arc::new(Self {
            config,
            keys,
            hs256,
        }))
    }

    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// Who verifies signatures: this process, or API Gateway's authorizer in front of it.
    pub fn mode(&self) -> AuthMode {
        self.config.mode
    }

    /// The caller from the claims API Gateway's JWT authorizer passed
    /// (`requestContext.authorizer.jwt.claims`; `None`: there were none, so no token reached
    /// the gateway's authorizer), under the same claim rules as a verified token.
    pub fn authorized(
        &self,
        claims: Option<&HashMap<String, String>>,
    ) -> Result<Caller, AuthError> {
        let claims = claims
            .filter(|c| !c.is_empty())
            .map(claims_from_authorizer)
            .ok_or(AuthError::Missing)?;
        let now = jsonwebtoken::get_current_timestamp();
        match claims.get("exp").map(Value::as_u64) {
            Some(Some(exp)) if exp.saturating_add(LEEWAY_SECS) >= now => {}
            Some(Some(_)) => return Err(AuthError::Invalid(Rejection::Expired)),
            _ => return Err(AuthError::Invalid(Rejection::Claims)),
        }
        if let Some(nbf) = claims.get("nbf") {
            let nbf = nbf.as_u64().ok_or(AuthError::Invalid(Rejection::Claims))?;
            if nbf > now + LEEWAY_SECS {
                return Err(AuthError::Invalid(Rejection::NotYetValid));
            }
        }
        self.check_claims(&claims).map_err(AuthError::Invalid)
    }

    /// The caller of a request, whichever [`AuthMode`] this runs in: from its `Authorization`
    /// header, or from the claims the gateway's authorizer passed.
    pub async fn caller(
        &self,
        headers: &http::HeaderMap,
        authorizer_claims: Option<&HashMap<String, String>>,
    ) -> Result<Caller, AuthError> {
        match self.config.mode {
            AuthMode::Verify => self.authenticate(headers).await,
            AuthMode::Authorizer => self.authorized(authorizer_claims),
        }
    }

    pub fn keys(&self) -> &KeyCache {
        &self.keys
    }

    /// The caller of a request: from its single `Authorization: Bearer …` header.
    pub async fn authenticate(&self, headers: &http::HeaderMap) -> Result<Caller, AuthError> {
        let token = bearer_token(headers)?;
        self.verify(token).await.map_err(AuthError::from)
    }

    /// The verified claims of a request's bearer token, as API Gateway's JWT authorizer passes
    /// them on (the local API's emulated authorizer calls this).
    pub async fn authorize(&self, headers: &http::HeaderMap) -> Result<Value, AuthError> {
        let token = bearer_token(headers)?;
        self.verified_claims(token).await.map_err(AuthError::from)
    }

    /// As [`Authenticator::authenticate`], and the caller must be an admin.
    pub async fn authenticate_admin(&self, headers: &http::HeaderMap) -> Result<Caller, AuthError> {
        let caller = self.authenticate(headers).await?;
        if caller.admin {
            Ok(caller)
        } else {
            Err(AuthError::NotAdmin)
        }
    }

    /// Verifies one compact JWS and applies the claim policy.
    pub async fn verify(&self, token: &str) -> Result<Caller, Failure> {
        let claims = self.verified_claims(token).await?;
        self.check_claims(&claims).map_err(Failure::Rejected)
    }

    /// The claims of a token whose form, signature, issuer and time claims check out (what API
    /// Gateway's JWT authorizer checks before it passes the claims on), before the claim policy.
    pub async fn verified_claims(&self, token: &str) -> Result<Value, Failure> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Failure::Rejected(Rejection::TooLarge));
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(_), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Failure::Rejected(Rejection::Malformed));
        };
        let header = decode_json(header_b64).ok_or(Failure::Rejected(Rejection::Malformed))?;
        // RFC 7515 §4.1.11: a recipient must refuse extensions it does not understand; we know none.
        if header.get("crit").is_some() {
            return Err(Failure::Rejected(Rejection::Critical));
        }
        if let Some(typ) = header.get("typ") {
            let typ = typ.as_str().unwrap_or("").to_ascii_lowercase();
            let typ = typ.strip_prefix("application/").unwrap_or(&typ);
            if typ != "jwt" && typ != "at+jwt" {
                return Err(Failure::Rejected(Rejection::Type));
            }
        }
        let algorithm = match header.get("alg").and_then(Value::as_str) {
            Some("RS256") => Algorithm::RS256,
            Some("ES256") => Algorithm::ES256,
            Some("HS256") if self.hs256.is_some() => Algorithm::HS256,
            _ => return Err(Failure::Rejected(Rejection::Algorithm)),
        };
        let held;
        let key: &DecodingKey = if algorithm == Algorithm::HS256 {
            self.hs256
                .as_ref()
                .ok_or(Failure::Rejected(Rejection::Algorithm))?
        } else {
            let kid = header
                .get("kid")
                .and_then(Value::as_str)
                .ok_or(Failure::Rejected(Rejection::UnknownKey))?;
            held = match self.keys.lookup(kid).await {
                Lookup::Found(key) => key,
                Lookup::Unknown => return Err(Failure::Rejected(Rejection::UnknownKey)),
                Lookup::Unavailable => return Err(Failure::KeysUnavailable),
            };
            if held.algorithm != algorithm {
                return Err(Failure::Rejected(Rejection::KeyAlgorithmMismatch));
            }
            &held.key
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.validate_aud = false; // checked below, with Cognito's client_id fallback
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.set_issuer(&[&self.config.issuer]);
        jsonwebtoken::decode::<Value>(token, key, &validation)
            .map(|data| data.claims)
            .map_err(|e| Failure::Rejected(classify(&e)))
    }

    fn check_claims(&self, claims: &Value) -> Result<Caller, Rejection> {
        // jsonwebtoken accepts an `iss` array containing ours; we want exactly one issuer.
        if claims.get("iss").and_then(Value::as_str) != Some(self.config.issuer.as_str()) {
            return Err(Rejection::Issuer);
        }
        let user = claims
            .get("sub")
            .and_then(Value::as_str)
            .and_then(|sub| UserId::parse(sub).ok())
            .ok_or(Rejection::Subject)?;
        if let Some(iat) = claims.get("iat") {
            let iat = iat.as_u64().ok_or(Rejection::Claims)?;
            if iat > jsonwebtoken::get_current_timestamp() + LEEWAY_SECS {
                return Err(Rejection::IssuedInFuture);
            }
        }
        if !self.config.audiences.is_empty() && !self.audience_matches(claims)? {
            return Err(Rejection::Audience);
        }
        match claims.get("token_use") {
            None => {}
            Some(Value::String(u)) if u == "access" => {}
            Some(_) => return Err(Rejection::TokenUse),
        }
        let admin = self.claims_admin(claims);
        Ok(Caller { user, admin })
    }

    /// `aud` (a string or an array) must contain one of ours; a token without `aud` may name its
    /// client in `client_id` (Cognito access tokens do).
    fn audience_matches(&self, claims: &Value) -> Result<bool, Rejection> {
        let ours = |s: &str| self.config.audiences.iter().any(|a| a == s);
        match (claims.get("aud"), claims.get("client_id")) {
            (Some(Value::String(aud)), _) => Ok(ours(aud)),
            (Some(Value::Array(list)), _) => Ok(list.iter().filter_map(Value::as_str).any(ours)),
            (Some(_), _) => Err(Rejection::Claims),
            (None, Some(Value::String(client))) => Ok(ours(client)),
            (None, _) => Ok(false),
        }
    }

    fn claims_admin(&self, claims: &Value) -> bool {
        let in_group = claims
            .get("cognito:groups")
            .and_then(Value::as_array)
            .is_some_and(|groups| {
                groups.iter().any(|g| {
                    g.as_str().is_some() && g.as_str() == self.config.admin_group.as_deref()
                })
            });
        let has_scope = claims
            .get("scope")
            .and_then(Value::as_str)
            .is_some_and(|scope| {
                scope
                    .split(' ')
                    .any(|s| Some(s) == self.config.admin_scope.as_deref())
            });
        in_group || has_scope
    }
}

/// Why [`Authenticator::verify`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Rejected(Rejection),
    KeysUnavailable,
}

impl From<Failure> for AuthError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Rejected(r) => Self::Invalid(r),
            Failure::KeysUnavailable => Self::KeysUnavailable,
        }
    }
}

/// The token of a request's single `Authorization: Bearer …` header.
fn bearer_token(headers: &http::HeaderMap) -> Result<&str, AuthError> {
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(if headers.contains_key(http::header::AUTHORIZATION) {
            AuthError::Invalid(Rejection::Malformed)
        } else {
            AuthError::Missing
        });
    };
    let value = value
        .to_str()
        .map_err(|_| AuthError::Invalid(Rejection::Malformed))?;
    // Another scheme (Basic, …) is no bearer token at all; "Bearer" with nothing after it is a
    // bad one.
    let value = value.trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Missing);
    }
    Ok(token.trim())
}

/// API Gateway's JWT authorizer passes every claim as a string: an array as `[a b]` and a
/// number as its digits. Read back into JSON, so the claim rules see what a verified token holds.
fn claims_from_authorizer(claims: &HashMap<String, String>) -> Value {
    let value = |name: &str, raw: &str| match name {
        "exp" | "nbf" | "iat" | "auth_time" => raw
            .parse::<u64>()
            .map_or_else(|_| Value::String(raw.to_owned()), Value::from),
        "cognito:groups" | "aud" if raw.starts_with('[') && raw.ends_with(']') => Value::Array(
            raw[1..raw.len() - 1]
                .split_whitespace()
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        ),
        _ => Value::String(raw.to_owned()),
    };
    Value::Object(
        claims
            .iter()
            .map(|(name, raw)| (name.clone(), value(name, raw)))
            .collect(),
    )
}

fn decode_json(segment: &str) -> Option<serde_json::Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

fn classify(err: &jsonwebtoken::errors::Error) -> Rejection {
    use jsonwebtoken::errors::ErrorKind as K;
    match err.kind() {
        K::InvalidSignature => Rejection::Signature,
        K::ExpiredSignature => Rejection::Expired,
        K::ImmatureSignature => Rejection::NotYetValid,
        K::InvalidIssuer => Rejection::Issuer,
        K::InvalidAlgorithm | K::InvalidAlgorithmName => Rejection::Algorithm,
        K::MissingRequiredClaim(c) if c == "sub" => Rejection::Subject,
        K::MissingRequiredClaim(c) if c == "iss" => Rejection::Issuer,
        K::MissingRequiredClaim(_) | K::InvalidClaimFormat(_) => Rejection::Claims,
        _ => Rejection::Malformed,
    }
}

//! The issuer's verification keys: parsing a JWKS under a strict policy, and a per-process cache
//! that refetches on an unknown `kid` at most once per [`REFETCH_INTERVAL`], and once the set it
//! holds is older than its maximum age (`JWKS_MAX_AGE_SECS`), so a key the issuer withdrew stops
//! verifying in a warm environment too.

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// An unknown `kid` triggers at most one fetch per this interval per process.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(10);
/// A key set fetch that takes longer than this fails (and the cached keys stay in use).
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// Largest key set body accepted.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Smallest RSA modulus accepted, in bits (RFC 7518 §3.3).
pub const MIN_RSA_BITS: usize = 2048;

/// One verification key, pinned to the one algorithm it may verify.
pub struct VerifyingKey {
    pub(super) algorithm: Algorithm,
    pub(super) key: DecodingKey,
}

/// Keys by `kid`.
pub type KeySet = HashMap<String, Arc<VerifyingKey>>;

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("the key set is not JSON with a `keys` array")]
    Malformed,
    #[error(
        "the key set has no usable signing key (RS256 with 2048+ bit RSA, or ES256 on P-256, each with a kid)"
    )]
    Empty,
    #[error("fetching the key set failed: {0}")]
    Fetch(String),
}

/// Parses a JWKS, keeping only keys fit for verifying our tokens: `use` absent or `sig`, a `kid`,
/// and either RSA (2048+ bits, `alg` absent or RS256) or EC P-256 (`alg` absent or ES256). Each is
/// pinned to that one algorithm. Anything else (encryption keys, symmetric keys, unknown types)
/// is skipped, not an error, so one odd key does not take the whole set down.
pub fn parse_key_set(json: &str) -> Result<KeySet, KeysError> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|_| KeysError::Malformed)?;
    let keys = value
        .get("keys")
        .and_then(|k| k.as_array())
        .ok_or(KeysError::Malformed)?;
    let mut set = KeySet::new();
    for raw in keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(raw.clone()) else {
            continue;
        };
        let Some(kid) = jwk.common.key_id.clone().filter(|k| !k.is_empty()) else {
            continue;
        };
        if !matches!(
            jwk.common.public_key_use,
            None | Some(PublicKeyUse::Signature)
        ) {
            continue;
        }
        let algorithm = match (&jwk.algorithm, jwk.common.key_algorithm) {
            (AlgorithmParameters::RSA(rsa), None | Some(KeyAlgorithm::RS256))
                if rsa_bits(&rsa.n) >= MIN_RSA_BITS =>
            {
                Algorithm::RS256
            }
            (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
                if ec.curve == EllipticCurve::P256 =>
            {
                Algorithm::ES256
            }
            _ => continue,
        };
        let Ok(key) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        set.insert(kid, Arc::new(VerifyingKey { algorithm, key }));
    }
    if set.is_empty() {
        Err(KeysError::Empty)
    } else {
        Ok(set)
    }
}

fn rsa_bits(n: &str) -> usize {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(n.trim_end_matches('='))
        .unwrap_or_default();
    let significant = bytes.iter().skip_while(|b| **b == 0).count();
    significant * 8
}

type HttpsClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Empty<Bytes>,
>;

/// Fetches a JWKS over HTTPS: one GET, a timeout, a body cap, no redirects followed.
struct Fetcher {
    url: String,
    client: HttpsClient,
    timeout: Duration,
}

impl Fetcher {
    fn new(url: &str, timeout: Duration, bundle: Option<&[u8]>) -> Result<Self, KeysError> {
        // The Mozilla roots compiled in: nothing to read or parse from disk during init (the
        // platform store costs milliseconds of every cold start; see the bench). A self-hosted
        // issuer under a private CA names that CA's PEM file instead (`JWKS_CA_BUNDLE`), and then
        // only those authorities are trusted.
        // TCP_NODELAY: without it the request waits behind the handshake's last flight until the
        // issuer acknowledges it, which a delayed ACK holds until the issuer's next data: a whole
        // round trip more per fetch (measured with the bench's round trips: 6 one-way delays
        // instead of 4).
        let mut tcp = hyper_util::client::legacy::connect::HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        let https = match bundle {
            None => hyper_rustls::HttpsConnectorBuilder::new().with_webpki_roots(),
            Some(pem) => {
                hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(private_ca(pem)?)
            }
        }
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(https);
        Ok(Self {
            url: url.to_owned(),
            client,
            timeout,
        })
    }

    async fn fetch(&self) -> Result<KeySet, KeysError> {
        let fetch = async {
            let uri: hyper::Uri = self
                .url
                .parse()
                .map_err(|_| KeysError::Fetch("bad URL".into()))?;
            let response = self
                .client
                .get(uri)
                .await
                .map_err(|e| KeysError::Fetch(e.to_string()))?;
            // Redirects are not followed: a key set must be served where it was configured.
            if !response.status().is_success() {
                return Err(KeysError::Fetch(format!("status {}", response.status())));
            }
            let body = Limited::new(response.into_body(), MAX_JWKS_BYTES)
                .collect()
                .await
                .map_err(|e| KeysError::Fetch(format!("reading the body: {e}")))?
                .to_bytes();
            let text = std::str::from_utf8(&body).map_err(|_| KeysError::Malformed)?;
            parse_key_set(text)
        };
        tokio::time::timeout(self.timeout, fetch)
            .await
            .map_err(|_| KeysError::Fetch("timed out".into()))?
    }
}

/// A TLS client configuration that trusts exactly the certificates of `pem`.
fn private_ca(pem: &[u8]) -> Result<rustls::ClientConfig, KeysError> {
    crate::tls::TlsContext::load(pem)
        .map(|tls| tls.client_config())
        .map_err(|why| KeysError::Fetch(format!("the CA bundle: {why}")))
}

/// Result of looking up a `kid`.
pub enum Lookup {
    Found(Arc<VerifyingKey>),
    /// Not in the set, and the set is current (or was refreshed within the interval).
    Unknown,
    /// Not in the set, and the set could not be loaded at all: the issuer is unreachable.
    Unavailable,
}

/// The per-process key cache.
pub struct KeyCache {
    keys: RwLock<Arc<KeySet>>,
    fetcher: Option<Fetcher>,
    /// When the last fetch started; held across the fetch, so concurrent misses queue behind one
    /// fetch and then find its result instead of fetching again.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    refetch_interval: Duration,
    /// When the set in `keys` was last loaded successfully.
    loaded_at: std::sync::Mutex<Option<Instant>>,
    max_age: Duration,
    fetches: std::sync::atomic::AtomicUsize,
}

impl KeyCache {
    /// A pinned set that is never refetched.
    pub fn pinned(keys: KeySet) -> Self {
        Self {
            keys: RwLock::new(Arc::new(keys)),
            fetcher: None,
            last_fetch: tokio::sync::Mutex::new(None),
            refetch_interval: REFETCH_INTERVAL,
            loaded_at: std::sync::Mutex::new(None),
            max_age: Duration::MAX,
            fetches: Default::default(),
        }
    }

    /// A set fetched from `url` now (during init, so the first request does not pay for it). A
    /// failed fetch is logged and leaves the set empty; lookups retry after `refetch_interval`.
    /// Once the set is older than `max_age`, the next lookup fetches it again first; if that
    /// fails (the issuer is down), the cached keys keep verifying.
    pub async fn fetched(
        url: &str,
        refetch_interval: Duration,
        fetch_timeout: Duration,
        max_age: Duration,
        ca_bundle: Option<&[u8]>,
    ) -> Result<Self, KeysError> {
        let cache = Self {
            fetcher: Some(Fetcher::new(url, fetch_timeout, ca_bundle)?),
            refetch_interval,
            max_age,
            ..Self::pinned(KeySet::new())
        };
        let mut last = cache.last_fetch.lock().await;
        cache.refresh(&mut last).await;
        drop(last);
        Ok(cache)
    }

    /// Whether it holds no key (a fetch failed, or nothing was fetched yet).
    pub fn is_empty(&self) -> bool {
        self.current().is_empty()
    }

    /// How many fetches this cache has started (for tests and logs).
    pub fn fetch_count(&self) -> usize {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn current(&self) -> Arc<KeySet> {
        // A poisoned lock only means a writer panicked mid-swap of an `Arc`: the value is whole.
        self.keys
            .read()
            .map(|k| Arc::clone(&k))
            .unwrap_or_else(|p| Arc::clone(&p.into_inner()))
    }

    async fn refresh(&self, last: &mut Option<Instant>) {
        let Some(fetcher) = &self.fetcher else { return };
        *last = Some(Instant::now());
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match fetcher.fetch().await {
            Ok(keys) => {
                tracing::info!(keys = keys.len(), "loaded the token signing key set");
                let mut slot = self.keys.write().unwrap_or_else(|p| p.into_inner());
                *slot = Arc::new(keys);
                *self.loaded_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
            }
            // Keep serving with the keys we have: an issuer outage must not fail valid tokens.
            Err(err) => {
                tracing::warn!(error = %err, "could not load the token signing key set; keeping the cached keys")
            }
        }
    }

    /// Whether the fetched set is older than its maximum age (or was never loaded).
    fn expired(&self) -> bool {
        self.fetcher.is_some()
            && self
                .loaded_at
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_none_or(|at| at.elapsed() >= self.max_age)
    }

    pub async fn lookup(&self, kid: &str) -> Lookup {
        if self.expired() {
            let mut last = self.last_fetch.lock().await;
            // One fetch for all the requests that found the set expired; while the issuer is
            // down, at most one attempt per interval, and the cached keys keep verifying.
            let due = self.refetch_interval.min(self.max_age);
            if self.expired() && last.is_none_or(|at| at.elapsed() >= due) {
                self.refresh(&mut last).await;
            }
        }
        if let Some(key) = self.current().get(kid) {
            return Lookup::Found(Arc::clone(key));
        }
        if self.fetcher.is_none() {
            return Lookup::Unknown;
        }
        let mut last = self.last_fetch.lock().await;
        // Another request may have refreshed the set while this one waited for the lock.
        if let Some(key) = self.current().get(kid) {
            return Lookup::Found(Arc::clone(key));
        }
        if last.is_none_or(|at| at.elapsed() >= self.refetch_interval) {
            self.refresh(&mut last).await;
        }
        drop(last);
        let keys = self.current();
        match keys.get(kid) {
            Some(key) => Lookup::Found(Arc::clone(key)),
            None if keys.is_empty() => Lookup::Unavailable,
            None => Lookup::Unknown,
        }
    }
}

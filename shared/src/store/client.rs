//! The DynamoDB client: built once per process from the standard AWS settings, with its TLS
//! trust, timeouts and the connection init opens ahead of the first call.

use super::https::{Https, TlsContext};
use aws_sdk_dynamodb::Client;
use std::time::Duration;

/// Per-attempt and total budgets for one DynamoDB call. Single-item calls answer in milliseconds;
/// the budgets stop a stuck connection from eating the whole Lambda timeout, and leave the SDK's
/// standard retries (3 attempts, with backoff) room to work.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(6);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// The store: one method per operation, on one SDK client and table (no traits: `store`'s
/// module doc says why).
#[derive(Clone, Debug)]
pub struct DynamoStore {
    pub(super) client: Client,
    pub(super) table: String,
    /// Products split into stock buckets, as this instance last read them (see
    /// [`super::products`]); shared by the clones of one store.
    pub(super) hot: super::hot::HotProducts,
    /// The HTTPS client under `client` and DynamoDB's endpoint, for [`Self::open_connection`]
    /// (`None` for the local engines' clients, which nothing opens ahead).
    ahead: Option<(Https, String)>,
}

impl DynamoStore {
    /// Builds a client from the standard AWS settings of the environment (region, credentials,
    /// `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_CA_BUNDLE`), trusting Amazon's roots unless told
    /// otherwise (see [`http_client`]). Call once per process, before the handler loop. Fails
    /// only on an `AWS_CA_BUNDLE` that cannot be read or holds no certificate.
    pub async fn from_env(table: &str) -> Result<Self, crate::ConfigError> {
        use crate::profile::{Phase, time};
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let endpoint = var("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| var("AWS_ENDPOINT_URL"));
        let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"));
        let https = time(Phase::TlsContext, || {
            http_client(endpoint.as_deref(), region.as_deref(), var(CA_BUNDLE))
        })?;
        let http = aws_sdk_dynamodb::config::SharedHttpClient::new(https.clone());
        let resolve = endpoint_url(endpoint.as_deref(), region.as_deref());
        let ahead = crate::profile::time_async(Phase::Endpoint, resolve)
            .await
            .map(|url| (https, url));
        // On Lambda the credentials and the region are in the environment: the client is built
        // from them directly. The SDK's full loader (profile files, SSO, instance metadata, …)
        // would find the same values after work the bench measured in every cold start; it
        // stays for anywhere else, e.g. a profile on a laptop.
        if let (Some(region), Some(_)) = (&region, var("AWS_ACCESS_KEY_ID")) {
            use aws_sdk_dynamodb::config::{BehaviorVersion, Region};
            let client = time(Phase::SdkClient, || {
                let mut config = aws_sdk_dynamodb::Config::builder()
                    .behavior_version(BehaviorVersion::latest())
                    .region(Region::new(region.clone()))
                    .credentials_provider(
                        aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
                    )
                    .http_client(http)
                    .timeout_config(timeouts());
                if let Some(endpoint) = endpoint {
                    config = config.endpoint_url(endpoint);
                }
                Client::from_conf(config.build())
            });
            return Ok(Self {
                client,
                table: table.to_owned(),
                hot: Default::default(),
                ahead,
            });
        }
        let sdk = crate::profile::time_async(
            Phase::SdkClient,
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .timeout_config(timeouts())
                .http_client(http)
                .load(),
        )
        .await;
        Ok(Self {
            client: Client::new(&sdk),
            table: table.to_owned(),
            hot: Default::default(),
            ahead,
        })
    }

    /// A client for a local engine at `endpoint` (e.g. `http://127.0.0.1:8000`), with throwaway
    /// static credentials: used by the local API, the tests and the harnesses.
    pub fn local(endpoint: &str, table: &str) -> Self {
        use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .credentials_provider(Credentials::new(
                "local",
                "local",
                None,
                None,
                "stateless-shop-local",
            ))
            .region(Region::new("local"))
            .endpoint_url(endpoint)
            .timeout_config(timeouts())
            .build();
        Self {
            client: Client::from_conf(config),
            table: table.to_owned(),
            hot: Default::default(),
            ahead: None,
        }
    }

    /// A client for any DynamoDB endpoint at `endpoint`: DynamoDB Local, or a real table with
    /// the credentials and region of the standard AWS settings (environment, profile, SSO).
    /// Without a region configured it is `us-east-1`; a loopback endpoint with no credentials in
    /// the environment (`AWS_ACCESS_KEY_ID` or `AWS_PROFILE`) gets throwaway static ones, as
    /// DynamoDB Local accepts any.
    pub async fn at(endpoint: &str, table: &str) -> Self {
        use aws_config::meta::region::ProvideRegion;
        use aws_sdk_dynamodb::config::{Credentials, Region};
        let loopback = ["://127.0.0.1", "://localhost", "://[::1]"]
            .iter()
            .any(|host| endpoint.contains(host));
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .timeout_config(timeouts())
            .endpoint_url(endpoint);
        let region = aws_config::default_provider::region::default_provider()
            .region()
            .await;
        if region.is_none() {
            loader = loader.region(Region::new("us-east-1"));
        }
        let sdk = loader.load().await;
        let mut config = aws_sdk_dynamodb::config::Builder::from(&sdk);
        let configured = ["AWS_ACCESS_KEY_ID", "AWS_PROFILE"]
            .iter()
            .any(|name| std::env::var_os(name).is_some());
        if loopback && !configured {
            config = config.credentials_provider(Credentials::new(
                "local",
                "local",
                None,
                None,
                "stateless-shop-local",
            ));
        }
        Self {
            client: Client::from_conf(config.build()),
            table: table.to_owned(),
            hot: Default::default(),
            ahead: None,
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Opens the connection to DynamoDB (TCP, TLS) without a request, for the first call to use
    /// ([`Https::connect_ahead`]): called during init, where Lambda runs at full CPU and the
    /// protected functions fetch their key set at the same time. Until this change it was a
    /// `DescribeTimeToLive`: a cold start paid that request's round trip and DynamoDB's time to
    /// answer it before the first event's call, and every instance of a scale-out sent one. Never
    /// fails: if DynamoDB does not answer within a second, the first call connects as it would
    /// have. The endpoint is the SDK's own resolution of the region (or the endpoint setting);
    /// should the SDK pick another (FIPS or dual-stack from a profile), the connection is unused.
    pub async fn open_connection(&self) {
        let Some((https, url)) = &self.ahead else {
            return;
        };
        let open = tokio::time::timeout(Duration::from_secs(1), https.connect_ahead(url));
        match crate::profile::time_async(crate::profile::Phase::Connection, open).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                tracing::debug!(error = %crate::chain::cause_chain(err.as_ref()), "opening the connection failed")
            }
            Err(_) => tracing::debug!("opening the connection timed out"),
        }
    }
}

/// DynamoDB's endpoint as the SDK resolves it from the region (or the endpoint setting), e.g.
/// `https://dynamodb.eu-west-1.amazonaws.com`; `None` without a region or endpoint.
async fn endpoint_url(endpoint: Option<&str>, region: Option<&str>) -> Option<String> {
    use aws_sdk_dynamodb::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
    let mut params = Params::builder();
    if let Some(region) = region {
        params = params.region(region);
    }
    if let Some(endpoint) = endpoint {
        params = params.endpoint(endpoint);
    }
    let params = params.build().ok()?;
    let resolved = DefaultResolver::new()
        .resolve_endpoint(&params)
        .await
        .ok()?;
    Some(resolved.url().to_owned())
}

/// The root certificates of Amazon Trust Services (Amazon Root CA 1–4 and Starfield Services
/// Root CA G2), which every DynamoDB endpoint's certificate chains to.
const AMAZON_TRUST_SERVICES: &[u8] = include_bytes!("amazon-trust-services.pem");

/// The AWS SDKs' setting for a PEM file of the authorities to trust for AWS endpoints. Here it
/// replaces every other root: one named file, read once at init, no directory scan.
pub const CA_BUNDLE: &str = "AWS_CA_BUNDLE";

/// The SDK's HTTP client ([`Https`], TLS on aws-lc), trusting only Amazon's roots, unless
/// `bundle` (`AWS_CA_BUNDLE`) names a PEM file of the authorities to trust instead (an emulator
/// behind TLS with its own CA, as the bench and the chaos run use), read and decoded once here.
/// An `https` endpoint override or a region in the China partition (`cn-*`, whose endpoints are
/// certified by other authorities) trusts the platform's store instead, so a proxy's or an
/// emulator's certificate can be trusted the usual way.
///
/// Why: the SDK's default client loads the platform's whole certificate store during init: every
/// file of `/etc/ssl/certs` parsed before the first request, for a service whose certificates all
/// come from five roots. Measured with the bench, that load was most of the gap between a
/// function's init and the hello-world floor's. The bundle is read here, at start-up, so a bad
/// one stops init with a message naming the variable instead of a panic on the first call.
fn http_client(
    endpoint: Option<&str>,
    region: Option<&str>,
    bundle: Option<String>,
) -> Result<Https, crate::ConfigError> {
    let invalid = |why: String| crate::ConfigError::Invalid {
        var: CA_BUNDLE,
        why,
    };
    let tls = match bundle {
        Some(path) => read_ca_bundle(&path)?,
        None if platform_roots(endpoint, region) => {
            TlsContext::platform().map_err(|why| invalid(format!("unset, and {why}")))?
        }
        None => TlsContext::load(AMAZON_TRUST_SERVICES)
            .map_err(|why| invalid(format!("Amazon's compiled-in roots: {why}")))?,
    };
    tracing::debug!(authorities = tls.roots(), "DynamoDB's TLS context");
    Ok(Https::new(&tls, CONNECT_TIMEOUT))
}

/// Reads `path` (`AWS_CA_BUNDLE`) into a TLS context: one read, one decode. A file that cannot
/// be read, is not PEM, or holds no usable certificate is a start-up error naming the variable.
pub fn read_ca_bundle(path: &str) -> Result<TlsContext, crate::ConfigError> {
    let invalid = |why: String| crate::ConfigError::Invalid {
        var: CA_BUNDLE,
        why,
    };
    let pem = std::fs::read(path)
        .map_err(|e| invalid(format!("cannot read {path}: {e}; point it at a PEM file")))?;
    TlsContext::load(&pem).map_err(|why| invalid(format!("{path}: {why}")))
}

/// Whether DynamoDB's certificate may come from outside Amazon Trust Services.
fn platform_roots(endpoint: Option<&str>, region: Option<&str>) -> bool {
    endpoint.is_some_and(|e| e.to_ascii_lowercase().starts_with("https://"))
        || region.is_some_and(|r| r.starts_with("cn-"))
}

fn timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SDK parses these only when it builds its first connection, and panics on a bad one:
    /// so they are checked here, not on a request.
    #[test]
    fn amazon_roots_unless_the_endpoint_or_partition_needs_others() {
        assert!(!platform_roots(None, Some("eu-west-1")));
        assert!(!platform_roots(
            Some("http://127.0.0.1:8000"),
            Some("eu-west-1")
        ));
        assert!(platform_roots(Some("HTTPS://dynamo.internal:8443"), None));
        assert!(platform_roots(None, Some("cn-north-1")));
    }

    #[test]
    fn the_amazon_roots_are_five_usable_authorities() {
        let tls = TlsContext::load(AMAZON_TRUST_SERVICES).expect("valid roots");
        assert_eq!(tls.roots(), 5);
    }
}

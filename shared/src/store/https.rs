//! The HTTPS client the SDK sends DynamoDB calls through: hyper's pooled HTTP/1.1 client over
//! rustls (aws-lc), with a TLS context built once, at init, from one parse of the trusted roots.
//!
//! Why not the SDK's own client: it takes its trusted roots only as PEM text and parses them when
//! it opens its first connection, so a bundle read at start-up to check it was parsed twice, and
//! the cost hid inside the warm-up call, where no profile could name it. Here [`TlsContext::load`]
//! decodes each certificate once and builds the root store from those bytes, as its own phase of
//! init. What the SDK's client does beyond that is kept: `TCP_NODELAY`, a connect timeout,
//! pooled connections, and the same classification of transport errors, so the SDK's retries
//! treat a reset or a timeout here as they did there (see [`classify`]).

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

type BoxError = Box<dyn StdError + Send + Sync>;
type Pool = hyper_util::client::legacy::Client<hyper_rustls::HttpsConnector<TcpConnector>, SdkBody>;

/// The authorities a client trusts and its TLS settings: built once per process.
#[derive(Clone, Debug)]
pub struct TlsContext {
    config: Arc<rustls::ClientConfig>,
    roots: usize,
}

impl TlsContext {
    /// Trusts exactly the certificates of `pem` (one or more `CERTIFICATE` blocks), decoded once.
    /// `Err` says why in words for a start-up message: not PEM, no certificate, or a certificate
    /// that cannot be a trust anchor.
    pub fn load(pem: &[u8]) -> Result<Self, String> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("not valid PEM: {e}"))?;
        if certs.is_empty() {
            return Err("holds no PEM certificate".to_owned());
        }
        let mut roots = rustls::RootCertStore::empty();
        for (i, cert) in certs.into_iter().enumerate() {
            roots
                .add(cert)
                .map_err(|e| format!("certificate {} is not a usable authority: {e}", i + 1))?;
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let count = roots.len();
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            config: Arc::new(config),
            roots: count,
        })
    }

    /// How many authorities it trusts.
    pub fn roots(&self) -> usize {
        self.roots
    }
}

/// An SDK HTTP client on one connection pool; cloning shares the pool.
#[derive(Clone, Debug)]
pub struct Https {
    pool: Pool,
}

impl Https {
    /// A client trusting `tls`'s authorities, connecting within `connect_timeout`. Plain `http`
    /// URLs (a local engine) are served too, without TLS.
    pub fn new(tls: &TlsContext, connect_timeout: Duration) -> Self {
        let mut tcp = TcpConnector::new();
        tcp.enforce_http(false);
        // Without it, Nagle's algorithm holds a request's body behind its headers for the ACK.
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(connect_timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(rustls::ClientConfig::clone(&tls.config))
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let pool =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(https);
        Self { pool }
    }
}

impl HttpConnector for Https {
    fn call(&self, request: aws_smithy_runtime_api::http::Request) -> HttpConnectorFuture {
        let request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(err) => return HttpConnectorFuture::ready(Err(ConnectorError::user(err.into()))),
        };
        let sent = self.pool.request(request);
        HttpConnectorFuture::new(async move {
            match sent.await {
                Ok(response) => HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                    .map_err(|err| ConnectorError::other(err.into(), None)),
                Err(err) => Err(classify(err.into())),
            }
        })
    }
}

impl HttpClient for Https {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        // One pool whatever the settings: the store sets its timeouts once, for every call.
        SharedHttpConnector::new(self.clone())
    }
}

/// A transport error as the SDK's retry policy reads it, as the SDK's own client classifies it:
/// a connection that failed, closed or reset is I/O (retried); a timeout is a timeout (retried);
/// a response cut short is transient; the rest is not retried.
fn classify(err: BoxError) -> ConnectorError {
    if let Some(hyper) = find::<hyper::Error>(err.as_ref()) {
        if hyper.is_timeout() {
            return ConnectorError::timeout(err);
        }
        if hyper.is_user() {
            return ConnectorError::user(err);
        }
        if hyper.is_closed() || hyper.is_canceled() || find::<std::io::Error>(hyper).is_some() {
            return ConnectorError::io(err);
        }
        if hyper.is_incomplete_message() {
            return ConnectorError::other(err, Some(ErrorKind::TransientError));
        }
        return ConnectorError::other(err, None);
    }
    if let Some(client) = find::<hyper_util::client::legacy::Error>(err.as_ref())
        && (client.is_connect() || find::<std::io::Error>(client).is_some())
    {
        return ConnectorError::io(err);
    }
    ConnectorError::other(err, None)
}

fn find<'a, E: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const AMAZON: &[u8] = include_bytes!("amazon-trust-services.pem");

    #[test]
    fn a_bad_bundle_says_why() {
        let err = TlsContext::load(b"no certificate here").expect_err("refused");
        assert!(err.contains("no PEM certificate"), "{err}");
        let err = TlsContext::load(
            b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
        )
        .expect_err("refused");
        assert!(err.contains("PEM"), "{err}");
        let junk = b"-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n";
        let err = TlsContext::load(junk).expect_err("refused");
        assert!(err.contains("certificate 1"), "{err}");
    }

    #[test]
    fn a_refused_connection_is_io_so_the_sdk_retries_it() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let tls = TlsContext::load(AMAZON).expect("roots");
            let client = Https::new(&tls, Duration::from_secs(1));
            // A port nothing listens on: bind one, note it, close it.
            let addr = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a port");
            let request = http::Request::builder()
                .uri(format!("http://{addr}/"))
                .body(SdkBody::empty())
                .expect("a request");
            let request = aws_smithy_runtime_api::http::Request::try_from(request).expect("ok");
            let err = client.call(request).await.expect_err("refused");
            assert!(err.is_io(), "{err:?}");
        });
    }
}

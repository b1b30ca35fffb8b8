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
//!
//! And one thing it cannot do: open a connection ahead of need ([`Https::connect_ahead`]). Init
//! opens DynamoDB's (TCP, TLS) without sending a request; the first call's connector finds it
//! ready. A warm-up *request* would cost a cold start one more round trip and DynamoDB's time to
//! answer it, and every instance of a scale-out would send it.

pub use crate::tls::TlsContext;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;
use http::Uri;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use std::error::Error as StdError;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type BoxError = Box<dyn StdError + Send + Sync>;
type Pool = hyper_util::client::legacy::Client<Connector, SdkBody>;
type Stream = hyper_rustls::MaybeHttpsStream<hyper_util::rt::TokioIo<tokio::net::TcpStream>>;

/// How long a connection opened ahead may wait for its first call. DynamoDB keeps an idle
/// connection open longer; past this (an instance initialised well before its first event, as
/// provisioned concurrency does) the first call dials afresh instead of risking a closed one.
const SPARE_FOR: Duration = Duration::from_secs(30);

/// A connection opened ahead of need, for the first dial to the same place.
struct Spare {
    to: Uri,
    stream: Stream,
    opened: Instant,
}

/// What the pool dials with: TLS over TCP, and the spare, if any, handed out first.
#[derive(Clone)]
pub(super) struct Connector {
    tls: hyper_rustls::HttpsConnector<TcpConnector>,
    spare: Arc<Mutex<Option<Spare>>>,
}

impl Connector {
    /// The spare, if it was opened to where `uri` points and is fresh enough.
    fn take_spare(&self, uri: &Uri) -> Option<Stream> {
        let spare = self.spare.lock().ok()?.take()?;
        (same_place(&spare.to, uri) && spare.opened.elapsed() < SPARE_FOR).then_some(spare.stream)
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = Stream;
    type Error = BoxError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Stream, BoxError>> + Send>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), BoxError>> {
        self.tls.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        match self.take_spare(&uri) {
            Some(stream) => Box::pin(std::future::ready(Ok(stream))),
            None => self.tls.call(uri),
        }
    }
}

/// The same scheme, host and port (the scheme's default when none is written).
fn same_place(a: &Uri, b: &Uri) -> bool {
    let port = |u: &Uri| {
        u.port_u16().or(match u.scheme_str() {
            Some("https") => Some(443),
            Some("http") => Some(80),
            _ => None,
        })
    };
    a.scheme() == b.scheme()
        && a.host().map(str::to_ascii_lowercase) == b.host().map(str::to_ascii_lowercase)
        && port(a) == port(b)
}

/// An SDK HTTP client on one connection pool; cloning shares the pool.
#[derive(Clone)]
pub struct Https {
    pool: Pool,
    connector: Connector,
}

impl std::fmt::Debug for Https {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Https")
    }
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
            .with_tls_config(tls.client_config())
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let connector = Connector {
            tls: https,
            spare: Arc::default(),
        };
        let pool =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(connector.clone());
        Self { pool, connector }
    }

    /// Opens a connection to `url` (TCP, and TLS for `https`) and keeps it for the pool's first
    /// dial there within [`SPARE_FOR`]: no request is sent. `Err` if it cannot connect; a later
    /// call then dials as it would have.
    pub async fn connect_ahead(&self, url: &str) -> Result<(), BoxError> {
        use tower_service::Service;
        let to: Uri = url.parse()?;
        let mut dial = self.connector.tls.clone();
        std::future::poll_fn(|cx| dial.poll_ready(cx)).await?;
        let stream = dial.call(to.clone()).await?;
        let spare = Spare {
            to,
            stream,
            opened: Instant::now(),
        };
        if let Ok(mut slot) = self.connector.spare.lock() {
            *slot = Some(spare);
        }
        Ok(())
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

    /// A client trusting Amazon's roots, as a function's.
    fn client() -> Https {
        Https::new(
            &TlsContext::load(AMAZON).expect("roots"),
            Duration::from_secs(1),
        )
    }

    #[tokio::test]
    async fn a_refused_connection_is_io_so_the_sdk_retries_it() {
        let client = client();
        // A port nothing listens on: bind one, note it, close it.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a port");
        let err = client.call(get(addr)).await.expect_err("refused");
        assert!(err.is_io(), "{err:?}");
    }

    /// A plain-HTTP server on loopback that answers 200 and counts the connections it accepts.
    async fn counting_server() -> (std::net::SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let addr = listener.local_addr().expect("its address");
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let ok = hyper::service::service_fn(|_| async {
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(String::new()))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), ok)
                        .await;
                });
            }
        });
        (addr, accepted)
    }

    fn get(addr: std::net::SocketAddr) -> aws_smithy_runtime_api::http::Request {
        let request = http::Request::builder()
            .uri(format!("http://{addr}/"))
            .body(SdkBody::empty())
            .expect("a request");
        aws_smithy_runtime_api::http::Request::try_from(request).expect("ok")
    }

    /// Init opens the connection; the first call uses it instead of dialing again, and a spare
    /// opened to somewhere else is not used for a call elsewhere.
    #[tokio::test]
    async fn the_first_call_takes_the_connection_opened_ahead() {
        use std::sync::atomic::Ordering;
        let client = client();
        let (addr, accepted) = counting_server().await;
        client
            .connect_ahead(&format!("http://{addr}"))
            .await
            .expect("connects");
        let answer = client.call(get(addr)).await.expect("an answer");
        assert_eq!(answer.status().as_u16(), 200);
        let answer = client.call(get(addr)).await.expect("an answer");
        assert_eq!(answer.status().as_u16(), 200);
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "one connection, opened ahead"
        );

        let (elsewhere, other) = counting_server().await;
        let fresh = self::client();
        fresh
            .connect_ahead(&format!("http://{addr}"))
            .await
            .expect("connects");
        let answer = fresh.call(get(elsewhere)).await.expect("an answer");
        assert_eq!(answer.status().as_u16(), 200);
        assert_eq!(other.load(Ordering::SeqCst), 1);
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            2,
            "the spare went to its own place only"
        );
        assert!(fresh.connect_ahead("http://127.0.0.1:1").await.is_err());
    }

    #[test]
    fn places_compare_by_scheme_host_and_port() {
        let uri = |s: &str| s.parse::<Uri>().expect("a URI");
        assert!(same_place(
            &uri("https://dynamodb.eu-west-1.amazonaws.com"),
            &uri("https://DynamoDB.eu-west-1.amazonaws.com:443/")
        ));
        assert!(!same_place(
            &uri("https://a.example"),
            &uri("http://a.example")
        ));
        assert!(!same_place(
            &uri("http://a.example:8000"),
            &uri("http://a.example")
        ));
    }
}

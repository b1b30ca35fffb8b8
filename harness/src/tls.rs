//! TLS on the measured path, as on AWS, where every byte to DynamoDB and to the issuer is TLS.
//!
//! [`TestCa`] makes a throwaway certificate authority per run and one server certificate from it
//! (for `127.0.0.1` and `localhost`, ECDSA P-256), writes the CA to one PEM file, and offers:
//! - [`TestCa::acceptor`], for the harness's own servers (the chaos fault proxies speak TLS);
//! - [`TestCa::terminate`], a TLS terminator in front of any plain-TCP service on loopback (the
//!   embedded engine, the issuer's key set), forwarding the bytes as they are.
//!
//! The functions trust the CA through that one named file (`AWS_CA_BUNDLE` for DynamoDB,
//! `JWKS_CA_BUNDLE` for the key set): one small PEM read at init and no directory scan, which
//! costs what production's compiled-in roots cost. No ALPN is offered, so clients speak HTTP/1.1,
//! as the engine does.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
pub use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A throwaway CA, its PEM file, and a server identity for loopback signed by it.
pub struct TestCa {
    bundle: PathBuf,
    acceptor: TlsAcceptor,
}

impl TestCa {
    /// Generates the CA and the server certificate, and writes the CA to a new PEM file in `dir`.
    pub fn generate(dir: &Path) -> Result<Self, BoxError> {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
            KeyPair, KeyUsagePurpose,
        };
        let ca_key = KeyPair::generate()?;
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "stateless-shop harness CA (throwaway)");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca, ca_key);

        let server_key = KeyPair::generate()?;
        let mut server =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
        server
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server.signed_by(&server_key, &issuer)?;

        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                vec![server_cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
            )?;

        std::fs::create_dir_all(dir)?;
        let bundle = dir.join(format!("ca-{}.pem", uuid::Uuid::new_v4().simple()));
        std::fs::write(&bundle, ca_cert.pem())?;
        Ok(Self {
            bundle,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// The CA certificate as one PEM file: what a client must trust.
    pub fn bundle(&self) -> &Path {
        &self.bundle
    }

    /// Accepts TLS connections with the server certificate.
    pub fn acceptor(&self) -> TlsAcceptor {
        self.acceptor.clone()
    }

    /// Listens on `127.0.0.1:0` with TLS and forwards each connection's plain bytes to `upstream`.
    /// Returns the address to connect to (`https://127.0.0.1:<port>`). Serves until the process
    /// ends.
    pub async fn terminate(&self, upstream: SocketAddr) -> std::io::Result<SocketAddr> {
        self.terminate_delayed(upstream, Duration::ZERO).await
    }

    /// As [`TestCa::terminate`], with `one_way` of latency added to every byte in each direction
    /// between the client and the TLS endpoint, so the TLS handshake's round trips and each
    /// request's pay it as over a network (loopback has none). Bytes are delayed, not throttled:
    /// a chunk read at `t` is written at `t + one_way`. Not modelled: the TCP handshake's own round
    /// trip (the kernel completes it before the terminator sees the connection), so a new
    /// connection costs one round trip less here than across a network. Waits are a thread's
    /// sleep, precise to tens of microseconds on Linux (tokio's timer would round to 1 ms).
    pub async fn terminate_delayed(
        &self,
        upstream: SocketAddr,
        one_way: Duration,
    ) -> std::io::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let acceptor = self.acceptor();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let _ = stream.set_nodelay(true);
                    let Ok(mut plain) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = plain.set_nodelay(true);
                    if one_way.is_zero() {
                        let Ok(mut tls) = acceptor.accept(stream).await else {
                            return;
                        };
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                        return;
                    }
                    // The network: the client's socket on one side, the TLS endpoint on the other.
                    let (near, far) = tokio::io::duplex(64 * 1024);
                    tokio::spawn(delayed_link(stream, near, one_way));
                    let Ok(mut tls) = acceptor.accept(far).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        Ok(addr)
    }
}

/// Relays `a` ⇄ `b`, each chunk `one_way` after it was read, in order, until either side closes.
async fn delayed_link<A, B>(a: A, b: B, one_way: Duration)
where
    A: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
    B: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    let (a_read, a_write) = tokio::io::split(a);
    let (b_read, b_write) = tokio::io::split(b);
    let there = tokio::spawn(delayed_copy(a_read, b_write, one_way));
    let back = tokio::spawn(delayed_copy(b_read, a_write, one_way));
    let _ = tokio::join!(there, back);
}

/// Copies `from` to `to`, each chunk written `one_way` after it was read.
async fn delayed_copy<R, W>(mut from: R, mut to: W, one_way: Duration)
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
    W: tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (send, mut receive) =
        tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    let due = tokio::time::Instant::now() + one_way;
                    if send.send((due, buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
    });
    while let Some((due, chunk)) = receive.recv().await {
        // tokio's timer ticks in whole milliseconds, which would round 0.5 ms up to 1 or 2: the
        // wait is a thread's sleep instead (sub-millisecond on Linux), off the async workers.
        let wait = due.saturating_duration_since(tokio::time::Instant::now());
        if !wait.is_zero() {
            let _ = tokio::task::spawn_blocking(move || std::thread::sleep(wait)).await;
        }
        if to.write_all(&chunk).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
    reader.abort();
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.bundle);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};

    /// A TLS client trusting only `ca`.
    fn connector(ca: &TestCa) -> tokio_rustls::TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca.bundle()).expect("the bundle") {
            roots.add(cert.expect("a certificate")).expect("a root");
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        tokio_rustls::TlsConnector::from(Arc::new(config))
    }

    /// An upstream that answers each read with the same bytes.
    async fn echo() -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = stream.read(&mut buf).await {
                        if n == 0 || stream.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    /// The handshake's time and one request's round trip through a terminator.
    async fn timed(ca: &TestCa, front: SocketAddr) -> (Duration, Duration) {
        let started = std::time::Instant::now();
        let tcp = tokio::net::TcpStream::connect(front)
            .await
            .expect("connect");
        let name = ServerName::try_from("127.0.0.1").expect("a name");
        let mut tls = connector(ca).connect(name, tcp).await.expect("handshake");
        let handshake = started.elapsed();
        let started = std::time::Instant::now();
        tls.write_all(b"ping").await.expect("write");
        let mut got = [0u8; 4];
        tls.read_exact(&mut got).await.expect("read");
        assert_eq!(&got, b"ping");
        (handshake, started.elapsed())
    }

    #[tokio::test]
    async fn a_delayed_terminator_adds_its_latency_to_the_handshake_and_each_round_trip() {
        let dir = std::env::temp_dir().join(format!("harness-tls-{}", uuid::Uuid::new_v4()));
        let ca = TestCa::generate(&dir).expect("a CA");
        let upstream = echo().await;
        let one_way = Duration::from_millis(40);
        let plain = ca.terminate(upstream).await.expect("terminate");
        let delayed = ca
            .terminate_delayed(upstream, one_way)
            .await
            .expect("terminate");
        let (fast_handshake, fast_trip) = timed(&ca, plain).await;
        let (handshake, trip) = timed(&ca, delayed).await;
        // TLS 1.3: one round trip to the server's Finished; each request: one more.
        assert!(handshake >= 2 * one_way, "{handshake:?}");
        assert!(trip >= 2 * one_way, "{trip:?}");
        assert!(
            trip < 3 * one_way,
            "a round trip pays the latency twice, not more: {trip:?}"
        );
        assert!(
            fast_handshake < one_way && fast_trip < one_way,
            "{fast_handshake:?} {fast_trip:?}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}

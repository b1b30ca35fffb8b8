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
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let Ok(mut plain) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = plain.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        Ok(addr)
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.bundle);
    }
}

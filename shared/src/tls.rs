//! TLS trust for the process's outgoing connections (DynamoDB's, the issuer's key set's): the
//! authorities to trust, decoded once, and rustls' client settings on aws-lc. Std and rustls
//! only, so the store and the token verifier build their clients on the same code.

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::sync::Arc;

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
        Self::with_roots(roots)
    }

    /// Trusts the platform's certificate store (`SSL_CERT_FILE`, `SSL_CERT_DIR`, or the system's),
    /// for an endpoint certified outside Amazon Trust Services. Every usable certificate found.
    pub fn platform() -> Result<Self, String> {
        let found = rustls_native_certs::load_native_certs();
        let mut roots = rustls::RootCertStore::empty();
        let (valid, _) = roots.add_parsable_certificates(found.certs);
        if valid == 0 {
            return Err(format!(
                "no usable certificate in the platform's store ({} errors)",
                found.errors.len()
            ));
        }
        Self::with_roots(roots)
    }

    fn with_roots(roots: rustls::RootCertStore) -> Result<Self, String> {
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

    /// The client configuration, for a connector (cheap: its parts are shared).
    pub fn client_config(&self) -> rustls::ClientConfig {
        rustls::ClientConfig::clone(&self.config)
    }

    /// How many authorities it trusts.
    pub fn roots(&self) -> usize {
        self.roots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}

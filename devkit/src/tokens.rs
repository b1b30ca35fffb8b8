//! A development token issuer: an ES256 key pair, its public key set, and minted access tokens.
//!
//! The local API trusts it by default (and serves its key set at `/.well-known/jwks.json`); tests
//! use it to call protected routes. The private key is kept in the git-ignored data folder, so
//! tokens from `cargo run -p local -- token` stay valid across restarts. Never deploy it.

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::Digest;
use shared::auth::AuthConfig;
use std::path::Path;

/// The `iss` of development tokens.
pub const DEV_ISSUER: &str = "stateless-shop-local";
/// The key file's name inside the data folder.
pub const KEY_FILE: &str = "dev-signing-key.p8";

/// What a minted token says.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    pub sub: String,
    /// Adds the admin group and scope (the defaults, `admin` and `shop/admin`).
    pub admin: bool,
    pub ttl_secs: u64,
}

impl TokenSpec {
    pub fn user(sub: &str) -> Self {
        Self {
            sub: sub.to_owned(),
            admin: false,
            ttl_secs: 3600,
        }
    }

    pub fn admin(sub: &str) -> Self {
        Self {
            admin: true,
            ..Self::user(sub)
        }
    }
}

/// An ES256 signing key with its `kid` (a thumbprint of the public key).
#[derive(Clone)]
pub struct DevIssuer {
    pkcs8: Vec<u8>,
    kid: String,
    x: String,
    y: String,
}

impl DevIssuer {
    /// A fresh key, held in memory only.
    pub fn generate() -> Result<Self, String> {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|_| "key generation failed")?;
        let pkcs8 = key.to_pkcs8v1().map_err(|_| "key serialisation failed")?;
        Self::from_pkcs8(pkcs8.as_ref())
    }

    /// The key stored in `dir`, created (readable by the owner only) when missing.
    pub fn load_or_create(dir: &Path) -> Result<Self, String> {
        let path = dir.join(KEY_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => Self::from_pkcs8(&bytes)
                .map_err(|e| format!("{}: {e}; delete it to make a new one", path.display())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let issuer = Self::generate()?;
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                write_private(&path, &issuer.pkcs8)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                Ok(issuer)
            }
            Err(err) => Err(format!("cannot read {}: {err}", path.display())),
        }
    }

    fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, String> {
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
            .map_err(|e| format!("not a P-256 PKCS#8 key: {e}"))?;
        let point = key.public_key().as_ref();
        // Uncompressed SEC1 point: 0x04 ‖ x (32 bytes) ‖ y (32 bytes).
        if point.len() != 65 || point[0] != 4 {
            return Err("unexpected public key encoding".into());
        }
        let kid = hex(&sha2::Sha256::digest(point)[..8]);
        Ok(Self {
            pkcs8: pkcs8.to_vec(),
            kid,
            x: URL_SAFE_NO_PAD.encode(&point[1..33]),
            y: URL_SAFE_NO_PAD.encode(&point[33..]),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key set, as an issuer serves it at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> Value {
        json!({"keys": [{"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": self.kid, "x": self.x, "y": self.y}]})
    }

    /// Verification settings that trust this key (inline, pinned) and [`DEV_ISSUER`].
    pub fn auth_config(&self) -> AuthConfig {
        let jwks = self.jwks().to_string();
        AuthConfig::from_lookup(|name| match name {
            "JWT_ISSUER" => Some(DEV_ISSUER.to_owned()),
            "JWKS_JSON" => Some(jwks.clone()),
            _ => None,
        })
        .unwrap_or_else(|e| unreachable!("the dev issuer's own settings are valid: {e}"))
    }

    /// Signs an access token as Cognito would shape it (`token_use: access`, groups, scope).
    pub fn mint(&self, spec: &TokenSpec) -> String {
        let claims = Self::claims(spec);
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        header.typ = Some("JWT".into());
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ec_der(&self.pkcs8))
            .unwrap_or_else(|e| unreachable!("a P-256 key signs: {e}"))
    }

    /// The claims [`DevIssuer::mint`] signs for `spec`, issued now: what API Gateway's JWT
    /// authorizer passes on once it verified such a token.
    pub fn claims(spec: &TokenSpec) -> serde_json::Value {
        let now = jsonwebtoken::get_current_timestamp();
        let mut claims = json!({
            "iss": DEV_ISSUER,
            "sub": spec.sub,
            "iat": now,
            "nbf": now,
            "exp": now + spec.ttl_secs,
            "token_use": "access",
            "scope": "shop/user",
        });
        if spec.admin {
            claims["cognito:groups"] = json!(["admin"]);
            claims["scope"] = json!("shop/user shop/admin");
        }
        claims
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

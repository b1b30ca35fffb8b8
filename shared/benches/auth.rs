//! Cost of verifying one bearer token, per algorithm, through the whole policy
//! (`Authenticator::verify`: size and header checks, key lookup, signature, claims).
//!
//! `cargo bench -p shared --bench auth`

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, EncodingKey, get_current_timestamp};
use serde_json::{Value, json};
use shared::auth::{AuthConfig, Authenticator};
use std::hint::black_box;

const ISS: &str = "https://issuer.example/pool";
const HS_SECRET: &str = "0123456789abcdef0123456789abcdef";

fn sign(alg: Algorithm, key: &EncodingKey, header: Value) -> String {
    let now = get_current_timestamp();
    let claims = json!({"iss": ISS, "sub": "alice", "iat": now, "exp": now + 3600, "token_use": "access", "cognito:groups": ["admin"]});
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).expect("signs");
    format!("{message}.{signature}")
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let jwks = format!(
        r#"{{"keys":[{},{}]}}"#,
        include_str!("../tests/fixtures/rsa-a.jwk.json"),
        include_str!("../tests/fixtures/ec-a.jwk.json")
    );
    let config = AuthConfig::from_lookup(|name| match name {
        "JWT_ISSUER" => Some(ISS.to_owned()),
        "JWKS_JSON" => Some(jwks.clone()),
        "JWT_HS256_SECRET" => Some(HS_SECRET.to_owned()),
        _ => None,
    })
    .expect("valid settings");
    let auth = runtime
        .block_on(Authenticator::new(config))
        .expect("valid keys");
    let rsa =
        EncodingKey::from_rsa_pem(include_bytes!("../tests/fixtures/rsa-a.pem")).expect("RSA key");
    let ec =
        EncodingKey::from_ec_pem(include_bytes!("../tests/fixtures/ec-a.pem")).expect("EC key");
    let tokens = [
        (
            "RS256",
            sign(
                Algorithm::RS256,
                &rsa,
                json!({"alg": "RS256", "typ": "JWT", "kid": "rsa-a"}),
            ),
        ),
        (
            "ES256",
            sign(
                Algorithm::ES256,
                &ec,
                json!({"alg": "ES256", "typ": "JWT", "kid": "ec-a"}),
            ),
        ),
        (
            "HS256",
            sign(
                Algorithm::HS256,
                &EncodingKey::from_secret(HS_SECRET.as_bytes()).expect("a non-empty secret"),
                json!({"alg": "HS256", "typ": "JWT"}),
            ),
        ),
    ];
    let mut group = c.benchmark_group("verify");
    for (name, token) in &tokens {
        assert!(
            runtime.block_on(auth.verify(token)).is_ok(),
            "{name} token verifies"
        );
        group.bench_function(*name, |b| {
            b.to_async(&runtime)
                .iter(|| async { black_box(auth.verify(black_box(token)).await) })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

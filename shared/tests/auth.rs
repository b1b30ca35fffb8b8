//! The token verification policy under attack: forgeries from RFC 8725 and the common JWT attack
//! playbooks, every claim rule broken, and the key cache's behaviour against a real HTTP key set.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, HeaderValue};
use jsonwebtoken::{Algorithm, EncodingKey, get_current_timestamp};
use serde_json::{Value, json};
use shared::ApiError;
use shared::auth::{AuthConfig, AuthError, Authenticator, Rejection};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const ISS: &str = "https://issuer.example/pool";

fn fixture(name: &str) -> &'static str {
    match name {
        "rsa-a.pem" => include_str!("fixtures/rsa-a.pem"),
        "rsa-b.pem" => include_str!("fixtures/rsa-b.pem"),
        "rsa-untrusted.pem" => include_str!("fixtures/rsa-untrusted.pem"),
        "ec-a.pem" => include_str!("fixtures/ec-a.pem"),
        "ec-untrusted.pem" => include_str!("fixtures/ec-untrusted.pem"),
        "rsa-a.pub.pem" => include_str!("fixtures/rsa-a.pub.pem"),
        "rsa-a.jwk.json" => include_str!("fixtures/rsa-a.jwk.json"),
        "rsa-b.jwk.json" => include_str!("fixtures/rsa-b.jwk.json"),
        "rsa-weak.jwk.json" => include_str!("fixtures/rsa-weak.jwk.json"),
        "rsa-untrusted.jwk.json" => include_str!("fixtures/rsa-untrusted.jwk.json"),
        "ec-a.jwk.json" => include_str!("fixtures/ec-a.jwk.json"),
        other => panic!("no fixture {other}"),
    }
}

fn jwks(kids: &[&str]) -> String {
    let keys: Vec<Value> = kids
        .iter()
        .map(|k| serde_json::from_str(fixture(&format!("{k}.jwk.json"))).expect("fixture JWK"))
        .collect();
    json!({ "keys": keys }).to_string()
}

fn rsa(name: &str) -> EncodingKey {
    EncodingKey::from_rsa_pem(fixture(&format!("{name}.pem")).as_bytes()).expect("RSA fixture")
}

fn ec(name: &str) -> EncodingKey {
    EncodingKey::from_ec_pem(fixture(&format!("{name}.pem")).as_bytes()).expect("EC fixture")
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// Signs any header and claims, so a test can forge exactly the token it wants.
fn sign(alg: Algorithm, key: &EncodingKey, header: Value, claims: Value) -> String {
    let message = format!("{}.{}", b64(&header), b64(&claims));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).expect("signs");
    format!("{message}.{signature}")
}

fn now() -> u64 {
    get_current_timestamp()
}

fn claims() -> Value {
    json!({"iss": ISS, "sub": "alice", "iat": now(), "exp": now() + 600, "token_use": "access"})
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn without(mut base: Value, key: &str) -> Value {
    base.as_object_mut().expect("object").remove(key);
    base
}

fn rs_header(kid: &str) -> Value {
    json!({"alg": "RS256", "typ": "JWT", "kid": kid})
}

fn es_header(kid: &str) -> Value {
    json!({"alg": "ES256", "typ": "JWT", "kid": kid})
}

/// A valid RS256 token from the trusted key `rsa-a`, with these claims.
fn rs(claims: Value) -> String {
    sign(Algorithm::RS256, &rsa("rsa-a"), rs_header("rsa-a"), claims)
}

async fn authenticator(extra: &[(&str, &str)]) -> Arc<Authenticator> {
    let keys = jwks(&["rsa-a", "ec-a", "rsa-weak"]);
    let config = AuthConfig::from_lookup(|name| match name {
        "JWT_ISSUER" => Some(ISS.to_owned()),
        "JWKS_JSON" => Some(keys.clone()),
        _ => extra
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned()),
    })
    .expect("valid settings");
    Authenticator::new(config).await.expect("valid key set")
}

fn bearer(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).expect("header-safe token"),
    );
    headers
}

/// The rejection a token gets, after checking it maps to 401 `invalid_token` for the client.
async fn rejection(auth: &Authenticator, token: &str) -> Rejection {
    match auth.authenticate(&bearer(token)).await {
        Err(AuthError::Invalid(reason)) => {
            let api = ApiError::from(AuthError::Invalid(reason));
            assert_eq!(api.status(), 401);
            let response = shared::http::problem_response(&api);
            assert_eq!(
                response.headers()["www-authenticate"],
                r#"Bearer error="invalid_token""#
            );
            let body = String::from_utf8_lossy(response.body().as_ref()).to_string();
            assert!(
                !body.contains(&format!("{reason:?}")),
                "the body does not say which check failed: {body}"
            );
            reason
        }
        other => panic!("expected an invalid token, got {other:?}"),
    }
}

fn truncated_signature(signature: &str, bytes: usize) -> String {
    let raw = URL_SAFE_NO_PAD
        .decode(signature)
        .expect("a base64url signature");
    URL_SAFE_NO_PAD.encode(&raw[..bytes])
}

fn flip_last_char(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let last = bytes.len() - 2; // not the very last: its low bits may be padding
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("ascii")
}

#[tokio::test]
async fn hostile_tokens_are_refused() {
    use Rejection as R;
    let auth = authenticator(&[]).await;
    let valid = rs(claims());
    let parts: Vec<&str> = valid.split('.').collect();
    let admin = rs(with(claims(), "cognito:groups", json!(["admin"])));
    let admin_parts: Vec<&str> = admin.split('.').collect();
    let rsa_public_pem = fixture("rsa-a.pub.pem");
    let rsa_jwk: Value = serde_json::from_str(fixture("rsa-a.jwk.json")).expect("JWK");
    let attacker_jwk: Value = serde_json::from_str(fixture("rsa-untrusted.jwk.json")).expect("JWK");
    let unsigned = |header: Value| format!("{}.{}.", b64(&header), b64(&claims()));
    let big = with(claims(), "padding", json!("x".repeat(9000)));

    let cases: Vec<(&str, String, Rejection)> = vec![
        // alg none and friends
        (
            "alg none",
            unsigned(json!({"alg": "none", "typ": "JWT"})),
            R::Algorithm,
        ),
        ("alg None", unsigned(json!({"alg": "None"})), R::Algorithm),
        ("alg NONE", unsigned(json!({"alg": "NONE"})), R::Algorithm),
        ("alg nOnE", unsigned(json!({"alg": "nOnE"})), R::Algorithm),
        (
            "alg none keeping a real signature",
            format!("{}.{}.{}", b64(&json!({"alg": "none"})), parts[1], parts[2]),
            R::Algorithm,
        ),
        (
            "alg missing",
            unsigned(json!({"typ": "JWT", "kid": "rsa-a"})),
            R::Algorithm,
        ),
        ("alg empty", unsigned(json!({"alg": ""})), R::Algorithm),
        (
            "alg as a number",
            unsigned(json!({"alg": 256})),
            R::Algorithm,
        ),
        // algorithm and key confusion
        (
            "HS256 signed with the RSA public key PEM",
            sign(
                Algorithm::HS256,
                &EncodingKey::from_secret(rsa_public_pem.as_bytes()).expect("a non-empty secret"),
                json!({"alg": "HS256", "kid": "rsa-a"}),
                claims(),
            ),
            R::Algorithm,
        ),
        (
            "HS256 signed with the JWK modulus",
            sign(
                Algorithm::HS256,
                &EncodingKey::from_secret(rsa_jwk["n"].as_str().unwrap_or("").as_bytes())
                    .expect("a non-empty secret"),
                json!({"alg": "HS256", "kid": "rsa-a"}),
                claims(),
            ),
            R::Algorithm,
        ),
        (
            "RS384 is not accepted",
            sign(
                Algorithm::RS384,
                &rsa("rsa-a"),
                json!({"alg": "RS384", "kid": "rsa-a"}),
                claims(),
            ),
            R::Algorithm,
        ),
        (
            "PS256 is not accepted",
            sign(
                Algorithm::PS256,
                &rsa("rsa-a"),
                json!({"alg": "PS256", "kid": "rsa-a"}),
                claims(),
            ),
            R::Algorithm,
        ),
        (
            "ES256 naming an RSA kid",
            sign(Algorithm::ES256, &ec("ec-a"), es_header("rsa-a"), claims()),
            R::KeyAlgorithmMismatch,
        ),
        (
            "RS256 naming an EC kid",
            sign(Algorithm::RS256, &rsa("rsa-a"), rs_header("ec-a"), claims()),
            R::KeyAlgorithmMismatch,
        ),
        // signatures stripped, truncated, altered, swapped
        (
            "signature stripped, trailing dot kept",
            format!("{}.{}.", parts[0], parts[1]),
            R::Signature,
        ),
        (
            "signature stripped with its dot",
            format!("{}.{}", parts[0], parts[1]),
            R::Malformed,
        ),
        (
            "signature truncated to 200 bytes",
            format!(
                "{}.{}.{}",
                parts[0],
                parts[1],
                truncated_signature(parts[2], 200)
            ),
            R::Signature,
        ),
        (
            "signature truncated to 1 byte",
            format!(
                "{}.{}.{}",
                parts[0],
                parts[1],
                truncated_signature(parts[2], 1)
            ),
            R::Signature,
        ),
        (
            "signature bit-flipped",
            flip_last_char(&valid),
            R::Signature,
        ),
        (
            "payload swapped for an admin's",
            format!("{}.{}.{}", parts[0], admin_parts[1], parts[2]),
            R::Signature,
        ),
        (
            "payload edited (sub)",
            format!(
                "{}.{}.{}",
                parts[0],
                b64(&with(claims(), "sub", json!("mallory"))),
                parts[2]
            ),
            R::Signature,
        ),
        (
            "header edited (typ)",
            format!(
                "{}.{}.{}",
                b64(&json!({"alg": "RS256", "typ": "jwt", "kid": "rsa-a"})),
                parts[1],
                parts[2]
            ),
            R::Signature,
        ),
        (
            "signature from another valid token",
            format!("{}.{}.{}", parts[0], parts[1], admin_parts[2]),
            R::Signature,
        ),
        // untrusted keys and key injection
        (
            "untrusted key under a trusted kid",
            sign(
                Algorithm::RS256,
                &rsa("rsa-untrusted"),
                rs_header("rsa-a"),
                claims(),
            ),
            R::Signature,
        ),
        (
            "untrusted EC key under a trusted kid",
            sign(
                Algorithm::ES256,
                &ec("ec-untrusted"),
                es_header("ec-a"),
                claims(),
            ),
            R::Signature,
        ),
        (
            "untrusted key with its own kid",
            sign(
                Algorithm::RS256,
                &rsa("rsa-untrusted"),
                rs_header("rsa-untrusted"),
                claims(),
            ),
            R::UnknownKey,
        ),
        (
            "weak 1024-bit key from the key set",
            include_str!("fixtures/rsa-weak.token").trim().to_owned(),
            R::UnknownKey,
        ),
        (
            "kid path traversal",
            sign(
                Algorithm::RS256,
                &rsa("rsa-untrusted"),
                rs_header("../../../../dev/null"),
                claims(),
            ),
            R::UnknownKey,
        ),
        (
            "kid SQL injection",
            sign(
                Algorithm::RS256,
                &rsa("rsa-untrusted"),
                rs_header("x' UNION SELECT 'key"),
                claims(),
            ),
            R::UnknownKey,
        ),
        (
            "kid missing",
            sign(
                Algorithm::RS256,
                &rsa("rsa-a"),
                json!({"alg": "RS256"}),
                claims(),
            ),
            R::UnknownKey,
        ),
        (
            "kid as a number",
            sign(
                Algorithm::RS256,
                &rsa("rsa-a"),
                json!({"alg": "RS256", "kid": 1}),
                claims(),
            ),
            R::UnknownKey,
        ),
        (
            "embedded jwk header",
            sign(
                Algorithm::RS256,
                &rsa("rsa-untrusted"),
                json!({"alg": "RS256", "jwk": attacker_jwk}),
                claims(),
            ),
            R::UnknownKey,
        ),
        (
            "embedded jwk under a trusted kid",
            sign(
                Algorithm::RS256,
                &rsa("rsa-untrusted"),
                json!({"alg": "RS256", "kid": "rsa-a", "jwk": attacker_jwk}),
                claims(),
            ),
            R::Signature,
        ),
        (
            "jku to an attacker's key set",
            sign(
                Algorithm::RS256,
                &rsa("rsa-untrusted"),
                json!({"alg": "RS256", "kid": "rsa-untrusted", "jku": "https://attacker.example/jwks.json"}),
                claims(),
            ),
            R::UnknownKey,
        ),
        (
            "x5u to an attacker's certificate",
            sign(
                Algorithm::RS256,
                &rsa("rsa-untrusted"),
                json!({"alg": "RS256", "kid": "rsa-untrusted", "x5u": "https://attacker.example/cert.pem"}),
                claims(),
            ),
            R::UnknownKey,
        ),
        (
            "x5c with an attacker's chain",
            sign(
                Algorithm::RS256,
                &rsa("rsa-untrusted"),
                json!({"alg": "RS256", "x5c": ["MIIBattacker"]}),
                claims(),
            ),
            R::UnknownKey,
        ),
        // header rules
        (
            "crit header",
            sign(
                Algorithm::RS256,
                &rsa("rsa-a"),
                json!({"alg": "RS256", "kid": "rsa-a", "crit": ["exp"], "exp": 1}),
                claims(),
            ),
            R::Critical,
        ),
        (
            "empty crit header",
            sign(
                Algorithm::RS256,
                &rsa("rsa-a"),
                json!({"alg": "RS256", "kid": "rsa-a", "crit": []}),
                claims(),
            ),
            R::Critical,
        ),
        (
            "typ not JWT",
            sign(
                Algorithm::RS256,
                &rsa("rsa-a"),
                json!({"alg": "RS256", "kid": "rsa-a", "typ": "JOSE+JSON"}),
                claims(),
            ),
            R::Type,
        ),
        (
            "typ of a logout token",
            sign(
                Algorithm::RS256,
                &rsa("rsa-a"),
                json!({"alg": "RS256", "kid": "rsa-a", "typ": "logout+jwt"}),
                claims(),
            ),
            R::Type,
        ),
        // time claims
        (
            "expired beyond the leeway",
            rs(with(claims(), "exp", json!(now() - 31))),
            R::Expired,
        ),
        (
            "expired long ago",
            rs(with(claims(), "exp", json!(1))),
            R::Expired,
        ),
        ("exp missing", rs(without(claims(), "exp")), R::Claims),
        (
            "exp as a string",
            rs(with(claims(), "exp", json!(format!("{}", now() + 600)))),
            R::Claims,
        ),
        (
            "exp as a float",
            rs(with(claims(), "exp", json!(1e20))),
            R::Claims,
        ),
        (
            "exp negative",
            rs(with(claims(), "exp", json!(-1))),
            R::Claims,
        ),
        (
            "nbf in the future",
            rs(with(claims(), "nbf", json!(now() + 120))),
            R::NotYetValid,
        ),
        (
            "nbf as a string",
            rs(with(claims(), "nbf", json!("0"))),
            R::Claims,
        ),
        (
            "iat in the future",
            rs(with(claims(), "iat", json!(now() + 120))),
            R::IssuedInFuture,
        ),
        (
            "iat as a string",
            rs(with(claims(), "iat", json!("yesterday"))),
            R::Claims,
        ),
        // issuer
        ("iss missing", rs(without(claims(), "iss")), R::Issuer),
        (
            "iss of another pool",
            rs(with(claims(), "iss", json!("https://issuer.example/other"))),
            R::Issuer,
        ),
        (
            "iss with a trailing slash",
            rs(with(claims(), "iss", json!(format!("{ISS}/")))),
            R::Issuer,
        ),
        (
            "iss as an array holding ours",
            rs(with(
                claims(),
                "iss",
                json!([ISS, "https://attacker.example"]),
            )),
            R::Issuer,
        ),
        (
            "iss differing in case",
            rs(with(claims(), "iss", json!(ISS.to_uppercase()))),
            R::Issuer,
        ),
        // subject
        ("sub missing", rs(without(claims(), "sub")), R::Subject),
        (
            "sub empty",
            rs(with(claims(), "sub", json!(""))),
            R::Subject,
        ),
        (
            "sub a number",
            rs(with(claims(), "sub", json!(42))),
            R::Subject,
        ),
        (
            "sub with a control character",
            rs(with(claims(), "sub", json!("ali\u{0}ce"))),
            R::Subject,
        ),
        (
            "sub too long",
            rs(with(claims(), "sub", json!("u".repeat(256)))),
            R::Subject,
        ),
        // token use (Cognito ID tokens are refused on API routes)
        (
            "an ID token",
            rs(with(claims(), "token_use", json!("id"))),
            R::TokenUse,
        ),
        (
            "token_use as a number",
            rs(with(claims(), "token_use", json!(1))),
            R::TokenUse,
        ),
        // shape and size
        ("oversized token", rs(big), R::TooLarge),
        ("four segments", format!("{valid}.extra"), R::Malformed),
        ("two segments", "abc.def".to_owned(), R::Malformed),
        (
            "header not base64url",
            format!("***.{}.{}", parts[1], parts[2]),
            R::Malformed,
        ),
        (
            "header not an object",
            format!("{}.{}.{}", b64(&json!(["RS256"])), parts[1], parts[2]),
            R::Malformed,
        ),
        (
            "header with a duplicate alg",
            format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"none","alg":"RS256","kid":"rsa-a"}"#),
                parts[1],
                parts[2]
            ),
            R::Malformed,
        ),
        (
            "payload not JSON",
            sign(
                Algorithm::RS256,
                &rsa("rsa-a"),
                rs_header("rsa-a"),
                json!("not an object"),
            ),
            R::Malformed,
        ),
        (
            "padding inside the token",
            format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
            R::Malformed,
        ),
        ("empty token", String::new(), R::Malformed),
    ];
    assert!(
        cases.len() >= 30,
        "the suite covers at least 30 hostile tokens"
    );
    let mut wrong = Vec::new();
    for (name, token, expected) in &cases {
        let got = rejection(&auth, token).await;
        if got != *expected {
            wrong.push(format!("{name}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "refused, but by the wrong check:\n{}",
        wrong.join("\n")
    );
}

#[tokio::test]
async fn audience_rules_apply_only_when_configured() {
    use Rejection as R;
    let auth = authenticator(&[("JWT_AUDIENCE", "shop-web, shop-app")]).await;
    for (name, token, expected) in [
        (
            "aud of another client",
            rs(with(claims(), "aud", json!("other"))),
            R::Audience,
        ),
        (
            "aud array without ours",
            rs(with(claims(), "aud", json!(["a", "b"]))),
            R::Audience,
        ),
        ("neither aud nor client_id", rs(claims()), R::Audience),
        (
            "client_id of another client",
            rs(with(claims(), "client_id", json!("other"))),
            R::Audience,
        ),
        (
            "aud as a number",
            rs(with(claims(), "aud", json!(7))),
            R::Claims,
        ),
        (
            "aud wrong, client_id right",
            rs(with(
                with(claims(), "aud", json!("other")),
                "client_id",
                json!("shop-web"),
            )),
            R::Audience,
        ),
    ] {
        assert_eq!(rejection(&auth, &token).await, expected, "{name}");
    }
    for token in [
        rs(with(claims(), "aud", json!("shop-app"))),
        rs(with(claims(), "aud", json!(["x", "shop-web"]))),
        rs(with(claims(), "client_id", json!("shop-web"))),
    ] {
        assert!(auth.authenticate(&bearer(&token)).await.is_ok());
    }
    // Without JWT_AUDIENCE, aud is not checked.
    let open = authenticator(&[]).await;
    assert!(
        open.authenticate(&bearer(&rs(with(claims(), "aud", json!("anything")))))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn hs256_is_considered_only_with_a_secret() {
    let secret = "0123456789abcdef0123456789abcdef";
    let token = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(secret.as_bytes()).expect("a non-empty secret"),
        json!({"alg": "HS256"}),
        claims(),
    );
    let without_secret = authenticator(&[]).await;
    assert_eq!(
        rejection(&without_secret, &token).await,
        Rejection::Algorithm
    );
    let with_secret = authenticator(&[("JWT_HS256_SECRET", secret)]).await;
    assert_eq!(
        with_secret
            .authenticate(&bearer(&token))
            .await
            .map(|c| c.user().to_string()),
        Ok("alice".to_owned())
    );
    let confused = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(fixture("rsa-a.pub.pem").as_bytes()).expect("a non-empty secret"),
        json!({"alg": "HS256"}),
        claims(),
    );
    assert_eq!(
        rejection(&with_secret, &confused).await,
        Rejection::Signature
    );
}

#[tokio::test]
async fn valid_tokens_name_the_user_and_the_admin_role() {
    let auth = authenticator(&[]).await;
    let user = auth
        .authenticate(&bearer(&rs(claims())))
        .await
        .expect("a valid RS256 token");
    assert_eq!((user.user().as_str(), user.is_admin()), ("alice", false));
    let es = sign(
        Algorithm::ES256,
        &ec("ec-a"),
        es_header("ec-a"),
        with(claims(), "cognito:groups", json!(["staff", "admin"])),
    );
    assert!(
        auth.authenticate(&bearer(&es))
            .await
            .expect("a valid ES256 token")
            .is_admin()
    );
    let scoped = rs(with(claims(), "scope", json!("openid shop/admin")));
    assert!(auth.authenticate_admin(&bearer(&scoped)).await.is_ok());
    let near_scope = rs(with(
        claims(),
        "scope",
        json!("shop/administrator shop/admin2"),
    ));
    assert_eq!(
        auth.authenticate_admin(&bearer(&near_scope)).await,
        Err(AuthError::NotAdmin)
    );
    // Within the leeway, and without the optional claims.
    let lenient = rs(json!({"iss": ISS, "sub": "bob", "exp": now() - 10}));
    assert!(auth.authenticate(&bearer(&lenient)).await.is_ok());
    // The scheme is case-insensitive (RFC 9110 §11.1).
    let mut lower = HeaderMap::new();
    lower.insert(
        "authorization",
        HeaderValue::from_str(&format!("bearer {}", rs(claims()))).expect("header"),
    );
    assert!(auth.authenticate(&lower).await.is_ok());
}

/// With issuers that grant users any scope they ask for, the scope path would make every user an
/// admin: an empty `ADMIN_SCOPE` (or `ADMIN_GROUP`) turns that path off.
#[tokio::test]
async fn an_empty_admin_scope_or_group_makes_no_admin() {
    let scoped = rs(with(claims(), "scope", json!("openid shop/admin")));
    let grouped = rs(with(claims(), "cognito:groups", json!(["admin"])));
    let auth = authenticator(&[("ADMIN_SCOPE", "")]).await;
    assert_eq!(
        auth.authenticate_admin(&bearer(&scoped)).await,
        Err(AuthError::NotAdmin)
    );
    assert!(auth.authenticate_admin(&bearer(&grouped)).await.is_ok());
    let auth = authenticator(&[("ADMIN_GROUP", "")]).await;
    assert_eq!(
        auth.authenticate_admin(&bearer(&grouped)).await,
        Err(AuthError::NotAdmin)
    );
    assert!(auth.authenticate_admin(&bearer(&scoped)).await.is_ok());
    let auth = authenticator(&[("ADMIN_GROUP", ""), ("ADMIN_SCOPE", "")]).await;
    for token in [&scoped, &grouped] {
        assert_eq!(
            auth.authenticate_admin(&bearer(token)).await,
            Err(AuthError::NotAdmin)
        );
    }
}

#[tokio::test]
async fn missing_or_doubled_credentials() {
    let auth = authenticator(&[]).await;
    assert_eq!(
        auth.authenticate(&HeaderMap::new()).await,
        Err(AuthError::Missing)
    );
    let mut basic = HeaderMap::new();
    basic.insert(
        "authorization",
        HeaderValue::from_static("Basic YWxpY2U6c2VjcmV0"),
    );
    assert_eq!(auth.authenticate(&basic).await, Err(AuthError::Missing));
    let mut twice = bearer(&rs(claims()));
    twice.append(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {}", rs(claims()))).expect("header"),
    );
    assert_eq!(
        auth.authenticate(&twice).await,
        Err(AuthError::Invalid(Rejection::Malformed))
    );
    let response = shared::http::problem_response(&ApiError::from(AuthError::Missing));
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
}

// ----- the key cache against a real HTTP key set -----

#[derive(Clone)]
enum Serve {
    Keys(String),
    Status(u16),
    RedirectTo(String),
    Hang,
}

/// A key set server on 127.0.0.1:0 whose answer a test can change, counting requests.
struct KeyServer {
    url: String,
    mode: Arc<std::sync::Mutex<Serve>>,
    hits: Arc<AtomicUsize>,
}

impl KeyServer {
    async fn start(mode: Serve) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/jwks.json", listener.local_addr().expect("addr"));
        let mode = Arc::new(std::sync::Mutex::new(mode));
        let hits = Arc::new(AtomicUsize::new(0));
        let (m, h) = (mode.clone(), hits.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (m, h) = (m.clone(), h.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |_req| {
                        let (m, h) = (m.clone(), h.clone());
                        async move {
                            h.fetch_add(1, Ordering::SeqCst);
                            let mode = m.lock().expect("lock").clone();
                            let mut response = hyper::Response::new(http_body_util::Full::new(
                                hyper::body::Bytes::new(),
                            ));
                            match mode {
                                Serve::Keys(body) => {
                                    *response.body_mut() = http_body_util::Full::new(body.into())
                                }
                                Serve::Status(code) => {
                                    *response.status_mut() =
                                        hyper::StatusCode::from_u16(code).expect("status")
                                }
                                Serve::RedirectTo(to) => {
                                    *response.status_mut() = hyper::StatusCode::FOUND;
                                    response.headers_mut().insert(
                                        "location",
                                        HeaderValue::from_str(&to).expect("location"),
                                    );
                                }
                                Serve::Hang => std::future::pending::<()>().await,
                            }
                            Ok::<_, std::convert::Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { url, mode, hits }
    }

    fn set(&self, mode: Serve) {
        *self.mode.lock().expect("lock") = mode;
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn from_url(url: &str, refetch: Duration) -> Arc<Authenticator> {
    let config = AuthConfig::from_lookup(|name| match name {
        "JWT_ISSUER" => Some(ISS.to_owned()),
        "JWKS_URL" => Some(url.to_owned()),
        _ => None,
    })
    .expect("valid settings")
    .with_cache_timing(refetch, Duration::from_millis(500));
    Authenticator::new(config).await.expect("starts")
}

fn rsa_b_token() -> String {
    sign(
        Algorithm::RS256,
        &rsa("rsa-b"),
        rs_header("rsa-b"),
        claims(),
    )
}

#[tokio::test]
async fn the_key_set_is_fetched_once_at_start_and_a_rotation_is_picked_up() {
    let server = KeyServer::start(Serve::Keys(jwks(&["rsa-a"]))).await;
    let auth = from_url(&server.url, Duration::from_millis(300)).await;
    assert_eq!(server.hits(), 1, "fetched during init");
    for _ in 0..20 {
        assert!(auth.authenticate(&bearer(&rs(claims()))).await.is_ok());
    }
    assert_eq!(server.hits(), 1, "known keys need no fetch");
    // The issuer rotates to rsa-b. The first token with the new kid, once the window allows a
    // fetch, loads the new set.
    server.set(Serve::Keys(jwks(&["rsa-a", "rsa-b"])));
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert!(
        auth.authenticate(&bearer(&rsa_b_token())).await.is_ok(),
        "rotated key accepted"
    );
    assert_eq!(server.hits(), 2);
}

/// A key withdrawn from the issuer's set stops verifying once the cached set is older than its
/// maximum age, in a warm process; while the issuer is down, the cached keys keep working.
#[tokio::test]
async fn a_withdrawn_key_stops_verifying_after_the_max_age() {
    let max_age = Duration::from_millis(400);
    let server = KeyServer::start(Serve::Keys(jwks(&["rsa-a", "rsa-b"]))).await;
    let config = AuthConfig::from_lookup(|name| match name {
        "JWT_ISSUER" => Some(ISS.to_owned()),
        "JWKS_URL" => Some(server.url.clone()),
        _ => None,
    })
    .expect("valid settings")
    .with_cache_timing(Duration::from_millis(100), Duration::from_millis(500))
    .with_max_age(max_age);
    let auth = Authenticator::new(config).await.expect("starts");
    assert!(auth.authenticate(&bearer(&rs(claims()))).await.is_ok());
    assert!(auth.authenticate(&bearer(&rsa_b_token())).await.is_ok());
    let fetched = server.hits();
    // The issuer goes down: past the max age the refresh fails, and the cached keys still verify.
    server.set(Serve::Status(503));
    tokio::time::sleep(max_age + Duration::from_millis(100)).await;
    assert!(
        auth.authenticate(&bearer(&rs(claims()))).await.is_ok(),
        "an issuer outage must not fail valid tokens"
    );
    assert!(server.hits() > fetched, "the expired set was fetched again");
    // The issuer is back, without rsa-a: the next request reloads the expired set, and rsa-a is
    // refused from then on.
    server.set(Serve::Keys(jwks(&["rsa-b"])));
    tokio::time::sleep(max_age + Duration::from_millis(100)).await;
    assert_eq!(
        auth.authenticate(&bearer(&rs(claims()))).await,
        Err(AuthError::Invalid(Rejection::UnknownKey)),
        "the withdrawn key no longer verifies"
    );
    assert!(auth.authenticate(&bearer(&rsa_b_token())).await.is_ok());
}

#[tokio::test]
async fn an_unknown_kid_flood_fetches_at_most_once_per_window() {
    let window = Duration::from_secs(2);
    let server = KeyServer::start(Serve::Keys(jwks(&["rsa-a"]))).await;
    let auth = from_url(&server.url, window).await;
    // Tokens are signed up front, so the flood itself takes milliseconds.
    let forged = |prefix: &str, n: usize| -> Vec<String> {
        (0..n)
            .map(|i| {
                sign(
                    Algorithm::RS256,
                    &rsa("rsa-untrusted"),
                    rs_header(&format!("{prefix}-{i}")),
                    claims(),
                )
            })
            .collect()
    };
    let (flood, more) = (forged("random", 200), forged("again", 50));
    tokio::time::sleep(window + Duration::from_millis(100)).await; // let the window from init pass
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for token in flood {
        let auth = auth.clone();
        tasks.push(tokio::spawn(async move {
            auth.authenticate(&bearer(&token)).await
        }));
    }
    for task in tasks {
        assert_eq!(
            task.await.expect("ran"),
            Err(AuthError::Invalid(Rejection::UnknownKey))
        );
    }
    for token in more {
        assert_eq!(
            auth.authenticate(&bearer(&token)).await,
            Err(AuthError::Invalid(Rejection::UnknownKey))
        );
    }
    // One fetch at init, then at most one per window that the flood spanned (on a loaded machine
    // the flood may outlast a window; the bound still holds).
    let windows = 1 + (started.elapsed().as_millis() / window.as_millis()) as usize;
    assert!(
        server.hits() >= 2,
        "the first miss after the window fetches"
    );
    assert!(
        server.hits() <= 1 + windows,
        "{} fetches for {windows} window(s)",
        server.hits()
    );
}

#[tokio::test]
async fn an_issuer_down_at_cold_start_means_503_then_recovery() {
    let server = KeyServer::start(Serve::Status(503)).await;
    let auth = from_url(&server.url, Duration::from_millis(300)).await;
    assert_eq!(server.hits(), 1);
    let first = auth.authenticate(&bearer(&rs(claims()))).await;
    assert_eq!(first, Err(AuthError::KeysUnavailable));
    assert_eq!(
        ApiError::from(AuthError::KeysUnavailable).status(),
        503,
        "retryable, never a 500"
    );
    server.set(Serve::Keys(jwks(&["rsa-a"])));
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert!(
        auth.authenticate(&bearer(&rs(claims()))).await.is_ok(),
        "recovers once the issuer is back"
    );
}

#[tokio::test]
async fn cached_keys_keep_working_while_the_issuer_is_down() {
    let server = KeyServer::start(Serve::Keys(jwks(&["rsa-a"]))).await;
    let auth = from_url(&server.url, Duration::from_millis(100)).await;
    for failure in [
        Serve::Status(500),
        Serve::Hang,
        Serve::Keys("{not json".into()),
        Serve::Keys(format!("{{\"keys\":[\"{}\"]}}", "x".repeat(300 * 1024))),
    ] {
        server.set(failure);
        tokio::time::sleep(Duration::from_millis(150)).await;
        // An unknown kid makes the cache try (and fail) to refresh ...
        assert_eq!(
            auth.authenticate(&bearer(&rsa_b_token())).await,
            Err(AuthError::Invalid(Rejection::UnknownKey))
        );
        // ... and the cached key still verifies.
        assert!(auth.authenticate(&bearer(&rs(claims()))).await.is_ok());
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let target = KeyServer::start(Serve::Keys(jwks(&["rsa-a"]))).await;
    let server = KeyServer::start(Serve::RedirectTo(target.url.clone())).await;
    let auth = from_url(&server.url, Duration::from_secs(60)).await;
    assert_eq!(
        auth.authenticate(&bearer(&rs(claims()))).await,
        Err(AuthError::KeysUnavailable)
    );
    assert_eq!(target.hits(), 0);
}

#[tokio::test]
async fn key_sets_keep_only_signing_keys_pinned_to_one_algorithm() {
    use shared::auth::keys::parse_key_set;
    let rsa_a: Value = serde_json::from_str(fixture("rsa-a.jwk.json")).expect("JWK");
    let ec_a: Value = serde_json::from_str(fixture("ec-a.jwk.json")).expect("JWK");
    let set = json!({"keys": [
        rsa_a,
        ec_a,
        with(rsa_a.clone(), "use", json!("enc")),
        with(with(rsa_a.clone(), "kid", json!("rs384")), "alg", json!("RS384")),
        without(with(rsa_a.clone(), "kid", json!("nokid")), "kid"),
        {"kty": "oct", "kid": "sym", "k": "c2VjcmV0"},
        {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        {"kty": "mystery", "kid": "m"},
        serde_json::from_str::<Value>(fixture("rsa-weak.jwk.json")).expect("JWK"),
    ]});
    let keys = parse_key_set(&set.to_string()).expect("two usable keys");
    let mut kids: Vec<&String> = keys.keys().collect();
    kids.sort();
    assert_eq!(kids, ["ec-a", "rsa-a"]);
    assert!(parse_key_set(r#"{"keys":[]}"#).is_err());
    assert!(parse_key_set("[]").is_err());
}

/// The claims as API Gateway's JWT authorizer passes them: every value a string.
fn gateway_claims(pairs: &[(&str, String)]) -> std::collections::HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

#[tokio::test]
async fn behind_the_authorizer_the_same_claim_rules_apply_to_the_gateways_claims() {
    let auth = authenticator(&[("AUTH_MODE", "authorizer"), ("JWT_AUDIENCE", "shop-client")]).await;
    let now = get_current_timestamp();
    let base = |extra: &[(&str, String)]| {
        let mut claims = vec![
            ("iss", ISS.to_owned()),
            ("sub", "user-1".to_owned()),
            ("client_id", "shop-client".to_owned()),
            ("token_use", "access".to_owned()),
            ("exp", (now + 300).to_string()),
            ("iat", now.to_string()),
        ];
        for (k, v) in extra {
            claims.retain(|(name, _)| name != k);
            claims.push((k, v.clone()));
        }
        gateway_claims(&claims)
    };
    let caller = auth.authorized(Some(&base(&[]))).expect("valid claims");
    assert_eq!(caller.user().as_str(), "user-1");
    assert!(!caller.is_admin());
    // Arrays arrive as `[a b]`: the admin group is read from that form.
    let admin = auth
        .authorized(Some(&base(&[(
            "cognito:groups",
            "[shoppers admin]".into(),
        )])))
        .expect("valid claims");
    assert!(admin.is_admin());
    let scoped = auth
        .authorized(Some(&base(&[("scope", "shop/read shop/admin".into())])))
        .expect("valid claims");
    assert!(scoped.is_admin());
    let not_admin = auth
        .authorized(Some(&base(&[(
            "cognito:groups",
            "[administrators]".into(),
        )])))
        .expect("valid claims");
    assert!(!not_admin.is_admin());
    // Every rule a verified token meets, met here too.
    for (claims, expected) in [
        (
            base(&[("iss", "https://other.example".into())]),
            Rejection::Issuer,
        ),
        (
            base(&[("client_id", "another-client".into())]),
            Rejection::Audience,
        ),
        (base(&[("token_use", "id".into())]), Rejection::TokenUse),
        (base(&[("sub", String::new())]), Rejection::Subject),
        (
            base(&[("exp", (now - 3600).to_string())]),
            Rejection::Expired,
        ),
        (base(&[("exp", "soon".into())]), Rejection::Claims),
        (
            base(&[("nbf", (now + 3600).to_string())]),
            Rejection::NotYetValid,
        ),
        (
            base(&[("iat", (now + 3600).to_string())]),
            Rejection::IssuedInFuture,
        ),
    ] {
        assert_eq!(
            auth.authorized(Some(&claims)),
            Err(AuthError::Invalid(expected)),
            "{claims:?}"
        );
    }
    // An expiry beyond any real one: no overflow, and accepted, as a verified token is.
    assert!(
        auth.authorized(Some(&base(&[("exp", u64::MAX.to_string())])))
            .is_ok()
    );
    // No claims: the route was reached without the gateway's authorizer.
    assert_eq!(auth.authorized(None), Err(AuthError::Missing));
    assert_eq!(
        auth.authorized(Some(&gateway_claims(&[]))),
        Err(AuthError::Missing)
    );
    // A bearer token is not what this mode reads: without claims it is a 401 however good.
    let token = rs(claims());
    assert_eq!(
        auth.caller(&bearer(&token), None).await,
        Err(AuthError::Missing)
    );
}

#[tokio::test]
async fn behind_the_authorizer_init_fetches_no_key_set() {
    let server = KeyServer::start(Serve::Keys(jwks(&["rsa-a"]))).await;
    let config = AuthConfig::from_lookup(|name| match name {
        "JWT_ISSUER" => Some(ISS.to_owned()),
        "JWKS_URL" => Some(server.url.clone()),
        "AUTH_MODE" => Some("authorizer".to_owned()),
        _ => None,
    })
    .expect("valid settings");
    Authenticator::new(config).await.expect("starts");
    assert_eq!(server.hits(), 0, "no key set fetched during init");
}

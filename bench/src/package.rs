//! What the bench and the artifact check share: the environment every contestant gets, the
//! check of an answer against its workload, and a binary's deployment sizes.

use crate::workload::{BoxError, TABLE, storage_floor_key};
use harness::runtime::Outcome;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

/// The settings every process gets: the engine, the table, throwaway credentials, and the
/// issuer's key set by URL, as deployed (so init includes fetching it), unless `extra` pins it
/// (`JWKS_JSON`: then no URL, as the template does); over TLS, the one PEM file of the run's CA
/// for both.
pub fn environment(
    endpoint: &str,
    jwks_url: &str,
    ca_bundle: Option<&Path>,
    extra: &[(String, String)],
) -> Arc<Vec<(String, String)>> {
    let (pk, sk) = storage_floor_key();
    let bundle = ca_bundle.map(|p| p.display().to_string());
    Arc::new(
        [
            ("TABLE_NAME", TABLE.to_owned()),
            ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.to_owned()),
            ("AWS_REGION", "eu-west-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "bench".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "bench".to_owned()),
            // Logged as deployed: JSON at INFO, one line and one EMF document per request (the
            // harness sends stdout nowhere, but every line is still formatted and written).
            ("AWS_LAMBDA_LOG_FORMAT", "JSON".to_owned()),
            ("AWS_LAMBDA_LOG_LEVEL", "INFO".to_owned()),
            // INFO as above, plus init's profile: one DEBUG line before the first poll, which
            // the bench reads from the instance's log (`shared::profile`).
            (
                "RUST_LOG",
                "info,aws_smithy_runtime=error,aws_config=error,shared::profile=debug".to_owned(),
            ),
            ("JWT_ISSUER", devkit::tokens::DEV_ISSUER.to_owned()),
            ("JWKS_URL", jwks_url.to_owned()),
            ("KEY_PK", pk),
            ("KEY_SK", sk),
        ]
        .into_iter()
        .chain(
            bundle
                .into_iter()
                .flat_map(|b| [("AWS_CA_BUNDLE", b.clone()), ("JWKS_CA_BUNDLE", b)]),
        )
        .map(|(k, v)| (k.to_owned(), v))
        .filter(|(k, _)| k != "JWKS_URL" || !extra.iter().any(|(e, _)| e == "JWKS_JSON"))
        .chain(extra.iter().cloned())
        .collect(),
    )
}

/// One-way network latency in front of each service the functions call (zero: loopback's).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Delays {
    pub dynamodb: std::time::Duration,
    pub issuer: std::time::Duration,
}

/// [`environment`] over TLS, as on AWS: TLS terminators with the run's CA in front of the engine
/// at `engine` and the key set at `jwks`, trusted through the CA's one PEM file, each with its
/// one-way latency of `delays`.
pub async fn tls_environment(
    tls: &harness::tls::TestCa,
    engine: std::net::SocketAddr,
    jwks: std::net::SocketAddr,
    delays: Delays,
    extra: &[(String, String)],
) -> std::io::Result<Arc<Vec<(String, String)>>> {
    let dynamodb = tls.terminate_delayed(engine, delays.dynamodb).await?;
    let issuer = tls.terminate_delayed(jwks, delays.issuer).await?;
    Ok(environment(
        &format!("https://{dynamodb}"),
        &format!("https://{issuer}/.well-known/jwks.json"),
        Some(tls.bundle()),
        extra,
    ))
}

/// Whether an invocation's outcome is the documented answer: `expect`, and `body` in its body.
pub fn check(
    name: &str,
    outcome: &Outcome,
    expect: u16,
    body: Option<&str>,
    log: &str,
) -> Result<(), BoxError> {
    match outcome {
        Outcome::Response(doc)
            if doc["statusCode"].as_u64() == Some(u64::from(expect))
                && body.is_none_or(|b| doc["body"].as_str().is_some_and(|t| t.contains(b))) =>
        {
            Ok(())
        }
        Outcome::Response(doc) => Err(format!(
            "{name} answered {} instead of {expect}{}: {}",
            doc["statusCode"],
            body.map(|b| format!(" with {b}")).unwrap_or_default(),
            doc["body"]
        )
        .into()),
        Outcome::Failed(why) => Err(format!("{name} failed ({why}); see {log}").into()),
    }
}

/// The stripped binary's size and the size of its deployment zip (`bootstrap`, deflated at
/// the default level, as `cargo lambda build --output-format zip` packs it).
pub fn sizes(binary: &Path) -> Result<(u64, u64), BoxError> {
    use zip::write::SimpleFileOptions;
    let bytes = std::fs::read(binary).map_err(|e| {
        format!(
            "read {}: {e}; build it with `cargo build --release` or drop --no-build",
            binary.display()
        )
    })?;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    zip.start_file(
        "bootstrap",
        SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o755),
    )?;
    zip.write_all(&bytes)?;
    zip.finish()?;
    Ok((bytes.len() as u64, out.into_inner().len() as u64))
}

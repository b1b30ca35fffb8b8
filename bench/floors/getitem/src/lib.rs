//! What the storage floors share: a client built from the environment the way the functions build
//! theirs, and the timed loop that prints one JSON line.
//!
//! Settings: `TABLE_NAME` and the standard AWS ones (region, credentials,
//! `AWS_ENDPOINT_URL_DYNAMODB`). With `AWS_CA_BUNDLE`, a floor trusts exactly that PEM file's
//! authorities, as the functions do, so over TLS its first call pays the same handshake (and the
//! same first draw of randomness).

use std::future::Future;
use std::time::Instant;

/// A required setting, or exit 2 naming it.
pub fn setting(floor: &str, name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        eprintln!("{floor}: set {name}");
        std::process::exit(2)
    })
}

/// The positional argument `n` as a number, or exit 2 with `usage`.
pub fn arg(n: usize, usage: &str) -> usize {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| {
            eprintln!("usage: {usage}");
            std::process::exit(2)
        })
}

/// The SDK client, from the environment.
pub async fn client(floor: &str) -> aws_sdk_dynamodb::Client {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Ok(path) = std::env::var("AWS_CA_BUNDLE") {
        use aws_smithy_http_client::tls::{
            self, TlsContext, TrustStore, rustls_provider::CryptoMode,
        };
        let pem = std::fs::read(&path).unwrap_or_else(|e| {
            eprintln!("{floor}: cannot read AWS_CA_BUNDLE {path}: {e}");
            std::process::exit(2)
        });
        let context = TlsContext::builder()
            .with_trust_store(TrustStore::empty().with_pem_certificate(pem))
            .build()
            .unwrap_or_else(|e| {
                eprintln!("{floor}: AWS_CA_BUNDLE {path}: {e}");
                std::process::exit(2)
            });
        loader = loader.http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
                .tls_context(context)
                .build_https(),
        );
    }
    aws_sdk_dynamodb::Client::new(&loader.load().await)
}

/// Makes `count + 1` calls one at a time, the first opening the connection, and prints
/// `{"first_us": <first call>, "samples_us": [<count warm calls>], "cpu_us": <CPU time per warm
/// call>}`. A call that fails ends the process with status 1 and its error.
pub async fn time<F, Fut>(floor: &str, count: usize, mut call: F)
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let mut samples = Vec::with_capacity(count + 1);
    let mut cpu_before = 0.0;
    for i in 0..=count {
        if i == 1 {
            cpu_before = cpu_seconds();
        }
        let started = Instant::now();
        if let Err(err) = call(i).await {
            eprintln!("{floor}: {err}");
            std::process::exit(1)
        }
        samples.push(started.elapsed().as_micros() as u64);
    }
    let cpu_us = (cpu_seconds() - cpu_before) * 1e6 / count.max(1) as f64;
    let first = samples.remove(0);
    println!(
        "{}",
        serde_json::json!({ "first_us": first, "samples_us": samples, "cpu_us": cpu_us })
    );
}

/// CPU time (user + system) of this process so far, in seconds.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct it is given and nothing else.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

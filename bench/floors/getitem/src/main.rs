//! The storage floor: the same strongly consistent `GetItem` that `GET /products/{id}` sends,
//! with a client built from the environment the way the functions build theirs, in a bare loop.
//!
//! `floor-getitem <count>` with `TABLE_NAME`, `KEY_PK`, `KEY_SK` and the standard AWS settings
//! (region, credentials, `AWS_ENDPOINT_URL_DYNAMODB`) set. With `AWS_CA_BUNDLE`, it trusts exactly
//! that PEM file's authorities, as the functions do, so over TLS its first call pays the same
//! handshake (and the same first draw of randomness). Prints one JSON line:
//! `{"first_us": <first call, opening the connection>, "samples_us": [<count warm calls>],
//! "cpu_us": <CPU time per warm call>}`.

use aws_sdk_dynamodb::types::AttributeValue;
use std::time::Instant;

fn setting(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        eprintln!("floor-getitem: set {name}");
        std::process::exit(2)
    })
}

#[tokio::main]
async fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| {
            eprintln!("usage: floor-getitem <count>");
            std::process::exit(2)
        });
    let (table, pk, sk) = (setting("TABLE_NAME"), setting("KEY_PK"), setting("KEY_SK"));
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Ok(path) = std::env::var("AWS_CA_BUNDLE") {
        use aws_smithy_http_client::tls::{
            self, TlsContext, TrustStore, rustls_provider::CryptoMode,
        };
        let pem = std::fs::read(&path).unwrap_or_else(|e| {
            eprintln!("floor-getitem: cannot read AWS_CA_BUNDLE {path}: {e}");
            std::process::exit(2)
        });
        let context = TlsContext::builder()
            .with_trust_store(TrustStore::empty().with_pem_certificate(pem))
            .build()
            .unwrap_or_else(|e| {
                eprintln!("floor-getitem: AWS_CA_BUNDLE {path}: {e}");
                std::process::exit(2)
            });
        loader = loader.http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
                .tls_context(context)
                .build_https(),
        );
    }
    let sdk = loader.load().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let get = || {
        client
            .get_item()
            .table_name(&table)
            .key("PK", AttributeValue::S(pk.clone()))
            .key("SK", AttributeValue::S(sk.clone()))
            .consistent_read(true)
            .send()
    };
    let mut samples = Vec::with_capacity(count + 1);
    let mut cpu_before = 0.0;
    for i in 0..=count {
        if i == 1 {
            cpu_before = cpu_seconds();
        }
        let started = Instant::now();
        match get().await {
            Ok(out) if out.item.is_some() => {}
            Ok(_) => {
                eprintln!("floor-getitem: the item {pk}/{sk} is missing from {table}");
                std::process::exit(1)
            }
            Err(err) => {
                eprintln!("floor-getitem: GetItem failed: {err:?}");
                std::process::exit(1)
            }
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

//! Logging set-up for every binary, called first thing in `main`.
//!
//! Honours Lambda's advanced logging controls: `AWS_LAMBDA_LOG_FORMAT=JSON` switches to one JSON
//! object per line, and `AWS_LAMBDA_LOG_LEVEL` (or `RUST_LOG`, which wins) sets the level. No
//! timestamps in text mode: CloudWatch stamps every line already.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .unwrap_or_else(|_| "INFO".to_owned())
        .to_ascii_lowercase();
    // The SDK logs every 4xx from DynamoDB at WARN, including the conditional-check failures that
    // are normal outcomes here (412s); real failures are logged by `http::finish` with their cause.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!("{level},aws_smithy_runtime=error,aws_config=error"))
    });
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(false);
    // `try_init` so a second call (tests, the local server hosting every handler) is harmless.
    let _ = if json {
        builder
            .json()
            .with_current_span(false)
            .without_time()
            .try_init()
    } else {
        builder.without_time().try_init()
    };
}

/// Logs why the process cannot start and exits with status 1. For `main`, before the handler loop:
/// on Lambda this surfaces as an init error whose log line says what to set.
pub fn exit_at_startup(function: &str, err: &dyn std::error::Error) -> ! {
    tracing::error!(error = %crate::http::cause_chain(err), "{function} cannot start");
    eprintln!("{function} cannot start: {}", crate::http::cause_chain(err));
    std::process::exit(1)
}

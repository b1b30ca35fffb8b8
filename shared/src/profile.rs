//! The init profile: where a cold start's milliseconds go, phase by phase, once per process.
//!
//! [`crate::lambda::run`] calls [`start`] first thing, each phase of init is timed where it
//! happens ([`time`], [`time_async`]), and [`finish`] returns the profile when the function is
//! about to poll for its first event; `run` logs it as one line at DEBUG (target
//! `shared::profile`, message `init profile`), so it costs a deployed function nothing unless
//! asked for: `RUST_LOG=info,shared::profile=debug`. The bench asks, and prints the phases in
//! `BENCHMARKS.md`.
//!
//! A phase is recorded with its start, so the two that overlap (the DynamoDB connection and the
//! key set's fetch, concurrent by design) show as overlapping. Outside `run` (tests, the local
//! server) nothing is started, and timing a phase records nothing.

use std::fmt::Write as _;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The phases of init, in the order they start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The async runtime (one thread).
    Runtime,
    /// Logging set up: the filter, the subscriber.
    Telemetry,
    /// Settings read and checked (`TABLE_NAME`, …).
    Config,
    /// The trusted authorities decoded and the TLS settings built (`AWS_CA_BUNDLE` or Amazon's
    /// roots).
    TlsContext,
    /// DynamoDB's endpoint resolved from the region by the SDK's rules, for the connection.
    Endpoint,
    /// The SDK client built from the environment (region, credentials, endpoint, timeouts).
    SdkClient,
    /// The DynamoDB connection opened ahead of the first call (TCP, TLS; no request).
    Connection,
    /// The token settings read and the issuer's key set fetched (protected functions only).
    KeySet,
    /// The metrics recorder.
    Metrics,
}

impl Phase {
    /// Its name in the log line and the bench's report.
    pub fn name(self) -> &'static str {
        match self {
            Self::Runtime => "runtime",
            Self::Telemetry => "telemetry",
            Self::Config => "config",
            Self::TlsContext => "tls_context",
            Self::Endpoint => "endpoint",
            Self::SdkClient => "sdk_client",
            Self::Connection => "connection",
            Self::KeySet => "key_set",
            Self::Metrics => "metrics",
        }
    }
}

/// One timed phase: when it started (from [`start`]) and how long it took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub phase: Phase,
    pub from: Duration,
    pub took: Duration,
}

struct Recording {
    origin: Instant,
    spans: Vec<Span>,
}

/// `None` until [`start`], and again after [`finish`]: only one init per process is profiled.
static RECORDING: Mutex<Option<Recording>> = Mutex::new(None);

fn with<T>(f: impl FnOnce(&mut Option<Recording>) -> T) -> T {
    // A poisoned lock only means a panic elsewhere mid-push: the spans are still whole.
    let mut guard = RECORDING.lock().unwrap_or_else(|p| p.into_inner());
    f(&mut guard)
}

/// Starts the profile: phases are timed from now.
pub fn start() {
    with(|r| {
        *r = Some(Recording {
            origin: Instant::now(),
            spans: Vec::with_capacity(8),
        })
    });
}

fn record(phase: Phase, started: Instant) {
    let took = started.elapsed();
    with(|r| {
        if let Some(r) = r {
            let from = started.saturating_duration_since(r.origin);
            r.spans.push(Span { phase, from, took });
        }
    });
}

/// Runs `f` as `phase`.
pub fn time<T>(phase: Phase, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    record(phase, started);
    out
}

/// Awaits `fut` as `phase`: its span runs from the first poll to the output, including any time
/// the thread spent on a concurrent phase meanwhile.
pub async fn time_async<F: Future>(phase: Phase, fut: F) -> F::Output {
    let started = Instant::now();
    let out = fut.await;
    record(phase, started);
    out
}

/// The profile so far, with the time since [`start`]; ends it. `None` if it was never started.
pub fn finish() -> Option<(Vec<Span>, Duration)> {
    with(|r| r.take()).map(|r| (r.spans, r.origin.elapsed()))
}

/// The spans as the log line carries them: `name=took@from` in microseconds, in start order,
/// e.g. `runtime=62@0 telemetry=120@63 …`.
pub fn format(spans: &[Span]) -> String {
    let mut sorted = spans.to_vec();
    sorted.sort_by_key(|s| s.from);
    let mut out = String::new();
    for s in sorted {
        let _ = write!(
            out,
            "{}{}={}@{}",
            if out.is_empty() { "" } else { " " },
            s.phase.name(),
            s.took.as_micros(),
            s.from.as_micros()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_recorded_only_between_start_and_finish_and_formatted_in_start_order() {
        // Before `start`: nothing recorded, the value passes through.
        assert_eq!(time(Phase::Config, || 7), 7);
        assert!(finish().is_none());
        start();
        time(Phase::Runtime, || {
            std::thread::sleep(Duration::from_millis(2))
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        runtime.block_on(time_async(Phase::KeySet, async {}));
        let (spans, total) = finish().expect("started");
        assert!(finish().is_none(), "a profile is reported once");
        assert_eq!(
            spans.iter().map(|s| s.phase).collect::<Vec<_>>(),
            [Phase::Runtime, Phase::KeySet]
        );
        assert!(spans[0].took >= Duration::from_millis(2));
        assert!(spans[1].from >= spans[0].took && total >= spans[1].from);
        let line = format(&[spans[1], spans[0]]);
        assert!(line.starts_with("runtime="), "{line}");
        assert!(line.contains(" key_set="), "{line}");
        time(Phase::Config, || ());
        assert!(finish().is_none(), "nothing after finish");
    }
}

//! What one bench run measured (`Results`, written as JSON), the ratios against the floors, and
//! the Markdown report (`BENCHMARKS.md`).

use crate::stats::Spread;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Init may take at most this many times the runtime floor's init.
pub const INIT_TARGET: f64 = 1.3;
/// A single-read endpoint's warm p50 may take at most this many times the floors' sum.
pub const WARM_TARGET: f64 = 1.15;
/// Peak resident memory of any function under the bench, in MiB.
pub const RSS_TARGET_MIB: f64 = 32.0;
/// The single-read endpoints the warm-latency target applies to.
pub const SINGLE_READ: &[&str] = &["get-product"];
/// A function's cold start (init + first invocation) over TLS may take at most this many times
/// its own cold start over plain HTTP, measured in the same round.
pub const TLS_COLD_TARGET: f64 = 1.3;
/// … and at most this many times the floor pair's (hello-world init + a bare `GetItem` that
/// connects over TLS).
pub const TLS_FLOOR_TARGET: f64 = 1.3;

pub const RUNTIME_FLOOR: &str = "floor-hello";
pub const STORAGE_FLOOR: &str = "floor-getitem";

/// What a contestant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// One of the shop's functions, invoked with its own `events/` request.
    Function,
    /// The hello-world `lambda_http` binary.
    RuntimeFloor,
    /// The bare `GetItem` loop (no Lambda runtime; latencies are the SDK call alone).
    StorageFloor,
}

/// How the contestants reach DynamoDB and the issuer's key set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    /// Plain HTTP on loopback: a floor, not what Lambda pays.
    #[default]
    Plain,
    /// TLS, through the harness's terminator and a throwaway CA trusted by one PEM file, as on
    /// AWS (where every byte to DynamoDB and to the issuer is TLS).
    Tls,
}

impl Transport {
    pub fn label(self) -> &'static str {
        match self {
            Self::Plain => "plain HTTP",
            Self::Tls => "TLS",
        }
    }
}

/// One contestant's figures in one round. `None` where a figure does not apply (the storage
/// floor has no init as a function and is not a Lambda process).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Round {
    /// Process start → first poll of the Runtime API's `next`.
    pub init_ms: Option<f64>,
    /// The first invocation after init (for the storage floor: the first call, which connects).
    pub first_ms: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Peak resident set (VmHWM) after the warm invocations.
    pub rss_mib: Option<f64>,
    /// CPU time (user + system) of the contestant's process per warm invocation: what the
    /// latency is made of, apart from waiting for the other processes.
    #[serde(default)]
    pub cpu_us: Option<f64>,
    /// Invocations timed warm.
    pub samples: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contestant {
    pub name: String,
    pub kind: Kind,
    /// Absent in results written before TLS was measured: those were plain HTTP.
    #[serde(default)]
    pub transport: Transport,
    /// `METHOD /path` for functions.
    pub route: Option<String>,
    /// What each warm invocation does, when the bench resets state between them.
    pub workload: String,
    /// The stripped release binary, as deployed.
    pub binary_bytes: u64,
    /// The deployment zip (`bootstrap`, deflated).
    pub zip_bytes: u64,
    pub rounds: Vec<Round>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub date: String,
    pub commit: String,
    pub machine: String,
    pub command: String,
    pub rounds: usize,
    pub invocations: usize,
}

/// Everything one run measured: the raw figures of every round, and the summary derived from
/// them (kept in the file so a reader needs no code to use it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub meta: Meta,
    pub contestants: Vec<Contestant>,
    pub summary: Vec<Summary>,
    /// The first draw of randomness in a fresh process (`floor-random`), µs, every probe run.
    #[serde(default)]
    pub first_random_us: Vec<f64>,
}

impl Results {
    /// The results of a run, with the summary derived from the contestants' rounds.
    pub fn new(meta: Meta, contestants: Vec<Contestant>, first_random_us: Vec<f64>) -> Self {
        Self {
            summary: summarise(&contestants),
            meta,
            contestants,
            first_random_us,
        }
    }
}

/// Min/median/max over the rounds of every figure of one contestant, and its ratios to the
/// floors, each ratio taken within a round (side by side) before the spread is taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub name: String,
    #[serde(default)]
    pub transport: Transport,
    pub init_ms: Option<Spread>,
    pub first_ms: Option<Spread>,
    /// init + first invocation: what a cold request waits for.
    #[serde(default)]
    pub cold_ms: Option<Spread>,
    pub p50_us: Option<Spread>,
    pub p99_us: Option<Spread>,
    pub rss_mib: Option<Spread>,
    pub cpu_us: Option<Spread>,
    /// init ÷ the runtime floor's init.
    pub init_ratio: Option<Spread>,
    /// warm p50 ÷ (runtime floor p50 + storage floor p50).
    pub warm_ratio: Option<Spread>,
    /// TLS cold ÷ the same function's plain-HTTP cold (TLS contestants, when both ran).
    #[serde(default)]
    pub cold_vs_plain: Option<Spread>,
    /// cold ÷ (runtime floor init + storage floor first call), same transport.
    #[serde(default)]
    pub cold_vs_floors: Option<Spread>,
}

fn spread(rounds: &[Round], figure: impl Fn(&Round) -> Option<f64>) -> Option<Spread> {
    let values: Vec<f64> = rounds.iter().filter_map(figure).collect();
    // A figure missing from some rounds is not comparable across them.
    if values.len() != rounds.len() {
        return None;
    }
    Spread::of(&values)
}

fn ratios(a: &[Round], b: &[Round], f: impl Fn(&Round, &Round) -> Option<f64>) -> Option<Spread> {
    if a.len() != b.len() {
        return None;
    }
    let values: Option<Vec<f64>> = a.iter().zip(b).map(|(x, y)| f(x, y)).collect();
    Spread::of(&values?)
}

fn cold(r: &Round) -> Option<f64> {
    Some(r.init_ms? + r.first_ms)
}

/// Summaries of every contestant. Ratios need both floors present with as many rounds, of the
/// same transport.
pub fn summarise(contestants: &[Contestant]) -> Vec<Summary> {
    let find = |name: &str, transport: Transport| {
        contestants
            .iter()
            .find(|c| c.name == name && c.transport == transport)
    };
    contestants
        .iter()
        .map(|c| {
            let r = &c.rounds;
            let (hello, getitem) = (
                find(RUNTIME_FLOOR, c.transport),
                find(STORAGE_FLOOR, c.transport),
            );
            let cold_vs_plain = match (c.transport, find(&c.name, Transport::Plain)) {
                (Transport::Tls, Some(plain)) if c.kind == Kind::Function => {
                    ratios(r, &plain.rounds, |x, y| Some(cold(x)? / cold(y)?))
                }
                _ => None,
            };
            let cold_vs_floors = match (hello, getitem) {
                (Some(h), Some(g)) if c.kind == Kind::Function => {
                    let pair: Vec<Round> = h
                        .rounds
                        .iter()
                        .zip(&g.rounds)
                        .map(|(h, g)| Round {
                            init_ms: h.init_ms,
                            first_ms: g.first_ms,
                            ..Round::default()
                        })
                        .collect();
                    ratios(r, &pair, |x, y| Some(cold(x)? / cold(y)?))
                }
                _ => None,
            };
            let init_ratio =
                hello.and_then(|h| ratios(r, &h.rounds, |x, y| Some(x.init_ms? / y.init_ms?)));
            let warm_ratio = match (hello, getitem) {
                (Some(h), Some(g)) if c.kind == Kind::Function => {
                    let floor: Vec<Round> = h
                        .rounds
                        .iter()
                        .zip(&g.rounds)
                        .map(|(h, g)| Round {
                            p50_us: h.p50_us + g.p50_us,
                            ..Round::default()
                        })
                        .collect();
                    ratios(r, &floor, |x, y| Some(x.p50_us / y.p50_us))
                }
                _ => None,
            };
            Summary {
                name: c.name.clone(),
                transport: c.transport,
                init_ms: spread(r, |x| x.init_ms),
                first_ms: spread(r, |x| Some(x.first_ms)),
                cold_ms: spread(r, cold),
                p50_us: spread(r, |x| Some(x.p50_us)),
                p99_us: spread(r, |x| Some(x.p99_us)),
                rss_mib: spread(r, |x| x.rss_mib),
                cpu_us: spread(r, |x| x.cpu_us),
                init_ratio,
                warm_ratio,
                cold_vs_plain,
                cold_vs_floors,
            }
        })
        .collect()
}

/// One line per target: whether the run met it, and by how much.
pub fn verdicts(results: &Results) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    let both = results
        .contestants
        .iter()
        .any(|c| c.transport == Transport::Plain)
        && results
            .contestants
            .iter()
            .any(|c| c.transport == Transport::Tls);
    for (c, s) in results.contestants.iter().zip(&results.summary) {
        if c.kind != Kind::Function {
            continue;
        }
        // With both transports, each line names its own; alone, the run's header says it.
        let name = if both {
            format!("{} ({})", c.name, c.transport.label())
        } else {
            c.name.clone()
        };
        // The init target compares a function's init with a hello world's, neither making a TLS
        // connection: it applies to plain HTTP. Over TLS, the cold targets below apply.
        if c.transport == Transport::Plain
            && let Some(ratio) = s.init_ratio
        {
            out.push((
                ratio.median <= INIT_TARGET,
                format!(
                    "{name}: init {:.2}× the runtime floor (target ≤ {INIT_TARGET}×)",
                    ratio.median
                ),
            ));
        }
        if let Some(ratio) = s.cold_vs_plain {
            out.push((
                ratio.median <= TLS_COLD_TARGET,
                format!(
                    "{name}: cold (init + first) {:.2}× its own over plain HTTP (target ≤ {TLS_COLD_TARGET}×)",
                    ratio.median
                ),
            ));
        }
        if c.transport == Transport::Tls
            && let Some(ratio) = s.cold_vs_floors
        {
            out.push((
                ratio.median <= TLS_FLOOR_TARGET,
                format!(
                    "{name}: cold {:.2}× the floor pair's (hello init + a bare GetItem connecting over TLS; target ≤ {TLS_FLOOR_TARGET}×)",
                    ratio.median
                ),
            ));
        }
        if SINGLE_READ.contains(&c.name.as_str())
            && let Some(ratio) = s.warm_ratio
        {
            out.push((
                ratio.median <= WARM_TARGET,
                format!(
                    "{name}: warm p50 {:.2}× the floor sum (target ≤ {WARM_TARGET}×)",
                    ratio.median
                ),
            ));
        }
        if let Some(rss) = s.rss_mib {
            out.push((
                rss.max <= RSS_TARGET_MIB,
                format!(
                    "{name}: peak RSS {:.1} MiB at most (target ≤ {RSS_TARGET_MIB} MiB)",
                    rss.max
                ),
            ));
        }
    }
    out
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// `median (min–max)` with `digits` decimals; `–` when absent.
fn cell(spread: Option<Spread>, digits: usize) -> String {
    match spread {
        Some(s) => format!("{:.d$} ({:.d$}–{:.d$})", s.median, s.min, s.max, d = digits),
        None => "–".to_owned(),
    }
}

/// The arm64 deployment artifacts' sizes, from `cargo run -p bench --bin artifacts -- --record`
/// (`{commit, date, artifacts: [{function, binary_bytes, zip_bytes}]}`), as a section of
/// `BENCHMARKS.md`.
pub fn artifacts_section(json: &str, source: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(json).ok()?;
    let rows = doc["artifacts"].as_array()?.clone();
    let mut md = String::new();
    let _ = writeln!(md, "\n## arm64 deployment artifacts\n");
    let _ = writeln!(
        md,
        "Built by `cargo lambda build --release --arm64` at commit `{}` on {} (`.ci/run` checks \
         that `sam build` packages the same bytes), recorded in [`{source}`]({source}) by \
         `cargo run -p bench --bin artifacts -- --runner qemu-aarch64 … --record {source}`, which \
         also ran each once over TLS and checked its answer. Latency under emulation means \
         nothing and is not reported.\n",
        doc["commit"].as_str().unwrap_or("?"),
        doc["date"].as_str().unwrap_or("?"),
    );
    let _ = writeln!(md, "| function | binary MiB | zip MiB |");
    let _ = writeln!(md, "|---|---|---|");
    for row in rows {
        let _ = writeln!(
            md,
            "| {} | {:.2} | {:.2} |",
            row["function"].as_str()?,
            mib(row["binary_bytes"].as_u64()?),
            mib(row["zip_bytes"].as_u64()?)
        );
    }
    Some(md)
}

/// `BENCHMARKS.md`: how it was measured, the table, the targets, the chart.
pub fn markdown(results: &Results, chart_path: &str, json_path: &str) -> String {
    let m = &results.meta;
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(
        md,
        "Written by `{}` on {} at commit `{}`; the raw figures of every round are in \
         [`{json_path}`]({json_path}). Machine: {}.\n",
        m.command, m.date, m.commit, m.machine
    );
    let _ = writeln!(
        md,
        "Every function runs as its release binary, exactly as deployed, in its own process behind \
         a Lambda Runtime API served by the bench, against the embedded DynamoDB engine on \
         loopback. Each of {} rounds starts every contestant afresh, in a rotated order so drift \
         hits all alike, and times: **init** (process start → first poll of `next`), the \
         **first invocation**, **cold** = init + first (what a request that meets a cold start \
         waits for), then **{} warm invocations** of the function's own `events/` \
         request (a valid token where needed), one at a time, each timed from queueing the event \
         to receiving the response. Figures are `median (min–max)` over the rounds.\n",
        m.rounds, m.invocations
    );
    let _ = writeln!(
        md,
        "**Transports.** Over **TLS** (the default: on AWS every byte to DynamoDB and the issuer \
         is TLS) the engine and the issuer's key set sit behind the harness's TLS terminator with \
         a throwaway CA made per run, which the functions trust through one named PEM file \
         (`AWS_CA_BUNDLE`, `JWKS_CA_BUNDLE`): no directory scan, as production's compiled-in \
         roots. This measures the handshakes' and records' CPU on loopback, not network round \
         trips, and a two-certificate ECDSA P-256 chain, not DynamoDB's RSA chain of three. \
         **Plain HTTP** (`--transport plain` or `both`) is a floor below that.\n"
    );
    let _ = writeln!(
        md,
        "The floors run in the same rounds: **{RUNTIME_FLOOR}**, a hello-world `lambda_http` \
         binary with the same release profile (the runtime's cost; it makes no connection), and \
         **{STORAGE_FLOOR}**, a bare `aws-sdk-dynamodb` `GetItem` loop against the same engine over \
         the same transport (the storage's cost; its \"first\" is the first call, which opens \
         the connection). The **floor pair**'s cold start is the hello world's init plus that \
         first call. Ratios are taken within each round, then summarised.\n"
    );
    if let Some(random) = crate::stats::Spread::of(&results.first_random_us) {
        let _ = writeln!(
            md,
            "**First randomness.** The first 32-byte draw from aws-lc in a fresh process \
             (`floor-random`, {} runs, same profile and settings as the functions; the first TLS \
             handshake of a cold start makes this draw): **{:.3} ms** median ({:.3}–{:.3}).\n",
            results.first_random_us.len(),
            random.median / 1e3,
            random.min / 1e3,
            random.max / 1e3
        );
    }
    let _ = writeln!(md, "![Each function against the floors]({chart_path})\n");
    let _ = writeln!(md, "## Targets\n");
    for (met, line) in verdicts(results) {
        let _ = writeln!(md, "- {} {line}", if met { "met:" } else { "**missed:**" });
    }
    let rows: Vec<_> = results.contestants.iter().zip(&results.summary).collect();
    let tls: Vec<_> = rows
        .iter()
        .filter(|(c, _)| c.transport == Transport::Tls && c.kind == Kind::Function)
        .collect();
    if !tls.is_empty() {
        let _ = writeln!(md, "\n## Cold start over TLS\n");
        let _ = writeln!(
            md,
            "| function | init ms | first ms | cold ms | plain-HTTP cold ms | TLS ÷ plain | TLS ÷ floor pair |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|");
        for (c, s) in &tls {
            let plain = rows
                .iter()
                .find(|(p, _)| p.name == c.name && p.transport == Transport::Plain)
                .and_then(|(_, p)| p.cold_ms);
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} |",
                c.name,
                cell(s.init_ms, 2),
                cell(s.first_ms, 2),
                cell(s.cold_ms, 2),
                cell(plain, 2),
                cell(s.cold_vs_plain, 2),
                cell(s.cold_vs_floors, 2),
            );
        }
    }
    for transport in [Transport::Tls, Transport::Plain] {
        let of: Vec<_> = rows
            .iter()
            .filter(|(c, _)| c.transport == transport)
            .collect();
        if of.is_empty() {
            continue;
        }
        let _ = writeln!(md, "\n## Figures, {}\n", transport.label());
        let _ = writeln!(
            md,
            "| contestant | init ms | init ÷ floor | first ms | cold ms | warm p50 µs | warm p99 µs | p50 ÷ floors | CPU µs / invocation | peak RSS MiB | binary MiB | zip MiB |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (c, s) in of {
            let size = |bytes: u64| {
                if bytes == 0 {
                    "–".to_owned()
                } else {
                    format!("{:.2}", mib(bytes))
                }
            };
            let name = match &c.route {
                Some(route) => format!("{} `{route}`", c.name),
                None => c.name.clone(),
            };
            let _ = writeln!(
                md,
                "| {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(s.init_ms, 2),
                cell(s.init_ratio, 2),
                cell(s.first_ms, 2),
                cell(s.cold_ms, 2),
                cell(s.p50_us, 0),
                cell(s.p99_us, 0),
                cell(s.warm_ratio, 2),
                cell(s.cpu_us, 0),
                cell(s.rss_mib, 1),
                size(c.binary_bytes),
                size(c.zip_bytes),
            );
        }
    }
    let _ = writeln!(md, "\n## What each warm invocation does\n");
    let mut described = std::collections::HashSet::new();
    for c in &results.contestants {
        if described.insert(c.name.as_str()) {
            let _ = writeln!(md, "- **{}**: {}", c.name, c.workload);
        }
    }
    md
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn round(init: f64, p50: f64) -> Round {
        Round {
            init_ms: Some(init),
            first_ms: 1.0,
            p50_us: p50,
            p99_us: p50 * 2.0,
            rss_mib: Some(10.0),
            cpu_us: Some(50.0),
            samples: 1000,
        }
    }

    /// A run's metadata for tests: only the counts matter.
    pub(crate) fn test_meta(rounds: usize, invocations: usize) -> Meta {
        Meta {
            date: String::new(),
            commit: String::new(),
            machine: String::new(),
            command: "cargo run -p bench --release".into(),
            rounds,
            invocations,
        }
    }

    fn contestant(name: &str, kind: Kind, rounds: Vec<Round>) -> Contestant {
        Contestant {
            name: name.to_owned(),
            kind,
            transport: Transport::Plain,
            route: None,
            workload: String::new(),
            binary_bytes: 0,
            zip_bytes: 0,
            rounds,
        }
    }

    fn sample() -> Vec<Contestant> {
        vec![
            contestant(
                RUNTIME_FLOOR,
                Kind::RuntimeFloor,
                vec![round(2.0, 100.0), round(4.0, 100.0), round(2.0, 120.0)],
            ),
            contestant(
                STORAGE_FLOOR,
                Kind::StorageFloor,
                vec![
                    Round {
                        init_ms: None,
                        rss_mib: None,
                        ..round(0.0, 200.0)
                    };
                    3
                ],
            ),
            contestant(
                "get-product",
                Kind::Function,
                vec![round(2.4, 330.0), round(4.4, 300.0), round(3.0, 400.0)],
            ),
        ]
    }

    #[test]
    fn ratios_are_taken_within_each_round() {
        let summary = summarise(&sample());
        let get = &summary[2];
        // init: 2.4/2 = 1.2, 4.4/4 = 1.1, 3.0/2 = 1.5 → median 1.2 (not 3.0/2.0 = 1.5 of medians).
        let init = get.init_ratio.expect("an init ratio");
        assert!((init.median - 1.2).abs() < 1e-9, "{init:?}");
        assert!((init.min - 1.1).abs() < 1e-9 && (init.max - 1.5).abs() < 1e-9);
        // warm: 330/300 = 1.1, 300/300 = 1.0, 400/320 = 1.25.
        let warm = get.warm_ratio.expect("a warm ratio");
        assert!((warm.median - 1.1).abs() < 1e-9, "{warm:?}");
        // The storage floor has no init and no ratios of its own.
        assert_eq!(summary[1].init_ms, None);
        assert_eq!(summary[1].warm_ratio, None);
    }

    #[test]
    fn verdicts_name_met_and_missed_targets() {
        let contestants = sample();
        let results = Results::new(test_meta(3, 1000), contestants, vec![]);
        let verdicts = verdicts(&results);
        assert_eq!(verdicts.len(), 3, "{verdicts:?}");
        assert!(verdicts[0].0, "init 1.2× is within 1.3×: {verdicts:?}");
        assert!(verdicts[1].0, "warm 1.1× is within 1.15×: {verdicts:?}");
        assert!(verdicts[2].0, "10 MiB is within 32 MiB");
        let md = markdown(&results, "bench/chart.svg", "bench/results.json");
        assert!(
            md.contains("| get-product | 3.00 (2.40–4.40) | 1.20 (1.10–1.50) | 1.00 (1.00–1.00) | 4.00 (3.40–5.40) |"),
            "{md}"
        );
        assert!(md.contains("![Each function against the floors](bench/chart.svg)"));
    }

    /// Over TLS, cold (init + first) is compared with the same function's plain-HTTP cold and
    /// with the TLS floor pair (hello init + the bare GetItem's first call), round by round.
    #[test]
    fn tls_cold_is_compared_with_plain_and_the_floor_pair() {
        let mut contestants = sample();
        let mut tls: Vec<Contestant> = sample()
            .into_iter()
            .map(|mut c| {
                c.transport = Transport::Tls;
                c
            })
            .collect();
        // Round figures: plain get-product cold = init + 1.0 first → 3.4, 5.4, 4.0.
        tls[2].rounds = vec![round(2.4, 330.0), round(4.4, 300.0), round(3.0, 400.0)];
        for (r, first) in tls[2].rounds.iter_mut().zip([2.0, 2.0, 1.8]) {
            r.first_ms = first;
        }
        // TLS floor pair: hello init (2, 4, 2) + GetItem first (2.0 each) → 4, 6, 4.
        for r in &mut tls[1].rounds {
            r.first_ms = 2.0;
        }
        contestants.extend(tls);
        let results = Results::new(test_meta(3, 1000), contestants, vec![40_000.0, 20.0, 30.0]);
        let get = results
            .summary
            .iter()
            .find(|s| s.name == "get-product" && s.transport == Transport::Tls)
            .expect("a TLS summary");
        // TLS cold 4.4, 6.4, 4.8 over plain 3.4, 5.4, 4.0 → 1.294, 1.185, 1.2 → median 1.2.
        let vs_plain = get.cold_vs_plain.expect("a ratio to plain");
        assert!((vs_plain.median - 1.2).abs() < 1e-9, "{vs_plain:?}");
        // Over the floor pair: 4.4/4, 6.4/6, 4.8/4 → 1.1, 1.067, 1.2 → median 1.1.
        let vs_floors = get.cold_vs_floors.expect("a ratio to the floor pair");
        assert!((vs_floors.median - 1.1).abs() < 1e-9, "{vs_floors:?}");
        let verdicts = verdicts(&results);
        assert!(
            verdicts.iter().any(|(met, line)| *met
                && line.starts_with(
                    "get-product (TLS): cold (init + first) 1.20× its own over plain HTTP"
                )),
            "{verdicts:?}"
        );
        assert!(
            !verdicts
                .iter()
                .any(|(_, l)| l.starts_with("get-product (TLS): init")),
            "the init target is for plain HTTP: {verdicts:?}"
        );
        let md = markdown(&results, "c.svg", "r.json");
        assert!(md.contains("## Cold start over TLS"), "{md}");
        assert!(md.contains("## Figures, plain HTTP") && md.contains("## Figures, TLS"));
        assert!(
            md.contains("**First randomness.**") && md.contains("**0.030 ms** median"),
            "{md}"
        );
    }

    #[test]
    fn a_slow_function_misses_its_targets() {
        let mut contestants = sample();
        contestants[2].rounds = vec![round(4.0, 600.0), round(8.0, 600.0), round(4.0, 640.0)];
        contestants[2].rounds[1].rss_mib = Some(40.0);
        let results = Results::new(test_meta(3, 1000), contestants, vec![]);
        let missed: Vec<_> = verdicts(&results).into_iter().filter(|v| !v.0).collect();
        assert_eq!(missed.len(), 3, "{missed:?}");
        assert!(
            markdown(&results, "c.svg", "r.json").contains("**missed:** get-product: init 2.00×")
        );
    }
}

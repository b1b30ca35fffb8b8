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
}

impl Results {
    /// The results of a run, with the summary derived from the contestants' rounds.
    pub fn new(meta: Meta, contestants: Vec<Contestant>) -> Self {
        Self {
            summary: summarise(&contestants),
            meta,
            contestants,
        }
    }
}

/// Min/median/max over the rounds of every figure of one contestant, and its ratios to the
/// floors, each ratio taken within a round (side by side) before the spread is taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub name: String,
    pub init_ms: Option<Spread>,
    pub first_ms: Option<Spread>,
    pub p50_us: Option<Spread>,
    pub p99_us: Option<Spread>,
    pub rss_mib: Option<Spread>,
    pub cpu_us: Option<Spread>,
    /// init ÷ the runtime floor's init.
    pub init_ratio: Option<Spread>,
    /// warm p50 ÷ (runtime floor p50 + storage floor p50).
    pub warm_ratio: Option<Spread>,
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

/// Summaries of every contestant. Ratios need both floors present with as many rounds.
pub fn summarise(contestants: &[Contestant]) -> Vec<Summary> {
    let floor = |name: &str| contestants.iter().find(|c| c.name == name);
    let (hello, getitem) = (floor(RUNTIME_FLOOR), floor(STORAGE_FLOOR));
    contestants
        .iter()
        .map(|c| {
            let r = &c.rounds;
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
                init_ms: spread(r, |x| x.init_ms),
                first_ms: spread(r, |x| Some(x.first_ms)),
                p50_us: spread(r, |x| Some(x.p50_us)),
                p99_us: spread(r, |x| Some(x.p99_us)),
                rss_mib: spread(r, |x| x.rss_mib),
                cpu_us: spread(r, |x| x.cpu_us),
                init_ratio,
                warm_ratio,
            }
        })
        .collect()
}

/// One line per target: whether the run met it, and by how much.
pub fn verdicts(results: &Results) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    for (c, s) in results.contestants.iter().zip(&results.summary) {
        if c.kind != Kind::Function {
            continue;
        }
        if let Some(ratio) = s.init_ratio {
            out.push((
                ratio.median <= INIT_TARGET,
                format!(
                    "{}: init {:.2}× the runtime floor (target ≤ {INIT_TARGET}×)",
                    c.name, ratio.median
                ),
            ));
        }
        if SINGLE_READ.contains(&c.name.as_str())
            && let Some(ratio) = s.warm_ratio
        {
            out.push((
                ratio.median <= WARM_TARGET,
                format!(
                    "{}: warm p50 {:.2}× the floor sum (target ≤ {WARM_TARGET}×)",
                    c.name, ratio.median
                ),
            ));
        }
        if let Some(rss) = s.rss_mib {
            out.push((
                rss.max <= RSS_TARGET_MIB,
                format!(
                    "{}: peak RSS {:.1} MiB at most (target ≤ {RSS_TARGET_MIB} MiB)",
                    c.name, rss.max
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
         **first invocation**, then **{} warm invocations** of the function's own `events/` \
         request (a valid token where needed), one at a time, each timed from queueing the event \
         to receiving the response. Figures are `median (min–max)` over the rounds.\n",
        m.rounds, m.invocations
    );
    let _ = writeln!(
        md,
        "The floors run in the same rounds: **{RUNTIME_FLOOR}**, a hello-world `lambda_http` \
         binary with the same release profile (the runtime's cost), and **{STORAGE_FLOOR}**, a \
         bare `aws-sdk-dynamodb` `GetItem` loop against the same engine (the storage's cost; its \
         \"first\" is the first call, which opens the connection). Ratios are taken within each \
         round, then summarised.\n"
    );
    let _ = writeln!(md, "![Each function against the floors]({chart_path})\n");
    let _ = writeln!(md, "## Targets\n");
    for (met, line) in verdicts(results) {
        let _ = writeln!(md, "- {} {line}", if met { "met:" } else { "**missed:**" });
    }
    let _ = writeln!(md, "\n## Figures\n");
    let _ = writeln!(
        md,
        "| contestant | init ms | init ÷ floor | first ms | warm p50 µs | warm p99 µs | p50 ÷ floors | CPU µs / invocation | peak RSS MiB | binary MiB | zip MiB |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|");
    for (c, s) in results.contestants.iter().zip(&results.summary) {
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
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(s.init_ms, 2),
            cell(s.init_ratio, 2),
            cell(s.first_ms, 2),
            cell(s.p50_us, 0),
            cell(s.p99_us, 0),
            cell(s.warm_ratio, 2),
            cell(s.cpu_us, 0),
            cell(s.rss_mib, 1),
            size(c.binary_bytes),
            size(c.zip_bytes),
        );
    }
    let _ = writeln!(md, "\n## What each warm invocation does\n");
    for c in &results.contestants {
        let _ = writeln!(md, "- **{}**: {}", c.name, c.workload);
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
        let results = Results::new(test_meta(3, 1000), contestants);
        let verdicts = verdicts(&results);
        assert_eq!(verdicts.len(), 3, "{verdicts:?}");
        assert!(verdicts[0].0, "init 1.2× is within 1.3×: {verdicts:?}");
        assert!(verdicts[1].0, "warm 1.1× is within 1.15×: {verdicts:?}");
        assert!(verdicts[2].0, "10 MiB is within 32 MiB");
        let md = markdown(&results, "bench/chart.svg", "bench/results.json");
        assert!(
            md.contains("| get-product | 3.00 (2.40–4.40) | 1.20 (1.10–1.50) |"),
            "{md}"
        );
        assert!(md.contains("![Each function against the floors](bench/chart.svg)"));
    }

    #[test]
    fn a_slow_function_misses_its_targets() {
        let mut contestants = sample();
        contestants[2].rounds = vec![round(4.0, 600.0), round(8.0, 600.0), round(4.0, 640.0)];
        contestants[2].rounds[1].rss_mib = Some(40.0);
        let results = Results::new(test_meta(3, 1000), contestants);
        let missed: Vec<_> = verdicts(&results).into_iter().filter(|v| !v.0).collect();
        assert_eq!(missed.len(), 3, "{missed:?}");
        assert!(
            markdown(&results, "c.svg", "r.json").contains("**missed:** get-product: init 2.00×")
        );
    }
}

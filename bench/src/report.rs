//! What one bench run measured (`Results`, written as JSON), the ratios against the floors, and
//! the Markdown report (`BENCHMARKS.md`).

use crate::stats::Spread;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Init may take at most this many times the runtime floor's init.
pub const INIT_TARGET: f64 = 1.5;
/// A single-read endpoint's warm p50 may take at most this many times the floors' sum…
pub const WARM_TARGET: f64 = 1.15;
/// … and its p99 this many times the floors' p99s summed.
pub const WARM_P99_TARGET: f64 = 1.3;
/// Every other function's warm p50 may take at most this many times the floors of the calls it
/// makes (the runtime floor plus one storage floor per call).
pub const WARM_CALLS_TARGET: f64 = 1.3;
/// A public function's cold start over TLS may take at most this many times the floor pair's.
pub const PUBLIC_COLD_TARGET: f64 = 1.15;
/// With round trips, a protected function's cold start may exceed the floor pair's plus one
/// fetch of the key set by at most this many milliseconds (the key set and the DynamoDB
/// connection are opened concurrently, so the fetch should hide the connection).
pub const KEY_SET_SLACK_MS: f64 = 1.0;
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
/// The transaction floor's binary; its contestants are named `floor-transact-<actions>`.
pub const TRANSACT_FLOOR: &str = "floor-transact";
/// One fetch of the issuer's key set on a new connection, as init makes it (measured by the
/// bench itself with the functions' own fetcher).
pub const KEY_SET_FLOOR: &str = "floor-key-set";

/// The contestant name of the transaction floor with `actions` actions.
pub fn transact_floor(actions: usize) -> String {
    format!("{TRANSACT_FLOOR}-{actions}")
}

/// The DynamoDB calls one warm invocation of a function makes, as the floors that bound them:
/// `items` one-request calls (GetItem, Query, BatchGetItem, UpdateItem, DeleteItem: one round trip
/// each, floored by the bare GetItem) and at most one `TransactWriteItems` of `transaction`
/// actions (floored by a bare transaction of as many).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calls {
    pub items: usize,
    pub transaction: Option<usize>,
}

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
    /// A bare `TransactWriteItems` loop of as many actions as a checkout's or a cancel's.
    TransactFloor,
    /// One fetch of the key set on a new connection (its "first" is that fetch).
    KeySetFloor,
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
    /// TLS with a one-way latency in front of DynamoDB and of the issuer (the run's `Meta` says
    /// how much): the round trips a cold start pays on AWS, which loopback hides.
    Delayed,
}

impl Transport {
    pub fn label(self) -> &'static str {
        match self {
            Self::Plain => "plain HTTP",
            Self::Tls => "TLS",
            Self::Delayed => "TLS + round trips",
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
    /// Init's phases as the function logged them (`shared::profile`), in start order; empty for
    /// the floors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub init_phases: Vec<InitPhase>,
    /// `main`'s entry → the profile's end (just before the runtime client's first poll); the
    /// rest of init is the process's exec and start and the runtime client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_profiled_ms: Option<f64>,
}

/// One phase of init: how long it took and when it started, from `main`'s entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InitPhase {
    pub name: String,
    pub took_ms: f64,
    pub from_ms: f64,
}

impl InitPhase {
    /// The phases of a profile line's `phases` field: `name=took@from …`, in microseconds.
    pub fn parse_all(field: &str) -> Option<Vec<Self>> {
        field
            .split_whitespace()
            .map(|item| {
                let (name, times) = item.split_once('=')?;
                let (took, from) = times.split_once('@')?;
                Some(Self {
                    name: name.to_owned(),
                    took_ms: took.parse::<f64>().ok()? / 1e3,
                    from_ms: from.parse::<f64>().ok()? / 1e3,
                })
            })
            .collect()
    }
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
    /// For functions: the DynamoDB calls of one warm invocation, which set its warm floor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls: Option<Calls>,
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
    /// The one-way latencies of the `Delayed` transport, ms (DynamoDB, issuer).
    #[serde(default)]
    pub delay_dynamodb_ms: f64,
    #[serde(default)]
    pub delay_issuer_ms: f64,
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
    /// Where a warm invocation's time goes, per transport (`warm-profile`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warm_profiles: Vec<WarmProfile>,
}

/// One function's warm invocation phase by phase, in-process (`warm-profile`): median µs per
/// phase, by name (`event_parse`, `auth`, `store_call`, `handler`, `serialisation`, `log_line`,
/// `metrics`, `observe`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarmProfile {
    pub function: String,
    pub transport: Transport,
    pub phases: std::collections::BTreeMap<String, f64>,
}

impl Results {
    /// The results of a run, with the summary derived from the contestants' rounds.
    pub fn new(meta: Meta, contestants: Vec<Contestant>, first_random_us: Vec<f64>) -> Self {
        Self {
            summary: summarise(&contestants),
            meta,
            contestants,
            first_random_us,
            warm_profiles: Vec::new(),
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
    /// warm p50 ÷ the floors of its calls: runtime floor p50 + one storage floor p50 per call
    /// (see [`Calls`]).
    pub warm_ratio: Option<Spread>,
    /// warm p99 ÷ the same floors' p99s summed.
    #[serde(default)]
    pub p99_ratio: Option<Spread>,
    /// The warm floor itself (µs): what `warm_ratio` divides by.
    #[serde(default)]
    pub warm_floor_us: Option<Spread>,
    /// cold − (floor pair + one key-set fetch), ms, same transport: how much a protected
    /// function's cold start adds to what the key set costs anyway.
    #[serde(default)]
    pub cold_over_key_set_ms: Option<Spread>,
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

/// Summaries of every contestant. Ratios need the floors present with as many rounds, of the
/// same transport.
pub fn summarise(contestants: &[Contestant]) -> Vec<Summary> {
    let find = |name: &str, transport: Transport| {
        contestants
            .iter()
            .find(|c| c.name == name && c.transport == transport)
            .map(|c| c.rounds.as_slice())
    };
    contestants
        .iter()
        .map(|c| {
            let r = &c.rounds;
            let function = c.kind == Kind::Function;
            let hello = find(RUNTIME_FLOOR, c.transport);
            let getitem = find(STORAGE_FLOOR, c.transport);
            let cold_vs_plain = match (c.transport, find(&c.name, Transport::Plain)) {
                (Transport::Tls, Some(plain)) if function => {
                    ratios(r, plain, |x, y| Some(cold(x)? / cold(y)?))
                }
                _ => None,
            };
            // The floor pair: hello's init + the bare GetItem's first call, round by round.
            let pair: Option<Vec<f64>> = hello.zip(getitem).and_then(|(h, g)| {
                (h.len() == g.len())
                    .then(|| h.iter().zip(g).map(|(h, g)| Some(h.init_ms? + g.first_ms)))
                    .and_then(|v| v.collect())
            });
            let cold_vs_floors = pair
                .as_ref()
                .filter(|_| function)
                .and_then(|pair| per_round(r, pair, |x, p| Some(cold(x)? / p)));
            let key_set = find(KEY_SET_FLOOR, c.transport);
            let cold_over_key_set_ms = match (&pair, key_set) {
                (Some(pair), Some(k)) if function && k.len() == pair.len() => {
                    let budget: Vec<f64> =
                        pair.iter().zip(k).map(|(p, k)| p + k.first_ms).collect();
                    per_round(r, &budget, |x, b| Some(cold(x)? - b))
                }
                _ => None,
            };
            let init_ratio = hello.and_then(|h| ratios(r, h, |x, y| Some(x.init_ms? / y.init_ms?)));
            let floors = c
                .calls
                .filter(|_| function)
                .and_then(|calls| warm_floors(contestants, c.transport, calls, r.len()));
            let warm_ratio = floors.as_ref().and_then(|f| {
                per_round(r, &f.iter().map(|f| f.0).collect::<Vec<_>>(), |x, f| {
                    Some(x.p50_us / f)
                })
            });
            let p99_ratio = floors.as_ref().and_then(|f| {
                per_round(r, &f.iter().map(|f| f.1).collect::<Vec<_>>(), |x, f| {
                    Some(x.p99_us / f)
                })
            });
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
                p99_ratio,
                warm_floor_us: floors
                    .as_ref()
                    .and_then(|f| Spread::of(&f.iter().map(|f| f.0).collect::<Vec<_>>())),
                cold_vs_plain,
                cold_vs_floors,
                cold_over_key_set_ms,
            }
        })
        .collect()
}

/// `f(round, value)` for each round and its value of `values`, summarised.
fn per_round(
    rounds: &[Round],
    values: &[f64],
    f: impl Fn(&Round, f64) -> Option<f64>,
) -> Option<Spread> {
    if rounds.len() != values.len() {
        return None;
    }
    let out: Option<Vec<f64>> = rounds.iter().zip(values).map(|(r, v)| f(r, *v)).collect();
    Spread::of(&out?)
}

/// Per round, the warm floor of `calls` as (p50, p99) in µs: the runtime floor, plus the bare
/// GetItem's once per one-request call, plus the bare transaction of as many actions. `None` if
/// a floor it needs did not run with `rounds` rounds.
fn warm_floors(
    contestants: &[Contestant],
    transport: Transport,
    calls: Calls,
    rounds: usize,
) -> Option<Vec<(f64, f64)>> {
    let find = |name: &str| {
        contestants
            .iter()
            .find(|c| c.name == name && c.transport == transport)
            .map(|c| c.rounds.as_slice())
            .filter(|r| r.len() == rounds)
    };
    let hello = find(RUNTIME_FLOOR)?;
    let getitem = find(STORAGE_FLOOR)?;
    let transact = match calls.transaction {
        Some(actions) => Some(find(&transact_floor(actions))?),
        None => None,
    };
    Some(
        (0..rounds)
            .map(|i| {
                let n = calls.items as f64;
                let (t50, t99) = transact.map_or((0.0, 0.0), |t| (t[i].p50_us, t[i].p99_us));
                (
                    hello[i].p50_us + n * getitem[i].p50_us + t50,
                    hello[i].p99_us + n * getitem[i].p99_us + t99,
                )
            })
            .collect(),
    )
}

/// One line per target: whether the run met it, by how much, and when missed what the profile
/// says it is made of.
pub fn verdicts(results: &Results) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    let mut transports: Vec<Transport> = results.contestants.iter().map(|c| c.transport).collect();
    transports.dedup();
    let many = transports.len() > 1;
    for (c, s) in results.contestants.iter().zip(&results.summary) {
        // A function measured in another auth mode (`get-cart@authorizer`) has its figures in the
        // round-trip table; its targets are its own mode's.
        if c.kind != Kind::Function || c.name.contains('@') {
            continue;
        }
        // With several transports, each line names its own; alone, the run's header says it.
        let name = if many {
            format!("{} ({})", c.name, c.transport.label())
        } else {
            c.name.clone()
        };
        let public = devkit::routes::Function::from_binary(&c.name).is_some_and(|f| f.public());
        let loopback = matches!(c.transport, Transport::Plain | Transport::Tls);
        let mut push = |met: bool, line: String, why: Option<String>| {
            let why = why
                .filter(|_| !met)
                .map(|w| format!(": {w}"))
                .unwrap_or_default();
            out.push((met, format!("{line}{why}")));
        };
        if loopback && let Some(ratio) = s.init_ratio {
            push(
                ratio.median <= INIT_TARGET,
                format!(
                    "{name}: init {:.2}× the runtime floor (target ≤ {INIT_TARGET}×)",
                    ratio.median
                ),
                init_reason(results, c),
            );
        }
        if let Some(ratio) = s.cold_vs_plain {
            push(
                ratio.median <= TLS_COLD_TARGET,
                format!(
                    "{name}: cold (init + first) {:.2}× its own over plain HTTP (target ≤ {TLS_COLD_TARGET}×)",
                    ratio.median
                ),
                cold_reason(results, c, s),
            );
        }
        let target = if public {
            PUBLIC_COLD_TARGET
        } else {
            TLS_FLOOR_TARGET
        };
        if (c.transport == Transport::Tls || (public && c.transport == Transport::Delayed))
            && let Some(ratio) = s.cold_vs_floors
        {
            push(
                ratio.median <= target,
                format!(
                    "{name}: cold {:.2}× the floor pair's (hello init + a bare GetItem connecting over TLS; target ≤ {target}×{})",
                    ratio.median,
                    if public { ", a public function" } else { "" }
                ),
                cold_reason(results, c, s),
            );
        }
        if c.transport == Transport::Delayed
            && !public
            && let Some(over) = s.cold_over_key_set_ms
        {
            push(
                over.median <= KEY_SET_SLACK_MS,
                format!(
                    "{name}: cold {:+.2} ms beyond the floor pair plus one key-set fetch (target ≤ {KEY_SET_SLACK_MS} ms)",
                    over.median
                ),
                cold_reason(results, c, s),
            );
        }
        if loopback && let Some(ratio) = s.warm_ratio {
            let single = SINGLE_READ.contains(&c.name.as_str());
            let target = if single {
                WARM_TARGET
            } else {
                WARM_CALLS_TARGET
            };
            push(
                ratio.median <= target,
                format!(
                    "{name}: warm p50 {:.2}× the floors of its calls ({}; target ≤ {target}×)",
                    ratio.median,
                    c.calls.map(describe_calls).unwrap_or_default()
                ),
                cpu_reason(results, c, s),
            );
            if single && let Some(p99) = s.p99_ratio {
                push(
                    p99.median <= WARM_P99_TARGET,
                    format!(
                        "{name}: warm p99 {:.2}× the floors' p99s (target ≤ {WARM_P99_TARGET}×)",
                        p99.median
                    ),
                    cpu_reason(results, c, s),
                );
            }
        }
        if loopback && let Some(rss) = s.rss_mib {
            push(
                rss.max <= RSS_TARGET_MIB,
                format!(
                    "{name}: peak RSS {:.1} MiB at most (target ≤ {RSS_TARGET_MIB} MiB)",
                    rss.max
                ),
                None,
            );
        }
    }
    out
}

/// `hello + 2 GetItem + a 5-action transaction`.
pub fn describe_calls(calls: Calls) -> String {
    let mut parts = vec!["hello".to_owned()];
    match calls.items {
        0 => {}
        1 => parts.push("a GetItem".to_owned()),
        n => parts.push(format!("{n} GetItem")),
    }
    if let Some(actions) = calls.transaction {
        parts.push(format!("a {actions}-action transaction"));
    }
    parts.join(" + ")
}

/// The phases of `c`'s init, median over its rounds, in start order: (name, took ms, from ms).
pub fn init_phases(c: &Contestant) -> Vec<(String, f64, f64)> {
    let mut names: Vec<String> = Vec::new();
    for r in &c.rounds {
        for p in &r.init_phases {
            if !names.contains(&p.name) {
                names.push(p.name.clone());
            }
        }
    }
    let median = |values: Vec<f64>| Spread::of(&values).map_or(0.0, |s| s.median);
    let mut phases: Vec<(String, f64, f64)> = names
        .into_iter()
        .map(|name| {
            let of = |f: fn(&InitPhase) -> f64| {
                median(
                    c.rounds
                        .iter()
                        .flat_map(|r| r.init_phases.iter().filter(|p| p.name == name).map(f))
                        .collect(),
                )
            };
            let (took, from) = (of(|p| p.took_ms), of(|p| p.from_ms));
            (name, took, from)
        })
        .collect();
    phases.sort_by(|a, b| a.2.total_cmp(&b.2));
    phases
}

/// A cold start's miss: its init's phases and its first invocation, against the floors'.
fn cold_reason(results: &Results, c: &Contestant, s: &Summary) -> Option<String> {
    let first = s.first_ms?.median;
    let floor_first = median_of(results, STORAGE_FLOOR, c.transport, |s| s.first_ms)?;
    Some(format!(
        "{}; then the first invocation {first:.2} ms (its calls: {}), where the floor pair's one \
         GetItem, connecting, took {floor_first:.2} ms",
        init_reason(results, c)?,
        c.calls
            .map(describe_calls)
            .unwrap_or_default()
            .trim_start_matches("hello + ")
    ))
}

/// A warm miss: the function's CPU per invocation against its floors' (each floor's CPU per
/// call, as for the latency), from the same rounds.
fn cpu_reason(results: &Results, c: &Contestant, s: &Summary) -> Option<String> {
    let calls = c.calls?;
    let cpu = |name: &str| median_of(results, name, c.transport, |s| s.cpu_us);
    let transaction = match calls.transaction {
        Some(actions) => cpu(&transact_floor(actions))?,
        None => 0.0,
    };
    let floors = cpu(RUNTIME_FLOOR)? + calls.items as f64 * cpu(STORAGE_FLOOR)? + transaction;
    Some(format!(
        "{:.0} µs of CPU per invocation against its floors' {floors:.0} µs, and p50 {:.0} µs \
         against {:.0} µs",
        s.cpu_us?.median, s.p50_us?.median, s.warm_floor_us?.median
    ))
}

/// The median of one figure of the contestant `name` over `transport`.
fn median_of(
    results: &Results,
    name: &str,
    transport: Transport,
    figure: fn(&Summary) -> Option<Spread>,
) -> Option<f64> {
    results
        .contestants
        .iter()
        .zip(&results.summary)
        .find(|(c, _)| c.name == name && c.transport == transport)
        .and_then(|(_, s)| figure(s))
        .map(|s| s.median)
}

/// What a function's init is made of beyond the runtime floor's, from its profile: the phases
/// over 0.1 ms, and the part before `main` and after the profile (exec, the runtime client).
fn init_reason(results: &Results, c: &Contestant) -> Option<String> {
    let phases = init_phases(c);
    if phases.is_empty() {
        return None;
    }
    let init = spread(&c.rounds, |r| r.init_ms)?.median;
    let profiled = spread(&c.rounds, |r| r.init_profiled_ms)?.median;
    let hello = results
        .contestants
        .iter()
        .find(|h| h.name == RUNTIME_FLOOR && h.transport == c.transport)
        .and_then(|h| spread(&h.rounds, |r| r.init_ms))
        .map(|s| s.median);
    let mut parts: Vec<String> = phases
        .iter()
        .filter(|(_, took, _)| *took >= 0.1)
        .map(|(name, took, _)| format!("{name} {took:.2}"))
        .collect();
    parts.push(format!("exec and runtime client {:.2}", init - profiled));
    Some(format!(
        "init {init:.2} ms{} = {} ms",
        hello
            .map(|h| format!(" (the runtime floor's {h:.2})"))
            .unwrap_or_default(),
        parts.join(" + ")
    ))
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
         **Plain HTTP** (`--transport plain` or `both`) is a floor below that. **TLS + round \
         trips** (`delayed`, or `all` for the three) puts a one-way latency in front of each \
         service, {} ms to DynamoDB and {} ms to the issuer here, every chunk held that long in \
         each direction by the terminator (not modelled: the TCP handshake's own round trip, \
         which the kernel completes before the terminator sees the connection).\n",
        m.delay_dynamodb_ms, m.delay_issuer_ms
    );
    let _ = writeln!(
        md,
        "The floors run in the same rounds: **{RUNTIME_FLOOR}**, a hello-world `lambda_http` \
         binary with the same release profile (the runtime's cost; it makes no connection), and \
         **{STORAGE_FLOOR}**, a bare `aws-sdk-dynamodb` `GetItem` loop against the same engine over \
         the same transport (the storage's cost; its \"first\" is the first call, which opens \
         the connection). The **floor pair**'s cold start is the hello world's init plus that \
         first call. **{TRANSACT_FLOOR}-N** is a bare `TransactWriteItems` of N conditional \
         updates, as many as a checkout's (5) or a cancel's (3). A function's **warm floor** is \
         the runtime floor's plus one storage floor per DynamoDB call its warm invocation makes \
         (listed per function below). **{KEY_SET_FLOOR}** is one fetch of the key set on a new \
         connection, with the functions' own fetcher (median of 5 per round, in the bench's \
         process). Ratios are taken within each round, then summarised.\n"
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
    md += &round_trips_section(results);
    md += &init_section(results);
    md += &warm_section(results);
    for transport in [Transport::Tls, Transport::Plain, Transport::Delayed] {
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
            let floor = c
                .calls
                .map(|calls| format!(" (warm floor: {})", describe_calls(calls)))
                .unwrap_or_default();
            let _ = writeln!(md, "- **{}**: {}{floor}", c.name, c.workload);
        }
    }
    md
}

/// The cold start of every function with round trips, against the floor pair and one fetch of
/// the key set, with the two init phases that wait on the network.
fn round_trips_section(results: &Results) -> String {
    let mut md = String::new();
    let rows: Vec<_> = results
        .contestants
        .iter()
        .zip(&results.summary)
        .filter(|(c, _)| c.transport == Transport::Delayed && c.kind == Kind::Function)
        .collect();
    if rows.is_empty() {
        return md;
    }
    let m = &results.meta;
    let median = |name: &str, f: fn(&Summary) -> Option<Spread>| {
        results
            .contestants
            .iter()
            .zip(&results.summary)
            .find(|(c, _)| c.name == name && c.transport == Transport::Delayed)
            .and_then(|(_, s)| f(s))
            .map(|s| s.median)
    };
    let pair = median(RUNTIME_FLOOR, |s| s.init_ms)
        .zip(median(STORAGE_FLOOR, |s| s.first_ms))
        .map(|(a, b)| a + b);
    let fetch = median(KEY_SET_FLOOR, |s| s.first_ms);
    let _ = writeln!(
        md,
        "\n## Cold start with round trips\n\n{} ms one way to DynamoDB, {} ms to the issuer. \
         Floor pair (hello init + a bare GetItem's first call): {} ms; one key-set fetch on a new \
         connection: {} ms. A protected function's init fetches the key set while it opens the \
         DynamoDB connection, so its cold start should be the floor pair plus that fetch, within \
         {KEY_SET_SLACK_MS} ms. `get-cart@authorizer` and `get-cart@pinned-keys` are get-cart \
         in the two modes that fetch no key set at init (behind API Gateway's JWT authorizer; \
         `JWKS_JSON`). Phases are medians from each function's init profile; `@` is when the \
         phase started, from `main`.\n",
        m.delay_dynamodb_ms,
        m.delay_issuer_ms,
        pair.map_or("–".to_owned(), |p| format!("{p:.2}")),
        fetch.map_or("–".to_owned(), |f| format!("{f:.2}")),
    );
    let _ = writeln!(
        md,
        "| function | init ms | first ms | cold ms | ÷ floor pair | − (pair + fetch) ms | connection ms | key set ms |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
    for (c, s) in rows {
        let phases = init_phases(c);
        let phase = |name: &str| {
            phases
                .iter()
                .find(|p| p.0 == name)
                .map_or("–".to_owned(), |p| format!("{:.2} @{:.2}", p.1, p.2))
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            c.name,
            cell(s.init_ms, 2),
            cell(s.first_ms, 2),
            cell(s.cold_ms, 2),
            cell(s.cold_vs_floors, 2),
            cell(s.cold_over_key_set_ms, 2),
            phase("connection"),
            phase("key_set"),
        );
    }
    md
}

/// One row of the warm profile's table: its figure for a function.
type Figure<'a> = dyn Fn(&WarmProfile) -> Option<f64> + 'a;

/// A warm invocation phase by phase, per function and transport, from `warm-profile`, beside
/// the same run's out-of-process figures.
fn warm_section(results: &Results) -> String {
    let mut md = String::new();
    if results.warm_profiles.is_empty() {
        return md;
    }
    let _ = writeln!(
        md,
        "\n## Where a warm invocation goes\n\n`warm-profile` (a binary of the bench, run with the \
         function's own environment and set-up on one thread) times each phase of the \
         invocation in its own loop of {} and takes the median, µs. `handler` includes `auth` \
         and `store_call`; **handler's own work** is what is left (routing, parsing the path \
         and headers, pricing, the ETag, the JSON body). `observe` is the handler inside \
         `shared::lambda::observe` (the budget, the log line, the metrics), the in-process \
         whole. **Runtime API round trip** is the runtime floor's warm p50 (`next` and the \
         response's POST to the bench's Runtime API, over loopback HTTP), and **warm p50** the \
         function's own, out of process, in the same run.\n",
        results.meta.invocations
    );
    let median_of = |name: &str, transport: Transport| {
        results
            .contestants
            .iter()
            .zip(&results.summary)
            .find(|(c, _)| c.name == name && c.transport == transport)
            .and_then(|(_, s)| s.p50_us)
            .map(|s| s.median)
    };
    let mut transports: Vec<Transport> =
        results.warm_profiles.iter().map(|p| p.transport).collect();
    transports.dedup();
    for transport in transports {
        let profiles: Vec<&WarmProfile> = results
            .warm_profiles
            .iter()
            .filter(|p| p.transport == transport)
            .collect();
        let _ = writeln!(md, "\n**{}**\n", transport.label());
        let names: Vec<&str> = profiles.iter().map(|p| p.function.as_str()).collect();
        let _ = writeln!(md, "| phase | {} |", names.join(" | "));
        let _ = writeln!(md, "|---|{}", "---|".repeat(names.len()));
        let value = |p: &WarmProfile, k: &str| p.phases.get(k).copied();
        // A difference of two loops' medians can fall below zero: the handler's own work is then
        // smaller than the loops' noise, and shown so.
        let fmt = |v: Option<f64>| match v {
            None => "–".to_owned(),
            Some(v) if v < 0.5 => format!("< 1 ({v:.0} by difference)"),
            Some(v) => format!("{v:.0}"),
        };
        let rows: [(&str, &Figure); 11] = [
            ("event parse", &|p| value(p, "event_parse")),
            ("auth", &|p| value(p, "auth")),
            ("store call", &|p| value(p, "store_call")),
            ("handler (auth and store call included)", &|p| {
                value(p, "handler")
            }),
            ("handler's own work", &|p| {
                Some(
                    value(p, "handler")?
                        - value(p, "store_call")?
                        - value(p, "auth").unwrap_or(0.0),
                )
            }),
            ("serialisation", &|p| value(p, "serialisation")),
            ("log line", &|p| value(p, "log_line")),
            ("metrics", &|p| value(p, "metrics")),
            ("**observe** (in-process whole)", &|p| value(p, "observe")),
            ("Runtime API round trip", &|_| {
                median_of(RUNTIME_FLOOR, transport)
            }),
            ("**warm p50** (out of process)", &|p| {
                median_of(&p.function, transport)
            }),
        ];
        for (label, f) in rows {
            let cells: Vec<String> = profiles.iter().map(|p| fmt(f(p))).collect();
            let _ = writeln!(md, "| {label} | {} |", cells.join(" | "));
        }
    }
    md
}

/// Init phase by phase, per function and transport, from the functions' own profile
/// (`shared::profile`): medians over the rounds, in ms.
fn init_section(results: &Results) -> String {
    const PHASES: &[&str] = &[
        "runtime",
        "telemetry",
        "config",
        "tls_context",
        "endpoint",
        "sdk_client",
        "connection",
        "key_set",
        "metrics",
    ];
    let mut md = String::new();
    let profiled: Vec<_> = results
        .contestants
        .iter()
        .filter(|c| c.kind == Kind::Function && c.rounds.iter().any(|r| !r.init_phases.is_empty()))
        .collect();
    if profiled.is_empty() {
        return md;
    }
    let _ = writeln!(
        md,
        "\n## Where init goes\n\nEach function logs its init phase by phase (`shared::profile`, \
         one DEBUG line before the first poll: `RUST_LOG=info,shared::profile=debug`). Medians \
         in ms. **before main + runtime client** is init as the bench times it (process start → \
         first poll) minus the profiled part: the exec, the dynamic loader and `lambda_http`'s \
         runtime client. `connection` (DynamoDB's, opened ahead) and `key_set` run concurrently \
         on the one thread: their sum is more than the time they take together.\n"
    );
    let _ = writeln!(
        md,
        "| function | transport | init | {} | before main + runtime client |",
        PHASES.join(" | ")
    );
    let _ = writeln!(md, "|---|---|---|{}---|", "---|".repeat(PHASES.len()));
    for c in profiled {
        let phases = init_phases(c);
        let init = spread(&c.rounds, |r| r.init_ms).map(|s| s.median);
        let profiled = spread(&c.rounds, |r| r.init_profiled_ms).map(|s| s.median);
        let cells: Vec<String> = PHASES
            .iter()
            .map(|name| {
                phases
                    .iter()
                    .find(|p| p.0 == *name)
                    .map_or("–".to_owned(), |p| format!("{:.2}", p.1))
            })
            .collect();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            c.name,
            c.transport.label(),
            init.map_or("–".to_owned(), |i| format!("{i:.2}")),
            cells.join(" | "),
            init.zip(profiled)
                .map_or("–".to_owned(), |(i, p)| format!("{:.2}", i - p)),
        );
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
            ..Round::default()
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
            delay_dynamodb_ms: 0.5,
            delay_issuer_ms: 10.0,
        }
    }

    fn contestant(name: &str, kind: Kind, rounds: Vec<Round>) -> Contestant {
        Contestant {
            name: name.to_owned(),
            kind,
            transport: Transport::Plain,
            route: None,
            workload: String::new(),
            calls: (kind == Kind::Function).then_some(Calls {
                items: 1,
                transaction: None,
            }),
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
        assert_eq!(verdicts.len(), 4, "{verdicts:?}");
        assert!(verdicts[0].0, "init 1.2× is within 1.5×: {verdicts:?}");
        assert!(verdicts[1].0, "warm 1.1× is within 1.15×: {verdicts:?}");
        // p99: 660/600, 600/600, 800/640 → median 1.1.
        assert!(
            verdicts[2].0 && verdicts[2].1.contains("warm p99 1.10×"),
            "{verdicts:?}"
        );
        assert!(verdicts[3].0, "10 MiB is within 32 MiB");
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
            verdicts
                .iter()
                .any(|(_, l)| l.starts_with("get-product (TLS): init")),
            "every function's init has a target, on both transports: {verdicts:?}"
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
        assert_eq!(missed.len(), 4, "{missed:?}");
        assert!(
            markdown(&results, "c.svg", "r.json").contains("**missed:** get-product: init 2.00×")
        );
    }

    /// A function's warm floor is the runtime floor plus one storage floor per call: each
    /// one-request call a bare GetItem, the transaction a bare one of as many actions.
    #[test]
    fn the_warm_floor_adds_one_storage_floor_per_call() {
        let mut contestants = sample();
        contestants.push(contestant(
            &transact_floor(5),
            Kind::TransactFloor,
            vec![
                Round {
                    init_ms: None,
                    ..round(0.0, 1000.0)
                };
                3
            ],
        ));
        // hello 100/100/120 + 2 × GetItem 200 + transaction 1000 → 1500, 1500, 1520.
        contestants[2].name = "place-order".to_owned();
        contestants[2].calls = Some(Calls {
            items: 2,
            transaction: Some(5),
        });
        contestants[2].rounds = vec![round(2.0, 1650.0), round(4.0, 1500.0), round(2.0, 2280.0)];
        let results = Results::new(test_meta(3, 1000), contestants, vec![]);
        let s = &results.summary[2];
        let floor = s.warm_floor_us.expect("a warm floor");
        assert_eq!((floor.min, floor.max), (1500.0, 1520.0));
        // 1650/1500 = 1.1, 1500/1500 = 1.0, 2280/1520 = 1.5 → median 1.1, within 1.3×.
        let warm = s.warm_ratio.expect("a warm ratio");
        assert!((warm.median - 1.1).abs() < 1e-9, "{warm:?}");
        let verdicts = verdicts(&results);
        assert!(
            verdicts.iter().any(|(met, l)| *met
                && l.starts_with("place-order: warm p50 1.10× the floors of its calls (hello + 2 GetItem + a 5-action transaction; target ≤ 1.3×)")),
            "{verdicts:?}"
        );
        // Without the transaction floor the ratio is not taken at all, rather than wrongly.
        let mut without = results.contestants.clone();
        without.remove(3);
        assert_eq!(summarise(&without)[2].warm_ratio, None);
    }

    /// With round trips, a protected function's cold start is held to the floor pair plus one
    /// fetch of the key set (the two are concurrent), within a millisecond.
    #[test]
    fn a_protected_cold_start_with_round_trips_pays_one_fetch_at_most() {
        let delayed = |mut c: Contestant| {
            c.transport = Transport::Delayed;
            c
        };
        let mut contestants: Vec<Contestant> = sample().into_iter().map(delayed).collect();
        contestants[2].name = "get-cart".to_owned();
        // Floor pair: hello init 2, 4, 2 + GetItem first 1 → 3, 5, 3; the fetch 20 → 23, 25, 23.
        contestants.push(delayed(contestant(
            KEY_SET_FLOOR,
            Kind::KeySetFloor,
            vec![
                Round {
                    first_ms: 20.0,
                    ..Round::default()
                };
                3
            ],
        )));
        // Cold: 23.5, 25.2, 24.5 → +0.5, +0.2, +1.5 → median +0.5: met.
        for (r, cold) in contestants[2].rounds.iter_mut().zip([23.5, 25.2, 24.5]) {
            r.first_ms = cold - r.init_ms.unwrap_or_default();
        }
        let results = Results::new(test_meta(3, 1000), contestants, vec![]);
        let over = results.summary[2]
            .cold_over_key_set_ms
            .expect("a cold start against its budget");
        assert!((over.median - 0.5).abs() < 1e-9, "{over:?}");
        let verdicts = verdicts(&results);
        assert!(
            verdicts.iter().any(|(met, l)| *met
                && l.starts_with(
                    "get-cart: cold +0.50 ms beyond the floor pair plus one key-set fetch"
                )),
            "{verdicts:?}"
        );
        let md = markdown(&results, "c.svg", "r.json");
        assert!(md.contains("## Cold start with round trips"), "{md}");
        assert!(
            md.contains("one key-set fetch on a new connection: 20.00 ms"),
            "{md}"
        );
    }
}

//! `cargo run -p bench --release`: measures every function as deployed against the runtime and
//! storage floors, side by side, over alternating rounds; writes `BENCHMARKS.md`,
//! `bench/results.json` and `bench/chart.svg`. See `bench/src/lib.rs` for the layout.

use bench::package::{Delays, check, environment, sizes, tls_environment};
use bench::report::{
    self, Contestant, InitPhase, KEY_SET_FLOOR, Kind, Meta, RUNTIME_FLOOR, Results, Round,
    STORAGE_FLOOR, TRANSACT_FLOOR, Transport, WarmProfile,
};
use bench::stats::quantile;
use bench::workload::{BoxError, TABLE, Workload, World};
use clap::Parser;
use harness::fleet::{EnvFor, Fleet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Benchmarks every function (init, latency, memory, size) against its floors")]
struct Args {
    /// Rounds; each starts every contestant afresh, in a rotated order.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Warm invocations timed per contestant per round.
    #[arg(long, default_value_t = 1000)]
    invocations: usize,
    /// Only these functions (comma-separated), with the floors; for a quick look. The report
    /// files are written only for a full run.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Use the release binaries as they are instead of running `cargo build --release`.
    #[arg(long)]
    no_build: bool,
    /// Extra environment for every contestant, `NAME=VALUE` (repeatable): to try a setting's
    /// effect side by side with a run without it. `AUTH_MODE=authorizer` also puts the claims
    /// API Gateway's JWT authorizer passes into every protected event.
    #[arg(long = "env", value_parser = parse_env)]
    extra_env: Vec<(String, String)>,
    /// How the contestants reach DynamoDB and the key set: `tls` (as deployed, on loopback),
    /// `plain` (HTTP on loopback, a floor), `delayed` (TLS with the round trips below), `both`
    /// (tls and plain) or `all` (the three), side by side in the same rounds.
    #[arg(long, value_enum, default_value_t = Transports::Tls)]
    transport: Transports,
    /// The `delayed` transport's one-way latency, in milliseconds, in front of DynamoDB (each
    /// direction): loopback has none, AWS some (0.5 within a region).
    #[arg(long, default_value_t = 0.5)]
    delay_dynamodb_ms: f64,
    /// The `delayed` transport's one-way latency, in milliseconds, in front of the issuer's key
    /// set (each direction; 10 for an issuer across the network).
    #[arg(long, default_value_t = 10.0)]
    delay_issuer_ms: f64,
    /// Pin the issuer's key set (`JWKS_JSON`, the template's `JwksJson`) instead of serving it by
    /// URL: the protected functions then fetch nothing at init.
    #[arg(long)]
    pinned_keys: bool,
    /// Fresh processes of `floor-random` per round (the first draw of randomness).
    #[arg(long, default_value_t = 5)]
    random_probes: usize,
    /// Measure nothing: write BENCHMARKS.md and the chart again from bench/results.json (after a
    /// change to the report's wording).
    #[arg(long)]
    render_only: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Transports {
    Tls,
    Plain,
    Delayed,
    Both,
    All,
}

impl Transports {
    fn list(self) -> Vec<Transport> {
        match self {
            Self::Tls => vec![Transport::Tls],
            Self::Plain => vec![Transport::Plain],
            Self::Delayed => vec![Transport::Delayed],
            Self::Both => vec![Transport::Tls, Transport::Plain],
            Self::All => vec![Transport::Tls, Transport::Plain, Transport::Delayed],
        }
    }
}

/// The first-randomness probe's binary.
const RANDOM_PROBE: &str = "floor-random";

fn parse_env(raw: &str) -> Result<(String, String), String> {
    raw.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("`{raw}` is not NAME=VALUE"))
}

const BENCHMARKS_MD: &str = "BENCHMARKS.md";
const RESULTS_JSON: &str = "bench/results.json";
const CHART_SVG: &str = "bench/chart.svg";
/// Written by the `artifacts` binary with `--record`; included in `BENCHMARKS.md` when present.
const ARM64_JSON: &str = "bench/arm64-artifacts.json";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[tokio::main]
async fn main() {
    if let Err(err) = run(Args::parse()).await {
        eprintln!("bench failed: {err}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), BoxError> {
    if args.render_only {
        let json = std::fs::read_to_string(root().join(RESULTS_JSON))?;
        let results: Results = serde_json::from_str(&json)?;
        let results = Results {
            summary: report::summarise(&results.contestants),
            ..results
        };
        return write_report(&results);
    }
    if args.rounds == 0 || args.invocations == 0 {
        return Err("--rounds and --invocations must be at least 1".into());
    }
    let mut functions = devkit::routes::binaries();
    if !args.only.is_empty() {
        if let Some(unknown) = args.only.iter().find(|o| !functions.contains(&o.as_str())) {
            return Err(format!("--only {unknown}: not a function (one of {functions:?})").into());
        }
        functions.retain(|f| args.only.iter().any(|o| o == f));
    }
    let workloads: Vec<Workload> = functions
        .iter()
        .map(|f| Workload::load(&root(), f))
        .collect::<Result<_, _>>()?;
    let mut binaries: Vec<String> = functions.iter().map(|f| f.to_string()).collect();
    binaries.extend([RUNTIME_FLOOR.to_owned(), STORAGE_FLOOR.to_owned()]);
    // A transaction floor per size of transaction the functions send; the key set's fetch when a
    // protected function fetches one at init.
    let mut actions: Vec<usize> = workloads
        .iter()
        .filter_map(|w| w.calls().transaction)
        .collect();
    actions.sort_unstable();
    actions.dedup();
    binaries.extend(actions.iter().map(|n| report::transact_floor(*n)));
    let fetches_key_set = !args.pinned_keys
        && !args
            .extra_env
            .iter()
            .any(|(k, v)| k == "AUTH_MODE" && v == "authorizer")
        && workloads.iter().any(|w| !w.public());
    if fetches_key_set {
        binaries.push(KEY_SET_FLOOR.to_owned());
    }
    if !args.no_build {
        println!("building the release binaries (as deployed) …");
        let mut all: Vec<&str> = functions.clone();
        all.extend([RUNTIME_FLOOR, STORAGE_FLOOR, TRANSACT_FLOOR, WARM_PROFILE]);
        all.push(RANDOM_PROBE);
        harness::build_release(&all)?;
    }
    let release = harness::release_dir();

    let engine = devkit::Engine::memory().await?;
    let app = devkit::app_for(&engine, TABLE, &[]).await?;
    let issuer = devkit::tokens::DevIssuer::generate()?;
    let mut world = World::seed(app, issuer).await;
    // Behind API Gateway's JWT authorizer the protected functions read its claims from the event
    // instead of verifying the token: every protected event then carries them.
    if args
        .extra_env
        .iter()
        .any(|(k, v)| k == "AUTH_MODE" && v == "authorizer")
    {
        world.behind_authorizer();
    }
    let jwks = harness::jwks::serve(world.jwks().to_string()).await?;
    let mut args = args;
    if args.pinned_keys {
        args.extra_env
            .push(("JWKS_JSON".to_owned(), world.jwks().to_string()));
    }
    let tls = harness::tls::TestCa::generate(&release.join("../harness-tls"))?;
    let delay = |ms: f64| Duration::from_secs_f64(ms.max(0.0) / 1000.0);
    let delays = Delays {
        dynamodb: delay(args.delay_dynamodb_ms),
        issuer: delay(args.delay_issuer_ms),
    };
    let mut envs = std::collections::HashMap::new();
    for transport in args.transport.list() {
        let env = match transport {
            Transport::Plain => environment(
                &engine.endpoint(),
                &format!("http://{jwks}/.well-known/jwks.json"),
                None,
                &args.extra_env,
            ),
            Transport::Tls => {
                tls_environment(
                    &tls,
                    engine.addr(),
                    jwks,
                    Delays::default(),
                    &args.extra_env,
                )
                .await?
            }
            Transport::Delayed => {
                tls_environment(&tls, engine.addr(), jwks, delays, &args.extra_env).await?
            }
        };
        envs.insert(transport, env);
    }

    // The contestants, with their sizes; measured once, they do not vary between rounds.
    let mut contestants: Vec<Contestant> = Vec::new();
    for (transport, name) in args
        .transport
        .list()
        .into_iter()
        .flat_map(|t| binaries.iter().map(move |n| (t, n)))
    {
        let name = name.as_str();
        let kind = match name {
            RUNTIME_FLOOR => Kind::RuntimeFloor,
            STORAGE_FLOOR => Kind::StorageFloor,
            KEY_SET_FLOOR => Kind::KeySetFloor,
            _ if name.starts_with(TRANSACT_FLOOR) => Kind::TransactFloor,
            _ => Kind::Function,
        };
        let (binary_bytes, zip_bytes) = match kind {
            Kind::KeySetFloor => (0, 0),
            Kind::TransactFloor => sizes(&release.join(TRANSACT_FLOOR))?,
            _ => sizes(&release.join(name))?,
        };
        let workload = workloads.iter().find(|w| w.function == name);
        contestants.push(Contestant {
            name: name.to_owned(),
            kind,
            transport,
            route: workload.map(Workload::route),
            workload: match kind {
                Kind::RuntimeFloor => "answers a fixed JSON body (any event)".to_owned(),
                Kind::StorageFloor => {
                    "one consistent GetItem of the product get-product reads".to_owned()
                }
                Kind::TransactFloor => format!(
                    "one TransactWriteItems of {} conditional updates, on items of its own",
                    transact_actions(name).unwrap_or_default()
                ),
                Kind::KeySetFloor => "one fetch of the issuer's key set on a new connection, \
                     with the functions' own fetcher, in the bench's process"
                    .to_owned(),
                Kind::Function => workload.map(|w| w.describe.to_owned()).unwrap_or_default(),
            },
            calls: workload.map(Workload::calls),
            binary_bytes,
            zip_bytes,
            rounds: Vec::new(),
        });
    }
    // With round trips, the protected function get-cart also in the two modes that fetch no key
    // set at init: behind API Gateway's JWT authorizer, and with the key set pinned.
    let mode_flags = args.pinned_keys || behind_gateway(&args.extra_env);
    if args.transport.list().contains(&Transport::Delayed) && !mode_flags {
        for base in contestants
            .iter()
            .filter(|c| c.transport == Transport::Delayed && c.name == MODES_OF)
            .cloned()
            .collect::<Vec<_>>()
        {
            for mode in Mode::ALL {
                let mut variant = base.clone();
                variant.name = format!("{}{}", base.name, mode.suffix());
                variant.workload = format!("{} ({})", base.workload, mode.describe());
                contestants.push(variant);
            }
        }
    }
    // The runtime floor answers get-product's event (any event will do).
    let hello = Workload::load(&root(), "get-product")?;

    let total = args.rounds * contestants.len();
    let mut done = 0;
    let started = Instant::now();
    let mut first_random_us = Vec::new();
    for round in 0..args.rounds {
        for _ in 0..args.random_probes {
            first_random_us.push(random_probe(&release).await?);
        }
        // Rotate the order each round, so no contestant always runs first or last.
        let n = contestants.len();
        for k in 0..n {
            let i = (k + round) % n;
            let name = contestants[i].name.clone();
            let transport = contestants[i].transport;
            let env_for = envs.get(&transport).ok_or("an environment per transport")?;
            let figures = match contestants[i].kind {
                Kind::StorageFloor => {
                    let count = args.invocations.to_string();
                    storage_floor(&release, STORAGE_FLOOR, &[&count], env_for).await?
                }
                Kind::TransactFloor => {
                    let count = args.invocations.to_string();
                    let actions = transact_actions(&name).ok_or("a transaction floor's size")?;
                    let actions = actions.to_string();
                    storage_floor(&release, TRANSACT_FLOOR, &[&count, &actions], env_for).await?
                }
                Kind::KeySetFloor => key_set_floor(env_for, KEY_SET_FETCHES).await?,
                Kind::RuntimeFloor => {
                    let run = Run {
                        world: None,
                        behind_gateway: false,
                    };
                    function_run(&release, &name, &hello, run, env_for, args.invocations).await?
                }
                Kind::Function => {
                    let (binary, mode) = Mode::of(&name);
                    let w = workloads
                        .iter()
                        .find(|w| w.function == binary)
                        .ok_or("a workload per function")?;
                    let env = match mode {
                        Some(mode) => mode.env(env_for, &world),
                        None => env_for.clone(),
                    };
                    let run = Run {
                        world: Some(&world),
                        behind_gateway: mode == Some(Mode::Authorizer)
                            || behind_gateway(&args.extra_env),
                    };
                    function_run(&release, binary, w, run, &env, args.invocations).await?
                }
            };
            done += 1;
            println!(
                "[{done:>2}/{total}] round {}/{} {name:<16} {:<10} init {} first {:>6.2} ms  p50 {:>6.0} µs  p99 {:>6.0} µs  CPU {:>5.0} µs/inv  RSS {}  ({:.0} s)",
                round + 1,
                args.rounds,
                transport.label(),
                figures
                    .init_ms
                    .map_or("    –   ".to_owned(), |ms| format!("{ms:>5.2} ms")),
                figures.first_ms,
                figures.p50_us,
                figures.p99_us,
                figures.cpu_us.unwrap_or(f64::NAN),
                figures
                    .rss_mib
                    .map_or("   –    ".to_owned(), |m| format!("{m:>4.1} MiB")),
                started.elapsed().as_secs_f64()
            );
            let _ = std::io::stdout().flush();
            contestants[i].rounds.push(figures);
        }
    }
    // Where a warm invocation goes, per loopback transport, when both profiled functions ran.
    let mut warm_profiles = Vec::new();
    let profiled: Vec<&Workload> = workloads
        .iter()
        .filter(|w| PROFILED.contains(&w.function.as_str()))
        .collect();
    if profiled.len() == PROFILED.len() {
        for transport in args.transport.list() {
            if transport == Transport::Delayed {
                continue;
            }
            let env_for = envs.get(&transport).ok_or("an environment per transport")?;
            let found =
                warm_profile(&release, &world, &profiled, env_for, args.invocations).await?;
            for (function, phases) in found {
                println!("warm profile, {}: {function} {phases:?}", transport.label());
                warm_profiles.push(WarmProfile {
                    function,
                    transport,
                    phases,
                });
            }
        }
    }
    engine.shutdown().await;

    let mut results = Results::new(meta(&args), contestants, first_random_us);
    results.warm_profiles = warm_profiles;
    println!();
    for (met, line) in report::verdicts(&results) {
        println!("{} {line}", if met { "met:   " } else { "MISSED:" });
    }
    if !args.only.is_empty() {
        println!("\n(--only: the report files were not written)");
        return Ok(());
    }
    std::fs::write(
        root().join(RESULTS_JSON),
        serde_json::to_string_pretty(&results)? + "\n",
    )?;
    write_report(&results)
}

/// BENCHMARKS.md and the chart, from `results`.
fn write_report(results: &Results) -> Result<(), BoxError> {
    std::fs::write(root().join(CHART_SVG), bench::chart::svg(results)?)?;
    let mut markdown = report::markdown(results, CHART_SVG, RESULTS_JSON);
    if let Ok(json) = std::fs::read_to_string(root().join(ARM64_JSON))
        && let Some(section) = report::artifacts_section(&json, ARM64_JSON)
    {
        markdown += &section;
    }
    std::fs::write(root().join(BENCHMARKS_MD), markdown)?;
    println!("\nwrote {BENCHMARKS_MD} and {CHART_SVG} (the figures: {RESULTS_JSON})");
    Ok(())
}

/// One fresh process of the first-randomness probe: its first draw, in µs.
async fn random_probe(release: &Path) -> Result<f64, BoxError> {
    let output = tokio::process::Command::new(release.join(RANDOM_PROBE))
        .env_clear()
        .output()
        .await?;
    if !output.status.success() {
        return Err(format!(
            "{RANDOM_PROBE} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    Ok(doc["first_us"].as_f64().ok_or("first_us")?)
}

/// How a function's events are made: from the world (`None`: the stored event, for the runtime
/// floor), with the authorizer's claims or not.
#[derive(Clone, Copy)]
struct Run<'a> {
    world: Option<&'a World>,
    behind_gateway: bool,
}

/// Whether the run's own settings put every function behind the JWT authorizer.
fn behind_gateway(extra_env: &[(String, String)]) -> bool {
    extra_env
        .iter()
        .any(|(k, v)| k == "AUTH_MODE" && v == "authorizer")
}

/// The protected function also measured in the modes that fetch no key set, with round trips.
const MODES_OF: &str = "get-cart";

/// An auth mode a protected function's contestant runs in besides the run's own (`verify`, the
/// key set fetched by URL at init): its name is the function's with the mode's suffix.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// `AUTH_MODE=authorizer`: the claims in the event, no key set.
    Authorizer,
    /// `JWKS_JSON`: the key set in the environment, nothing fetched.
    PinnedKeys,
}

impl Mode {
    const ALL: [Mode; 2] = [Mode::Authorizer, Mode::PinnedKeys];

    fn suffix(self) -> &'static str {
        match self {
            Self::Authorizer => "@authorizer",
            Self::PinnedKeys => "@pinned-keys",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Authorizer => "behind API Gateway's JWT authorizer: `AUTH_MODE=authorizer`",
            Self::PinnedKeys => "the key set pinned: `JWKS_JSON`, nothing fetched at init",
        }
    }

    /// The binary of a contestant's name and its mode, if any (`get-cart@authorizer`).
    fn of(name: &str) -> (&str, Option<Mode>) {
        Self::ALL
            .iter()
            .find_map(|m| Some((name.strip_suffix(m.suffix())?, Some(*m))))
            .unwrap_or((name, None))
    }

    /// The transport's environment, in this mode.
    fn env(self, base: &Arc<Vec<(String, String)>>, world: &World) -> Arc<Vec<(String, String)>> {
        let mut env: Vec<(String, String)> = base.as_ref().clone();
        match self {
            Self::Authorizer => env.push(("AUTH_MODE".to_owned(), "authorizer".to_owned())),
            Self::PinnedKeys => {
                env.retain(|(k, _)| k != "JWKS_URL");
                env.push(("JWKS_JSON".to_owned(), world.jwks().to_string()));
            }
        }
        Arc::new(env)
    }
}

/// One fresh process of `name`: init, first invocation, warm invocations, peak RSS.
async fn function_run(
    release: &Path,
    name: &str,
    workload: &Workload,
    run: Run<'_>,
    env: &Arc<Vec<(String, String)>>,
    invocations: usize,
) -> Result<Round, BoxError> {
    let vars = env.clone();
    let env_for: EnvFor = Arc::new(move |_, _| vars.as_ref().clone());
    // The log is appended to across runs: this instance's lines are those past its end now.
    let log_from = std::fs::metadata(harness::fleet::log_path(name, 0)).map_or(0, |m| m.len());
    let fleet = Fleet::start(release, &[name], 1, env_for).await;
    let result = measure(&fleet, name, workload, run, invocations, log_from).await;
    fleet.stop().await;
    result
}

async fn measure(
    fleet: &Fleet,
    name: &str,
    workload: &Workload,
    run: Run<'_>,
    invocations: usize,
    log_from: u64,
) -> Result<Round, BoxError> {
    let world = run.world;
    let log = format!("target/harness-logs/{name}-0.log");
    if !fleet.ready(Duration::from_secs(30)).await {
        return Err(format!("{name} did not poll the Runtime API within 30 s; see {log}").into());
    }
    let instance = fleet.instance(name, 0).ok_or("the instance")?;
    let init_ms = instance.init_time().map(|d| d.as_secs_f64() * 1e3);
    let (init_phases, init_profiled_ms) = init_profile(name, log_from).unwrap_or_default();
    let queue = fleet.queue(name).ok_or("the queue")?;
    if let Some(world) = world {
        world.before_run(workload).await?;
    }
    let mut samples = Vec::with_capacity(invocations);
    let mut first_ms = 0.0;
    let mut cpu_before = None;
    for i in 0..=invocations {
        let event = match world {
            Some(world) => world.next_event_as(workload, run.behind_gateway).await?,
            // The runtime floor ignores the request: get-product's event as stored will do.
            None => workload.raw_event(),
        };
        let started = Instant::now();
        let outcome = queue.invoke(event).await.ok_or("the harness stopped")?;
        let elapsed = started.elapsed();
        let (expect, body) = match world {
            Some(_) => (workload.expect, workload.expect_body),
            None => (200, None),
        };
        check(name, &outcome.0, expect, body, &log)?;
        if i == 0 {
            first_ms = elapsed.as_secs_f64() * 1e3;
            cpu_before = cpu_seconds(instance.pid());
        } else {
            samples.push(elapsed.as_secs_f64() * 1e6);
        }
    }
    Ok(Round {
        init_ms,
        first_ms,
        p50_us: quantile(&samples, 0.5).unwrap_or_default(),
        p99_us: quantile(&samples, 0.99).unwrap_or_default(),
        rss_mib: peak_rss_mib(instance.pid()),
        cpu_us: cpu_before
            .zip(cpu_seconds(instance.pid()))
            .map(|(before, after)| (after - before) * 1e6 / samples.len().max(1) as f64),
        samples: samples.len(),
        init_phases,
        init_profiled_ms,
    })
}

/// The init profile the instance just logged: the `init profile` line its log holds past
/// `from` (the log's length before it started), its phases and total. `None` for a binary that
/// logs none (the floors, a build from before the profile): never an earlier instance's line.
fn init_profile(name: &str, from: u64) -> Option<(Vec<InitPhase>, Option<f64>)> {
    let log = std::fs::read(harness::fleet::log_path(name, 0)).ok()?;
    let own = log.get(usize::try_from(from).ok()?..)?;
    let own = String::from_utf8_lossy(own);
    let line = own.lines().find(|l| l.contains("\"init profile\""))?;
    let doc: serde_json::Value = serde_json::from_str(line).ok()?;
    let phases = InitPhase::parse_all(doc["phases"].as_str()?)?;
    Some((phases, doc["total_us"].as_f64().map(|us| us / 1e3)))
}

/// CPU time (user + system) a live process has used so far, in seconds (clock-tick resolution).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (per_second > 0).then(|| ticks / per_second as f64)
}

/// Peak resident set of a live process (`VmHWM`), in MiB.
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The functions `warm-profile` drives, and its binary.
const PROFILED: &[&str] = &["get-product", "get-cart"];
const WARM_PROFILE: &str = "warm-profile";

/// Runs `warm-profile` with the transport's environment on events made as the bench makes them
/// (a fresh token, the cart filled): per function, the median µs of each phase.
async fn warm_profile(
    release: &Path,
    world: &World,
    workloads: &[&Workload],
    env: &Arc<Vec<(String, String)>>,
    iterations: usize,
) -> Result<Vec<(String, std::collections::BTreeMap<String, f64>)>, BoxError> {
    let mut events = serde_json::Map::new();
    for w in workloads {
        world.before_run(w).await?;
        events.insert(w.function.clone(), world.next_event(w).await?);
    }
    let dir = release.join("../warm-profile");
    std::fs::create_dir_all(&dir)?;
    let (input, output) = (dir.join("events.json"), dir.join("profile.json"));
    std::fs::write(&input, serde_json::Value::Object(events).to_string())?;
    let status = tokio::process::Command::new(release.join(WARM_PROFILE))
        .arg(iterations.to_string())
        .arg(&input)
        .arg(&output)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(std::process::Stdio::null())
        .status()
        .await?;
    if !status.success() {
        return Err(format!("{WARM_PROFILE} failed ({status})").into());
    }
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&output)?)?;
    Ok(workloads
        .iter()
        .filter_map(|w| {
            let phases = doc[&w.function]
                .as_object()?
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
                .collect();
            Some((w.function.clone(), phases))
        })
        .collect())
}

/// The size of the transaction floor named `name` (`floor-transact-5`: 5).
fn transact_actions(name: &str) -> Option<usize> {
    name.strip_prefix(TRANSACT_FLOOR)?
        .strip_prefix('-')?
        .parse()
        .ok()
}

/// Fresh fetches of the key set per round; their median is the round's "one fetch".
const KEY_SET_FETCHES: usize = 5;

/// One fetch of the key set on a new connection, as a protected function's init makes it (its
/// own `KeyCache::fetched`, over the transport's terminator and latency), `fetches` times: the
/// round's `first_ms` is their median.
async fn key_set_floor(
    env: &Arc<Vec<(String, String)>>,
    fetches: usize,
) -> Result<Round, BoxError> {
    let get = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let url = get("JWKS_URL").ok_or("the key set is pinned: no fetch to measure")?;
    let bundle = get("JWKS_CA_BUNDLE").map(std::fs::read).transpose()?;
    let mut samples = Vec::with_capacity(fetches);
    for _ in 0..fetches {
        let started = Instant::now();
        let keys = shared::auth::KeyCache::fetched(
            &url,
            Duration::from_secs(300),
            Duration::from_secs(5),
            Duration::from_secs(3600),
            bundle.as_deref(),
        )
        .await?;
        samples.push(started.elapsed().as_secs_f64() * 1e3);
        if keys.fetch_count() != 1 || keys.is_empty() {
            return Err(format!("the key set at {url} did not load").into());
        }
    }
    Ok(Round {
        first_ms: quantile(&samples, 0.5).unwrap_or_default(),
        ..Round::default()
    })
}

/// A bare storage loop (`floor-getitem <count>`, `floor-transact <count> <actions>`), as its own
/// process against the same engine.
async fn storage_floor(
    release: &Path,
    binary: &str,
    args: &[&str],
    env: &Arc<Vec<(String, String)>>,
) -> Result<Round, BoxError> {
    let output = tokio::process::Command::new(release.join(binary))
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .await?;
    if !output.status.success() {
        return Err(format!(
            "{binary} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let samples: Vec<f64> = doc["samples_us"]
        .as_array()
        .ok_or("samples_us")?
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .collect();
    Ok(Round {
        init_ms: None,
        first_ms: doc["first_us"].as_f64().ok_or("first_us")? / 1e3,
        p50_us: quantile(&samples, 0.5).unwrap_or_default(),
        p99_us: quantile(&samples, 0.99).unwrap_or_default(),
        rss_mib: None,
        cpu_us: doc["cpu_us"].as_f64(),
        samples: samples.len(),
        ..Round::default()
    })
}

fn meta(args: &Args) -> Meta {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(root())
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let dirty = !git(&["status", "--porcelain", "--untracked-files=no"]).is_empty();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut flags = Vec::new();
    if args.rounds != 3 {
        flags.push(format!("--rounds {}", args.rounds));
    }
    if args.invocations != 1000 {
        flags.push(format!("--invocations {}", args.invocations));
    }
    if args.no_build {
        flags.push("--no-build".to_owned());
    }
    for (k, v) in args.extra_env.iter().filter(|(k, _)| k != "JWKS_JSON") {
        flags.push(format!("--env {k}={v}"));
    }
    if args.pinned_keys {
        flags.push("--pinned-keys".to_owned());
    }
    if args.delay_dynamodb_ms != 0.5 {
        flags.push(format!("--delay-dynamodb-ms {}", args.delay_dynamodb_ms));
    }
    if args.delay_issuer_ms != 10.0 {
        flags.push(format!("--delay-issuer-ms {}", args.delay_issuer_ms));
    }
    match args.transport {
        Transports::Tls => {}
        Transports::Plain => flags.push("--transport plain".to_owned()),
        Transports::Delayed => flags.push("--transport delayed".to_owned()),
        Transports::Both => flags.push("--transport both".to_owned()),
        Transports::All => flags.push("--transport all".to_owned()),
    }
    if args.random_probes != 5 {
        flags.push(format!("--random-probes {}", args.random_probes));
    }
    let mut command = "cargo run -p bench --release".to_owned();
    if !flags.is_empty() {
        command += &format!(" -- {}", flags.join(" "));
    }
    Meta {
        date: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        commit: git(&["rev-parse", "--short", "HEAD"])
            + if dirty { " (with local changes)" } else { "" },
        machine: format!("{cores} cores, {cpu}"),
        command,
        rounds: args.rounds,
        invocations: args.invocations,
        delay_dynamodb_ms: args.delay_dynamodb_ms,
        delay_issuer_ms: args.delay_issuer_ms,
    }
}

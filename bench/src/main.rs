//! `cargo run -p bench --release`: measures every function as deployed against the runtime and
//! storage floors, side by side, over alternating rounds; writes `BENCHMARKS.md`,
//! `bench/results.json` and `bench/chart.svg`. See `bench/src/lib.rs` for the layout.

use bench::report::{self, Contestant, Kind, Meta, RUNTIME_FLOOR, Results, Round, STORAGE_FLOOR};
use bench::stats::quantile;
use bench::workload::{BoxError, Workload, World, storage_floor_key};
use clap::Parser;
use harness::fleet::{EnvFor, Fleet};
use harness::runtime::Outcome;
use std::io::Write as _;
use std::net::SocketAddr;
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
    /// effect side by side with a run without it.
    #[arg(long = "env", value_parser = parse_env)]
    extra_env: Vec<(String, String)>,
}

fn parse_env(raw: &str) -> Result<(String, String), String> {
    raw.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("`{raw}` is not NAME=VALUE"))
}

const TABLE: &str = "bench";
const BENCHMARKS_MD: &str = "BENCHMARKS.md";
const RESULTS_JSON: &str = "bench/results.json";
const CHART_SVG: &str = "bench/chart.svg";

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
    if args.rounds == 0 || args.invocations == 0 {
        return Err("--rounds and --invocations must be at least 1".into());
    }
    let mut functions: Vec<&str> = local::routes::ROUTES
        .iter()
        .map(|r| r.function.binary())
        .collect();
    functions.dedup();
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
    let mut binaries: Vec<&str> = functions.clone();
    binaries.extend([RUNTIME_FLOOR, STORAGE_FLOOR]);
    if !args.no_build {
        println!("building the release binaries (as deployed) …");
        harness::build_release(&binaries)?;
    }
    let release = harness::release_dir();

    let engine = devkit::Engine::memory().await?;
    let app = devkit::app_for(&engine, TABLE, &[]).await?;
    let issuer = devkit::tokens::DevIssuer::generate()?;
    let world = World::seed(app, issuer).await;
    let jwks = serve_jwks(world.jwks().to_string()).await?;
    let env_for = environment(&engine.endpoint(), jwks, &args.extra_env);

    // The contestants, with their sizes; measured once, they do not vary between rounds.
    let mut contestants: Vec<Contestant> = Vec::new();
    for name in &binaries {
        let (binary_bytes, zip_bytes) = sizes(&release.join(name))?;
        let workload = workloads.iter().find(|w| w.function == *name);
        contestants.push(Contestant {
            name: (*name).to_owned(),
            kind: match *name {
                RUNTIME_FLOOR => Kind::RuntimeFloor,
                STORAGE_FLOOR => Kind::StorageFloor,
                _ => Kind::Function,
            },
            route: workload.map(Workload::route),
            workload: match *name {
                RUNTIME_FLOOR => "answers a fixed JSON body (any event)".to_owned(),
                STORAGE_FLOOR => {
                    "one consistent GetItem of the product get-product reads".to_owned()
                }
                _ => workload.map(|w| w.describe.to_owned()).unwrap_or_default(),
            },
            binary_bytes,
            zip_bytes,
            rounds: Vec::new(),
        });
    }
    // The runtime floor answers get-product's event (any event will do).
    let hello = Workload::load(&root(), "get-product")?;

    let total = args.rounds * contestants.len();
    let mut done = 0;
    let started = Instant::now();
    for round in 0..args.rounds {
        // Rotate the order each round, so no contestant always runs first or last.
        let n = contestants.len();
        for k in 0..n {
            let i = (k + round) % n;
            let name = contestants[i].name.clone();
            let figures = match contestants[i].kind {
                Kind::StorageFloor => storage_floor(&release, &env_for, args.invocations).await?,
                Kind::RuntimeFloor => {
                    function_run(&release, &name, &hello, None, &env_for, args.invocations).await?
                }
                Kind::Function => {
                    let w = workloads
                        .iter()
                        .find(|w| w.function == name)
                        .ok_or("a workload per function")?;
                    function_run(&release, &name, w, Some(&world), &env_for, args.invocations)
                        .await?
                }
            };
            done += 1;
            println!(
                "[{done:>2}/{total}] round {}/{} {name:<16} init {} first {:>6.2} ms  p50 {:>6.0} µs  p99 {:>6.0} µs  CPU {:>5.0} µs/inv  RSS {}  ({:.0} s)",
                round + 1,
                args.rounds,
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
    engine.shutdown().await;

    let results = Results::new(meta(&args), contestants);
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
    std::fs::write(root().join(CHART_SVG), bench::chart::svg(&results)?)?;
    std::fs::write(
        root().join(BENCHMARKS_MD),
        report::markdown(&results, CHART_SVG, RESULTS_JSON),
    )?;
    println!("\nwrote {BENCHMARKS_MD}, {RESULTS_JSON} and {CHART_SVG}");
    Ok(())
}

/// The settings every process gets: the engine, the table, throwaway credentials, and the
/// issuer's key set by URL, as deployed (so init includes fetching it).
fn environment(
    endpoint: &str,
    jwks: SocketAddr,
    extra: &[(String, String)],
) -> Arc<Vec<(String, String)>> {
    let (pk, sk) = storage_floor_key();
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
            ("JWT_ISSUER", devkit::tokens::DEV_ISSUER.to_owned()),
            ("JWKS_URL", format!("http://{jwks}/.well-known/jwks.json")),
            ("KEY_PK", pk),
            ("KEY_SK", sk),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .chain(extra.iter().cloned())
        .collect(),
    )
}

/// One fresh process of `name`: init, first invocation, warm invocations, peak RSS.
async fn function_run(
    release: &Path,
    name: &str,
    workload: &Workload,
    world: Option<&World>,
    env: &Arc<Vec<(String, String)>>,
    invocations: usize,
) -> Result<Round, BoxError> {
    let vars = env.clone();
    let env_for: EnvFor = Arc::new(move |_, _| vars.as_ref().clone());
    let fleet = Fleet::start(release, &[name], 1, env_for).await;
    let result = measure(&fleet, name, workload, world, invocations).await;
    fleet.stop().await;
    result
}

async fn measure(
    fleet: &Fleet,
    name: &str,
    workload: &Workload,
    world: Option<&World>,
    invocations: usize,
) -> Result<Round, BoxError> {
    let log = format!("target/harness-logs/{name}-0.log");
    if !fleet.ready(Duration::from_secs(30)).await {
        return Err(format!("{name} did not poll the Runtime API within 30 s; see {log}").into());
    }
    let instance = fleet.instance(name, 0).ok_or("the instance")?;
    let init_ms = instance.init_time().map(|d| d.as_secs_f64() * 1e3);
    let queue = fleet.queue(name).ok_or("the queue")?;
    if let Some(world) = world {
        world.before_run(workload).await;
    }
    let mut samples = Vec::with_capacity(invocations);
    let mut first_ms = 0.0;
    let mut cpu_before = None;
    for i in 0..=invocations {
        let event = match world {
            Some(world) => world.next_event(workload).await?,
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
    })
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

fn check(
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

/// Peak resident set of a live process (`VmHWM`), in MiB.
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The bare GetItem loop, as its own process against the same engine.
async fn storage_floor(
    release: &Path,
    env: &Arc<Vec<(String, String)>>,
    invocations: usize,
) -> Result<Round, BoxError> {
    let output = tokio::process::Command::new(release.join(STORAGE_FLOOR))
        .arg(invocations.to_string())
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .await?;
    if !output.status.success() {
        return Err(format!(
            "{STORAGE_FLOOR} failed: {}",
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
    })
}

/// The stripped binary's size and the size of its deployment zip (`bootstrap`, deflated at
/// the default level, as `cargo lambda build --output-format zip` packs it).
fn sizes(binary: &Path) -> Result<(u64, u64), BoxError> {
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

/// Serves the issuer's key set at `/.well-known/jwks.json` (any path, in fact) on loopback.
async fn serve_jwks(body: String) -> std::io::Result<SocketAddr> {
    use http_body_util::Full;
    use hyper::body::Bytes;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let body = Bytes::from(body);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_| {
                    let mut response = hyper::Response::new(Full::new(body.clone()));
                    response.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("application/json"),
                    );
                    async move { Ok::<_, std::convert::Infallible>(response) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(addr)
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
    for (k, v) in &args.extra_env {
        flags.push(format!("--env {k}={v}"));
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
    }
}

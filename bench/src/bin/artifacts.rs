//! `cargo run -p bench --bin artifacts -- --dir target/lambda [--runner qemu-aarch64 …]`: runs each
//! deployment artifact once, as Lambda would, and checks its answer.
//!
//! Each `<dir>/<function>/bootstrap` (the layout `cargo lambda build` writes) is started behind
//! the harness's Runtime API, through `--runner` when given (e.g. `qemu-aarch64` with
//! `--runner-arg -L --runner-arg /usr/aarch64-linux-gnu` for arm64 artifacts on x86_64), against
//! the embedded engine and a key-set server, both behind TLS with a throwaway CA, as deployed. It
//! must answer its own `events/` request with the documented status (and body, where the status
//! alone could come from the wrong path). Latency under emulation means nothing, so none is
//! reported; the sizes (binary and deployment zip) are, and `--record FILE` writes them as JSON.
//!
//! `<dir>/floor-random/bootstrap`, when present, is run too: its first draw of randomness must
//! take under [`RANDOM_LIMIT_US`], which an aws-lc built with its CPU-jitter entropy source does
//! not manage (that is how the artifact, not just the build setting, is checked).

use bench::package::{check, sizes, tls_environment};
use bench::workload::{BoxError, TABLE, Workload, World};
use clap::Parser;
use harness::fleet::{EnvFor, Fleet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The most the first draw of randomness may take in the probe artifact, µs. Measured here for
/// arm64 under qemu-aarch64: 2.7–4.4 ms built without the jitter source, 250–340 ms with it
/// (natively on x86_64: 0.014–0.036 ms and 33–49 ms). An order of magnitude from both.
const RANDOM_LIMIT_US: f64 = 50_000.0;

#[derive(Parser)]
#[command(
    about = "Runs each deployment artifact once behind the Runtime API and checks its answer"
)]
struct Args {
    /// Where the artifacts are: `<dir>/<function>/bootstrap`.
    #[arg(long, default_value = "target/lambda")]
    dir: PathBuf,
    /// A program to run each artifact with (e.g. qemu-aarch64).
    #[arg(long)]
    runner: Option<String>,
    /// Arguments for the runner, before the artifact's path (repeatable).
    #[arg(long = "runner-arg", allow_hyphen_values = true)]
    runner_args: Vec<String>,
    /// Seconds an artifact may take to start (emulation is slow).
    #[arg(long, default_value_t = 120)]
    start_secs: u64,
    /// Write `{"commit", "date", "artifacts": [{"function", "binary_bytes", "zip_bytes"}]}` here.
    #[arg(long)]
    record: Option<PathBuf>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[tokio::main]
async fn main() {
    match run(Args::parse()).await {
        Ok(()) => {}
        Err(err) => {
            eprintln!("artifacts: {err}");
            std::process::exit(1);
        }
    }
}

/// A script named after the function that starts its artifact through the runner, so the
/// harness's fleet runs it like any binary (and its SIGKILL reaches the emulator: `exec`).
fn launcher(dir: &Path, args: &Args, name: &str, artifact: &Path) -> Result<(), BoxError> {
    use std::os::unix::fs::PermissionsExt;
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut line = String::from("exec");
    if let Some(runner) = &args.runner {
        line += &format!(" {}", quote(runner));
        for arg in &args.runner_args {
            line += &format!(" {}", quote(arg));
        }
    }
    line += &format!(" {} \"$@\"", quote(&artifact.display().to_string()));
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{line}\n"))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

async fn run(args: Args) -> Result<(), BoxError> {
    let functions = devkit::routes::binaries();
    let launchers = root().join("target/artifact-launchers");
    std::fs::create_dir_all(&launchers)?;

    let engine = devkit::Engine::memory().await?;
    let app = devkit::app_for(&engine, TABLE, &[]).await?;
    let world = World::seed(app, devkit::tokens::DevIssuer::generate()?).await;
    let jwks = harness::jwks::serve(world.jwks().to_string()).await?;
    let tls = harness::tls::TestCa::generate(&root().join("target/harness-tls"))?;
    let env = tls_environment(
        &tls,
        engine.addr(),
        jwks,
        bench::package::Delays::default(),
        &[],
    )
    .await?;

    let mut failures = Vec::new();
    let mut recorded = Vec::new();
    println!("| artifact | binary MiB | zip MiB | answer |");
    println!("|---|---|---|---|");
    for function in &functions {
        let artifact = args.dir.join(function).join("bootstrap");
        let (binary, zip) = sizes(&artifact)?;
        launcher(&launchers, &args, function, &artifact)?;
        let workload = Workload::load(&root(), function)?;
        let answer = answer(&launchers, function, &workload, &world, &env, &args).await;
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        println!(
            "| {function} | {:.2} | {:.2} | {} |",
            mib(binary),
            mib(zip),
            match &answer {
                Ok(()) => format!("{} as documented", workload.expect),
                Err(err) => format!("FAILED: {err}"),
            }
        );
        if let Err(err) = answer {
            failures.push(format!("{function}: {err}"));
        }
        recorded.push(
            serde_json::json!({"function": function, "binary_bytes": binary, "zip_bytes": zip}),
        );
    }
    let probe = args.dir.join("floor-random").join("bootstrap");
    if probe.exists() {
        launcher(&launchers, &args, "floor-random", &probe)?;
        let mut draws = Vec::new();
        for _ in 0..3 {
            let out = tokio::process::Command::new(launchers.join("floor-random"))
                .env_clear()
                .output()
                .await?;
            let doc: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| {
                format!(
                    "floor-random printed no JSON ({e}): {}",
                    String::from_utf8_lossy(&out.stderr)
                )
            })?;
            draws.push(doc["first_us"].as_f64().ok_or("first_us")?);
        }
        draws.sort_by(f64::total_cmp);
        let median = draws[1];
        println!(
            "\nfirst draw of randomness in the probe artifact: {median:.0} µs (median of 3; limit {RANDOM_LIMIT_US:.0} µs)"
        );
        if median > RANDOM_LIMIT_US {
            failures.push(format!(
                "floor-random: the first draw of randomness took {median:.0} µs: aws-lc was built with its jitter entropy source (AWS_LC_SYS_NO_JITTER_ENTROPY=1 did not reach the build)"
            ));
        }
    }
    engine.shutdown().await;
    if let Some(path) = &args.record {
        let commit = std::process::Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .current_dir(root())
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        let date = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let doc = serde_json::json!({"commit": commit, "date": date, "artifacts": recorded});
        std::fs::write(path, serde_json::to_string_pretty(&doc)? + "\n")?;
    }
    if failures.is_empty() {
        println!("artifacts: {} passed, 0 failed", functions.len());
        Ok(())
    } else {
        Err(failures.join("\n").into())
    }
}

/// Starts the artifact, sends its event once, checks the answer.
async fn answer(
    launchers: &Path,
    function: &str,
    workload: &Workload,
    world: &World,
    env: &Arc<Vec<(String, String)>>,
    args: &Args,
) -> Result<(), BoxError> {
    let vars = env.clone();
    let env_for: EnvFor = Arc::new(move |_, _| vars.as_ref().clone());
    let fleet = Fleet::start(launchers, &[function], 1, env_for).await;
    let result = async {
        let log = format!("target/harness-logs/{function}-0.log");
        if !fleet.ready(Duration::from_secs(args.start_secs)).await {
            return Err(format!(
                "did not poll the Runtime API within {} s; see {log}",
                args.start_secs
            )
            .into());
        }
        world.before_run(workload).await?;
        let event = world.next_event(workload).await?;
        let queue = fleet.queue(function).ok_or("the queue")?;
        let outcome = tokio::time::timeout(Duration::from_secs(60), queue.invoke(event))
            .await
            .map_err(|_| "no answer within 60 s")?
            .ok_or("the harness stopped")?;
        check(
            function,
            &outcome.0,
            workload.expect,
            workload.expect_body,
            &log,
        )
    }
    .await;
    fleet.stop().await;
    result
}

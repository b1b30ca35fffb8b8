//! Runs the real, release-built function binaries as separate processes, the way Lambda does, for
//! the statelessness harness (`chaos/`) and the benchmarks.
//!
//! # Layout
//! - [`runtime`]: a Lambda Runtime API endpoint per instance (`next`, `response`, `error`), fed
//!   from one queue per function, so any idle instance takes the next invocation: no affinity.
//! - [`fleet`]: the instances of every function: start, watch, kill (SIGKILL) and replace them.
//! - [`front_door`]: API Gateway's part: an HTTP server that maps the template's routes to
//!   payload-2.0 events and hands each to its function's queue.
//! - [`tls`]: a throwaway CA per run, and TLS in front of the engine and the issuer's key set.
//! - [`jwks`]: the development issuer's key set served over HTTP on loopback.
//!
//! The route table comes from `devkit::routes`, the one place routes are declared.

pub mod fleet;
pub mod front_door;
pub mod jwks;
pub mod runtime;
pub mod tls;

/// Where `cargo build --release` puts the binaries of this workspace.
pub fn release_dir() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("release")
}

/// Builds the release binaries of `binaries` (a no-op when they are up to date), showing cargo's
/// progress. Returns an error naming the failed command.
pub fn build_release(binaries: &[&str]) -> Result<(), String> {
    let mut cmd =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(["build", "--release", "--locked"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    for bin in binaries {
        cmd.args(["--bin", bin]);
    }
    let status = cmd.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo build --release` failed ({status})"))
    }
}

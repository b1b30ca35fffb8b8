//! The performance bench: every function as deployed, against a runtime floor and a storage floor.
//!
//! # Layout
//! - `main.rs` (the `bench` binary): builds the release binaries, starts the engine, seeds it,
//!   runs the rounds and writes `BENCHMARKS.md`, `bench/results.json` and `bench/chart.svg`.
//! - [`workload`]: what each function's warm invocations are and the state reset between them.
//! - [`stats`]: nearest-rank percentiles and min/median/max over rounds.
//! - [`report`]: the results file, ratios to the floors, targets and the Markdown report.
//! - [`chart`]: the SVG chart.
//! - [`package`]: the contestants' environment (TLS or plain), the answer check, deployment sizes.
//! - `bin/artifacts.rs`: runs each deployment artifact (e.g. arm64 under qemu) once and checks it.
//! - `floors/hello`, `floors/getitem`: the two floor binaries; `floors/random`: the
//!   first-randomness probe.

pub mod chart;
pub mod package;
pub mod report;
pub mod stats;
pub mod workload;

//! `cargo run -p local`: the whole API on 127.0.0.1:3000 over an embedded DynamoDB engine.
//!
//! Data lives in `.local-data/` at the repository root (git-ignored) and survives restarts;
//! `--memory` keeps it in memory instead. Ctrl-C stops the server and closes the database cleanly.

use clap::Parser;
use local::{Options, Storage};
use std::path::PathBuf;

/// Where on-disk data goes unless `--data-dir` says otherwise: the repository's `.local-data/`,
/// wherever the command is run from.
const DEFAULT_DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../.local-data");

#[derive(Parser, Debug)]
#[command(
    name = "local",
    about = "Serve the stateless-shop API locally on an embedded DynamoDB engine"
)]
struct Args {
    /// Address the API listens on.
    #[arg(long, env = "LOCAL_ADDR", default_value = "127.0.0.1:3000")]
    addr: String,
    /// Address the embedded DynamoDB engine listens on; fix it (e.g. 127.0.0.1:8000) to point
    /// `cargo lambda watch` or other tools at the same data.
    #[arg(long, env = "LOCAL_DYNAMODB_ADDR", default_value = "127.0.0.1:0")]
    dynamodb_addr: String,
    /// Keep data in memory only: every start begins with just the demo products.
    #[arg(long)]
    memory: bool,
    /// Folder for the on-disk database (created if missing).
    #[arg(long, env = "LOCAL_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// Table name inside the engine.
    #[arg(long, env = "TABLE_NAME", default_value = "stateless-shop")]
    table: String,
    /// Do not write demo products into an empty catalog.
    #[arg(long)]
    no_seed: bool,
}

#[tokio::main]
async fn main() {
    shared::telemetry::init();
    let args = Args::parse();
    let options = Options {
        addr: args.addr,
        dynamodb_addr: args.dynamodb_addr,
        storage: if args.memory {
            Storage::Memory
        } else {
            Storage::Disk(args.data_dir)
        },
        table: args.table.clone(),
        seed: !args.no_seed,
    };
    let running = match local::start(options).await {
        Ok(running) => running,
        Err(err) => {
            eprintln!("local: {err}");
            std::process::exit(1);
        }
    };
    let url = &running.url;
    let seeded = if running.seeded > 0 {
        format!(", seeded {} demo products", running.seeded)
    } else {
        String::new()
    };
    println!(
        "stateless-shop local API ready on {url}  (DynamoDB engine {}, table {}, data {}{seeded}; try: curl {url}/products ; Ctrl-C stops)",
        running.engine_endpoint, args.table, running.data,
    );
    shutdown_signal().await;
    running.stop().await;
    println!("stopped");
}

/// Ctrl-C, or SIGTERM from a process manager.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

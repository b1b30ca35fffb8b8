//! `cargo run -p local`: the whole API on 127.0.0.1:3000 over an embedded DynamoDB engine.
//!
//! Data lives in `.local-data/` at the repository root (git-ignored) and survives restarts;
//! `--memory` keeps it in memory instead. Ctrl-C stops the server and closes the database cleanly.

use clap::Parser;
use devkit::Engine;
use shared::config::vars;
use shared::{App, Config, DynamoStore};
use std::path::PathBuf;
use std::sync::Arc;

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
    if let Err(err) = run(args).await {
        eprintln!("local: {err}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (engine, data) = if args.memory {
        (
            Engine::memory_on(&args.dynamodb_addr).await,
            "in memory".to_owned(),
        )
    } else {
        std::fs::create_dir_all(&args.data_dir).map_err(|e| {
            format!(
                "cannot create {}: {e}; pass --data-dir or --memory",
                args.data_dir.display()
            )
        })?;
        let dir = args.data_dir.canonicalize()?;
        let file = dir.join("shop.sqlite3");
        (
            Engine::on_disk(&file, &args.dynamodb_addr).await,
            file.display().to_string(),
        )
    };
    let engine = engine.map_err(|e| {
        format!(
            "cannot start the DynamoDB engine on {}: {e}; pass another --dynamodb-addr",
            args.dynamodb_addr
        )
    })?;

    // Same settings as a deployed function, except the table, which this command owns.
    let config = Config::from_lookup(|name| {
        if name == vars::TABLE_NAME {
            Some(args.table.clone())
        } else {
            std::env::var(name).ok()
        }
    })?;
    let store = DynamoStore::local(&engine.endpoint(), config.table_name());
    store.ensure_table().await?;
    let app = Arc::new(App::new(config, store));
    let seeded = if args.no_seed {
        0
    } else {
        local::seed::seed_if_empty(&app).await?
    };

    let listener = tokio::net::TcpListener::bind(&args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}; pass another --addr", args.addr))?;
    let url = format!("http://{}", listener.local_addr()?);
    println!(
        "stateless-shop local API ready on {url}  (DynamoDB engine {}, table {}, data {data}{}; try: curl {url}/products ; Ctrl-C stops)",
        engine.endpoint(),
        args.table,
        if seeded > 0 {
            format!(", seeded {seeded} demo products")
        } else {
            String::new()
        },
    );
    local::server::serve(listener, app, shutdown_signal()).await;
    engine.shutdown().await;
    println!("stopped");
    Ok(())
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

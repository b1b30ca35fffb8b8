//! The local API: every function's handler behind one HTTP server, on an embedded DynamoDB engine.
//!
//! Nothing here is deployed. It exists so that `cargo run -p local` serves the whole API on a
//! machine with only Rust, through the same handlers and the same `lambda_http` request types as
//! Lambda, against a real DynamoDB wire protocol.
//!
//! # Layout
//! - [`routes`]: the route table (method, path, function) and dispatch to each function's handler.
//!   `template.yaml` and the `cargo lambda watch` router in `Cargo.toml` must agree with it; the
//!   tests in `tests/routes.rs` fail when they do not.
//! - [`server`]: the HTTP front door (API Gateway's part): matches a route, builds the payload-2.0
//!   event, calls the handler, returns its response.
//! - [`seed`]: demo products for an empty table.

pub mod routes;
pub mod seed;
pub mod server;

use devkit::Engine;
use shared::config::vars;
use shared::{App, Config, DynamoStore};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::oneshot;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Where the engine keeps its data.
#[derive(Debug, Clone)]
pub enum Storage {
    Memory,
    /// A SQLite file in this folder (created if missing).
    Disk(PathBuf),
}

/// Everything `cargo run -p local` can be told.
#[derive(Debug, Clone)]
pub struct Options {
    pub addr: String,
    pub dynamodb_addr: String,
    pub storage: Storage,
    pub table: String,
    pub seed: bool,
}

/// A running local API: the engine, the table and the HTTP server.
pub struct Running {
    pub url: String,
    pub engine_endpoint: String,
    /// Where the data is, for the ready line.
    pub data: String,
    pub seeded: usize,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
    engine: Engine,
}

/// Starts the engine, creates the table if missing, seeds an empty catalog (unless told not to)
/// and starts serving. Settings other than the table come from the environment, as on Lambda.
pub async fn start(options: Options) -> Result<Running, BoxError> {
    let (engine, data) = match &options.storage {
        Storage::Memory => (
            Engine::memory_on(&options.dynamodb_addr).await,
            "in memory".to_owned(),
        ),
        Storage::Disk(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| {
                format!(
                    "cannot create {}: {e}; pass --data-dir or --memory",
                    dir.display()
                )
            })?;
            let file = dir.canonicalize()?.join("shop.sqlite3");
            (
                Engine::on_disk(&file, &options.dynamodb_addr).await,
                file.display().to_string(),
            )
        }
    };
    let engine = engine.map_err(|e| {
        format!(
            "cannot start the DynamoDB engine on {}: {e}; pass another --dynamodb-addr",
            options.dynamodb_addr
        )
    })?;
    let config = Config::from_lookup(|name| {
        if name == vars::TABLE_NAME {
            Some(options.table.clone())
        } else {
            std::env::var(name).ok()
        }
    })?;
    let store = DynamoStore::local(&engine.endpoint(), config.table_name());
    store.ensure_table().await?;
    let app = Arc::new(App::new(config, store));
    let seeded = if options.seed {
        seed::seed_if_empty(&app).await?
    } else {
        0
    };
    let listener = tokio::net::TcpListener::bind(&options.addr)
        .await
        .map_err(|e| {
            format!(
                "cannot listen on {}: {e}; pass another --addr",
                options.addr
            )
        })?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(server::serve(listener, app, async {
        let _ = stopped.await;
    }));
    Ok(Running {
        url,
        engine_endpoint: engine.endpoint(),
        data,
        seeded,
        stop,
        server,
        engine,
    })
}

impl Running {
    /// Stops serving, lets requests in flight finish, and closes the database.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
        self.engine.shutdown().await;
    }
}

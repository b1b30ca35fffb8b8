//! The local API: every function's handler behind one HTTP server, on an embedded DynamoDB engine.
//!
//! Nothing here is deployed. It exists so that `cargo run -p local` serves the whole API on a
//! machine with only Rust, through the same handlers and the same `lambda_http` request types as
//! Lambda, against a real DynamoDB wire protocol.
//!
//! # Layout
//! - [`dispatch`]: a route's function called in-process, as its own handler. The route table
//!   itself is `devkit::routes`; `template.yaml` and the `cargo lambda watch` router in
//!   `Cargo.toml` must agree with it, and the tests in `tests/routes.rs` fail when they do not.
//! - [`server`]: the HTTP front door (API Gateway's part): matches a route, builds the payload-2.0
//!   event, calls the handler, returns its response.
//! - [`seed`]: demo products for an empty table.
//! - [`cors`]: CORS preflight and response headers, as API Gateway applies the template's.

pub mod cors;
pub mod dispatch;
pub mod seed;
pub mod server;

use devkit::Engine;
use devkit::tokens::DevIssuer;
use shared::auth::{AuthConfig, AuthMode, Authenticator};
use shared::config::vars;
use shared::{App, Config, DynamoStore};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::oneshot;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Everything `cargo run -p local` can be told.
#[derive(Debug, Clone)]
pub struct Options {
    pub addr: String,
    pub dynamodb_addr: String,
    /// Holds the on-disk database (unless `memory`) and the development signing key.
    pub data_dir: PathBuf,
    /// Keep the database in memory only.
    pub memory: bool,
    pub table: String,
    pub seed: bool,
    /// Trust this issuer instead of the development one (`main` builds it from `JWT_ISSUER` and
    /// `JWKS_URL` when they are set).
    pub external_issuer: Option<AuthConfig>,
    /// Which browser origins may call the API (`CORS_ALLOW_ORIGINS`, default `*`).
    pub cors: cors::Cors,
    /// Model DynamoDB's transaction isolation in front of the engine (`devkit::isolation`), each
    /// transaction holding its items this much longer than the engine takes; `None`: off.
    pub transaction_hold: Option<std::time::Duration>,
    /// Who verifies tokens: the functions (`Verify`, as deployed by default), or an emulated
    /// API Gateway JWT authorizer in front of them that passes the claims on (`Authorizer`).
    pub auth_mode: AuthMode,
    /// Serve from this DynamoDB endpoint instead of the embedded engine: DynamoDB Local, or a
    /// real table with the standard AWS credentials.
    pub dynamodb_url: Option<String>,
    /// With `dynamodb_url`, create the table when it is missing (never otherwise).
    pub create_table: bool,
}

/// Who the local API trusts to sign tokens.
pub enum Trust {
    /// The development issuer, whose key lives in the data folder.
    Dev(DevIssuer),
    /// A real issuer from `JWT_ISSUER` and `JWKS_URL` (or `JWKS_JSON`) in the environment.
    External { issuer: String },
}

/// A running local API: the engine, the table and the HTTP server.
pub struct Running {
    pub url: String,
    pub engine_endpoint: String,
    /// Where the data is, for the ready line.
    pub data: String,
    pub seeded: usize,
    pub trust: Trust,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
    /// The embedded engine; `None` when serving from `--dynamodb-url`.
    engine: Option<Engine>,
}

/// The development issuer kept in `data_dir`, or an error saying what to fix.
pub fn dev_issuer(data_dir: &std::path::Path) -> Result<DevIssuer, BoxError> {
    Ok(DevIssuer::load_or_create(data_dir)?)
}

/// Starts the engine, creates the table if missing, seeds an empty catalog (unless told not to)
/// and starts serving. Settings other than the table and the token issuer (`CURRENCY`,
/// `CURSOR_SECRET`) come from the environment, as on Lambda.
pub async fn start(options: Options) -> Result<Running, BoxError> {
    let data_dir = &options.data_dir;
    std::fs::create_dir_all(data_dir).map_err(|e| {
        format!(
            "cannot create {}: {e}; pass another --data-dir",
            data_dir.display()
        )
    })?;
    let config = Config::from_lookup(|name| {
        if name == vars::TABLE_NAME {
            Some(options.table.clone())
        } else {
            std::env::var(name).ok()
        }
    })?;
    let (engine, store, data) = match &options.dynamodb_url {
        Some(url) => {
            let store = external_table(&options, url, config.table_name()).await?;
            (None, store, format!("at {url}"))
        }
        None => {
            let (engine, data) = embedded_engine(&options).await?;
            let store = DynamoStore::local(&engine.endpoint(), config.table_name());
            store.ensure_table().await?;
            (Some(engine), store, data)
        }
    };
    let app = App::new(config, store);
    let seeded = if options.seed {
        seed::seed_if_empty(&app).await?
    } else {
        0
    };

    // A real issuer when one is given, so a user can try their own pool locally.
    let (trust, auth_config, jwks) = if let Some(config) = options.external_issuer.clone() {
        (
            Trust::External {
                issuer: config.issuer().to_owned(),
            },
            config,
            None,
        )
    } else {
        let issuer = dev_issuer(data_dir)?;
        let jwks = issuer.jwks().to_string();
        let config = issuer.auth_config();
        (Trust::Dev(issuer), config, Some(jwks))
    };
    let auth = Authenticator::new(auth_config.clone().with_mode(options.auth_mode)).await?;
    // Behind the emulated authorizer, the gateway verifies with the same issuer and passes the
    // claims on; the functions read them.
    let gateway = match options.auth_mode {
        AuthMode::Verify => None,
        AuthMode::Authorizer => {
            Some(Authenticator::new(auth_config.with_mode(AuthMode::Verify)).await?)
        }
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
    let engine_endpoint = engine.as_ref().map_or_else(
        || options.dynamodb_url.clone().unwrap_or_default(),
        Engine::endpoint,
    );
    let state = Arc::new(server::State {
        app,
        auth,
        gateway,
        jwks,
        cors: options.cors.clone(),
    });
    let server = tokio::spawn(server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    Ok(Running {
        url,
        engine_endpoint,
        data,
        seeded,
        trust,
        stop,
        server,
        engine,
    })
}

/// The embedded engine, on disk or in memory, with the isolation model in front when asked for;
/// and where its data is, for the ready line.
async fn embedded_engine(options: &Options) -> Result<(Engine, String), BoxError> {
    // With the isolation model, the engine listens anywhere and the model on the address asked
    // for, so that every client (`cargo lambda watch` too) goes through it.
    let engine_addr = match options.transaction_hold {
        Some(_) => "127.0.0.1:0",
        None => options.dynamodb_addr.as_str(),
    };
    let (engine, data) = if options.memory {
        (Engine::memory_on(engine_addr).await, "in memory".to_owned())
    } else {
        let file = options.data_dir.canonicalize()?.join("shop.sqlite3");
        (
            Engine::on_disk(&file, engine_addr).await,
            file.display().to_string(),
        )
    };
    let cannot = |e: std::io::Error| {
        format!(
            "cannot start the DynamoDB engine on {}: {e}; pass another --dynamodb-addr",
            options.dynamodb_addr
        )
    };
    let mut engine = engine.map_err(cannot)?;
    if let Some(hold) = options.transaction_hold {
        engine = engine
            .isolated_on(hold, &options.dynamodb_addr)
            .await
            .map_err(cannot)?;
    }
    Ok((engine, data))
}

/// The store on `url`'s table: found there, or created when `--create-table` asked for it.
async fn external_table(
    options: &Options,
    url: &str,
    table: &str,
) -> Result<DynamoStore, BoxError> {
    if options.transaction_hold.is_some() {
        return Err("--transaction-hold-ms models isolation in front of the embedded engine only: drop it with --dynamodb-url".into());
    }
    let store = DynamoStore::at(url, table).await;
    if options.create_table {
        store.ensure_table().await.map_err(|e| {
            format!(
                "cannot create table {table} at {url}: {}",
                shared::chain::cause_chain(&e)
            )
        })?;
    } else if let Err(e) = store.describe_table().await {
        return Err(format!(
            "cannot find table {table} at {url}: {}; pass --table to name another, or --create-table to create it",
            shared::chain::cause_chain(&e)
        )
        .into());
    }
    Ok(store)
}

impl Running {
    /// The transaction isolation model in front of the engine, when it is on.
    pub fn isolation(&self) -> Option<&Arc<devkit::isolation::Isolation>> {
        self.engine.as_ref()?.isolation()
    }

    /// Stops serving, lets requests in flight finish, and closes the database.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
        if let Some(engine) = self.engine {
            engine.shutdown().await;
        }
    }
}

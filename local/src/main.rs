//! `cargo run -p local`: the whole API on 127.0.0.1:3000 over an embedded DynamoDB engine.
//! `cargo run -p local -- token --sub alice [--admin]`: a development bearer token.
//!
//! Data and the development signing key live in `.local-data/` at the repository root
//! (git-ignored) and survive restarts; `--memory` keeps the database in memory instead. Ctrl-C
//! stops the server and closes the database cleanly.

use clap::{Parser, Subcommand};
use devkit::tokens::TokenSpec;
use local::{Options, Trust};
use std::path::PathBuf;

/// Where on-disk data goes unless `--data-dir` says otherwise: the repository's `.local-data/`,
/// wherever the command is run from.
const DEFAULT_DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../.local-data");
/// Longest lifetime `token --ttl` accepts: 30 days.
const MAX_TTL_SECS: u64 = 30 * 24 * 3600;

#[derive(Parser, Debug)]
#[command(
    name = "local",
    about = "Serve the stateless-shop API locally on an embedded DynamoDB engine"
)]
struct Cli {
    /// Address the API listens on.
    #[arg(long, env = "LOCAL_ADDR", default_value = "127.0.0.1:3000")]
    addr: String,
    /// Address the embedded DynamoDB engine listens on; fix it (e.g. 127.0.0.1:8000) to point
    /// `cargo lambda watch` or other tools at the same data.
    #[arg(long, env = "LOCAL_DYNAMODB_ADDR", default_value = "127.0.0.1:0")]
    dynamodb_addr: String,
    /// Keep the database in memory only: every start begins with just the demo products.
    #[arg(long)]
    memory: bool,
    /// Folder for the on-disk database and the development signing key (created if missing).
    #[arg(long, env = "LOCAL_DATA_DIR", default_value = DEFAULT_DATA_DIR, global = true)]
    data_dir: PathBuf,
    /// Table name inside the engine.
    #[arg(long, env = "TABLE_NAME", default_value = "stateless-shop")]
    table: String,
    /// Do not write demo products into an empty catalog.
    #[arg(long)]
    no_seed: bool,
    /// Origins a browser may call the API from, as the template's `CorsAllowOrigins`: `*` or a
    /// comma-separated list (e.g. http://localhost:5173).
    #[arg(long, env = "CORS_ALLOW_ORIGINS", default_value = local::cors::DEFAULT_ALLOW_ORIGINS)]
    cors_allow_origins: String,
    /// Model DynamoDB's transaction isolation, which the embedded engine (serial, like every
    /// emulator) does not have: a transaction holds its items for the engine's time plus this
    /// many milliseconds, a write to a held item gets `TransactionConflictException`, and a
    /// transaction meeting one is cancelled with `TransactionConflict`. Off when not given.
    #[arg(long, env = "LOCAL_TRANSACTION_HOLD_MS", value_name = "MS")]
    transaction_hold_ms: Option<u64>,
    /// Who verifies bearer tokens, as the template's `AuthMode`: `verify` (each function, the
    /// default) or `authorizer` (an emulated API Gateway JWT authorizer in front of the routes
    /// that need a token, passing the verified claims to functions in `AUTH_MODE=authorizer`).
    #[arg(long, env = "AUTH_MODE", default_value = "verify", value_parser = ["verify", "authorizer"])]
    auth_mode: String,
    /// Serve from this DynamoDB endpoint instead of the embedded engine: DynamoDB Local (e.g.
    /// http://127.0.0.1:8000), or https://dynamodb.<region>.amazonaws.com for a real table with
    /// your own AWS credentials (environment or profile). The table must exist unless
    /// --create-table is given.
    #[arg(long, env = "LOCAL_DYNAMODB_URL", value_name = "URL")]
    dynamodb_url: Option<String>,
    /// With --dynamodb-url: create the table (as template.yaml defines it) when it is missing.
    #[arg(long, requires = "dynamodb_url")]
    create_table: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print a bearer token signed by the development issuer the local API trusts.
    Token {
        /// The user id (`sub`).
        #[arg(long)]
        sub: String,
        /// Make the token an admin's (group `admin`, scope `shop/admin`).
        #[arg(long)]
        admin: bool,
        /// Lifetime in seconds (at most 30 days).
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
    },
}

#[tokio::main]
async fn main() {
    shared::telemetry::init();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Token {
            ref sub,
            admin,
            ttl,
        }) => token(&cli.data_dir, sub, admin, ttl),
        None => serve(cli).await,
    };
    if let Err(err) = result {
        eprintln!("local: {err}");
        std::process::exit(1);
    }
}

fn token(
    data_dir: &std::path::Path,
    sub: &str,
    admin: bool,
    ttl: u64,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    if let Ok(issuer) = std::env::var(shared::auth::vars::JWT_ISSUER) {
        return Err(format!("JWT_ISSUER is set, so the local API trusts {issuer}: get a token from that issuer, or unset JWT_ISSUER").into());
    }
    if shared::auth::UserId::parse(sub).is_err() {
        return Err("--sub must be 1 to 255 characters without control characters".into());
    }
    if ttl == 0 || ttl > MAX_TTL_SECS {
        return Err(format!("--ttl must be from 1 to {MAX_TTL_SECS} seconds").into());
    }
    let issuer = local::dev_issuer(data_dir)?;
    println!(
        "{}",
        issuer.mint(&TokenSpec {
            sub: sub.to_owned(),
            admin,
            ttl_secs: ttl
        })
    );
    Ok(())
}

async fn serve(cli: Cli) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // The issuer's settings as the verifying side needs them, whichever mode the functions run
    // in: the emulated authorizer verifies with them too, so a key source is required either way.
    let external_issuer = match std::env::var(shared::auth::vars::JWT_ISSUER) {
        Ok(_) => Some(shared::auth::AuthConfig::from_lookup(|name| {
            if name == shared::auth::vars::AUTH_MODE {
                None
            } else {
                std::env::var(name).ok()
            }
        })?),
        Err(_) => None,
    };
    let options = Options {
        external_issuer,
        addr: cli.addr,
        dynamodb_addr: cli.dynamodb_addr,
        data_dir: cli.data_dir,
        memory: cli.memory,
        table: cli.table.clone(),
        seed: !cli.no_seed,
        cors: local::cors::Cors::parse(&cli.cors_allow_origins),
        transaction_hold: cli
            .transaction_hold_ms
            .map(std::time::Duration::from_millis),
        auth_mode: match cli.auth_mode.as_str() {
            "authorizer" => shared::auth::AuthMode::Authorizer,
            _ => shared::auth::AuthMode::Verify,
        },
        dynamodb_url: cli.dynamodb_url,
        create_table: cli.create_table,
    };
    let options_auth_mode = options.auth_mode;
    let dynamodb = match &options.dynamodb_url {
        Some(_) => "DynamoDB",
        None => "DynamoDB engine",
    };
    let running = local::start(options).await?;
    let url = &running.url;
    let seeded = if running.seeded > 0 {
        format!(", seeded {} demo products", running.seeded)
    } else {
        String::new()
    };
    let tokens = match &running.trust {
        Trust::Dev(_) => format!(
            "tokens: `cargo run -p local -- token --sub alice [--admin]`, keys at {url}{}",
            local::server::JWKS_PATH
        ),
        Trust::External { issuer } => format!("tokens: from {issuer} (JWT_ISSUER)"),
    };
    let isolation = match running.isolation() {
        Some(model) => format!(
            " with transaction isolation modelled (hold {} ms)",
            model.hold().as_millis()
        ),
        None => String::new(),
    };
    let auth = match options_auth_mode {
        shared::auth::AuthMode::Verify => "",
        shared::auth::AuthMode::Authorizer => ", tokens checked by the emulated JWT authorizer",
    };
    println!(
        "stateless-shop local API ready on {url}  ({dynamodb} {}{isolation}, table {}, data {}{seeded}{auth}; {tokens}; try: curl {url}/products ; Ctrl-C stops)",
        running.engine_endpoint, cli.table, running.data,
    );
    shutdown_signal().await;
    running.stop().await;
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

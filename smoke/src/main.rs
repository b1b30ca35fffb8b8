//! `cargo run -p smoke -- --url URL`: the end-to-end flow against a running API, with tokens from
//! the environment, a Cognito user pool, or the local API's development issuer. Exits 1 at the
//! first step that does not answer as promised, after removing what it made.

use clap::Parser;
use devkit::tokens::{DevIssuer, TokenSpec};
use smoke::{Tokens, cognito};
use std::path::PathBuf;

/// The local API's data folder, where its development signing key lives.
const DEFAULT_DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../.local-data");

#[derive(Parser)]
#[command(
    name = "smoke",
    about = "Run the end-to-end flow (catalog, cart, checkout, replay, cancel, admin CRUD) against a running stateless-shop API"
)]
struct Cli {
    /// The API's base URL: the stack output `ApiUrl`, or http://127.0.0.1:3000 for the local API.
    #[arg(long, env = "SMOKE_URL")]
    url: String,
    /// A shopper's access token (a dedicated user: the flow checks out their whole cart).
    #[arg(long, env = "SMOKE_USER_TOKEN", hide_env_values = true)]
    user_token: Option<String>,
    /// An admin's access token (group `admin` or scope `shop/admin`).
    #[arg(long, env = "SMOKE_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Sign in to a Cognito user pool with this app client (the stack output `ShopperClientId`)
    /// to get the tokens not given: --user/--password for the shopper, --admin-user and
    /// --admin-password for the admin.
    #[arg(long, env = "SMOKE_COGNITO_CLIENT_ID")]
    cognito_client_id: Option<String>,
    /// The pool's region (for https://cognito-idp.<region>.amazonaws.com).
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    region: String,
    /// Another Cognito API endpoint (an emulator's URL).
    #[arg(long, env = "SMOKE_COGNITO_ENDPOINT")]
    cognito_endpoint: Option<String>,
    #[arg(long, env = "SMOKE_USER")]
    user: Option<String>,
    #[arg(long, env = "SMOKE_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    #[arg(long, env = "SMOKE_ADMIN_USER")]
    admin_user: Option<String>,
    #[arg(long, env = "SMOKE_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: Option<String>,
    /// Mint the tokens with the local API's development issuer (its key in --data-dir).
    #[arg(long)]
    local_issuer: bool,
    /// The local API's data folder, for --local-issuer.
    #[arg(long, env = "LOCAL_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let result = async {
        let tokens = tokens(&cli).await?;
        smoke::run(&cli.url, &tokens).await
    }
    .await;
    match result {
        Ok(steps) => {
            for step in &steps {
                println!("ok  {}  {} ({} ms)", step.status, step.name, step.millis);
            }
            println!("smoke: {} steps passed against {}", steps.len(), cli.url);
        }
        Err(err) => {
            eprintln!("smoke: {err}");
            std::process::exit(1);
        }
    }
}

async fn tokens(cli: &Cli) -> Result<Tokens, BoxError> {
    if cli.local_issuer {
        let issuer = DevIssuer::load_or_create(&cli.data_dir)?;
        let mint = |sub: &str, admin| {
            issuer.mint(&TokenSpec {
                sub: sub.to_owned(),
                admin,
                ttl_secs: 600,
            })
        };
        let shopper = format!("smoke-{}", uuid::Uuid::new_v4().simple());
        return Ok(Tokens {
            shopper: mint(&shopper, false),
            admin: mint("smoke-admin", true),
        });
    }
    let endpoint = cli
        .cognito_endpoint
        .clone()
        .unwrap_or_else(|| cognito::endpoint(&cli.region));
    let shopper = match &cli.user_token {
        Some(token) => token.clone(),
        None => sign_in(cli, &endpoint, &cli.user, &cli.password, "user").await?,
    };
    let admin = match &cli.admin_token {
        Some(token) => token.clone(),
        None => {
            sign_in(
                cli,
                &endpoint,
                &cli.admin_user,
                &cli.admin_password,
                "admin",
            )
            .await?
        }
    };
    Ok(Tokens { shopper, admin })
}

/// The access token of `user` from the pool, or what to pass instead.
async fn sign_in(
    cli: &Cli,
    endpoint: &str,
    user: &Option<String>,
    password: &Option<String>,
    what: &str,
) -> Result<String, BoxError> {
    match (&cli.cognito_client_id, user, password) {
        (Some(client), Some(user), Some(password)) => {
            cognito::access_token(endpoint, client, user, password).await
        }
        _ => Err(format!(
            "no {what} token: give --{what}-token (or SMOKE_{}_TOKEN), or --cognito-client-id with the {what}'s user and password, or --local-issuer for the local API",
            what.to_uppercase()
        )
        .into()),
    }
}

//! `cargo run -p chaos --release`: the statelessness proof.
//!
//! Builds the release function binaries and runs each as several real processes behind the
//! harness's Runtime API and front door, against the embedded DynamoDB engine through a fault
//! proxy per instance. Simulated shoppers browse, fill carts, check out and cancel, retrying with
//! the same idempotency key, while instances are SIGKILLed (some right after a checkout commits)
//! and DynamoDB calls are throttled, failed, delayed and dropped. Then the checker compares every
//! recorded answer with the final table. Any violation fails the run, naming the requests.
//! Finally the same workload without faults runs on 1, 2 and 4 instances per function.
//!
//! Only loopback addresses are used; every loop is bounded in time.
//!
//! Then the stall scenario: a checkout's transaction is held in flight while the same shopper
//! checks out under another key and refills the cart; released, it must not order a line twice
//! or lose one.
//!
//! Every scenario runs on the engine behind DynamoDB's transaction isolation, modelled
//! (`devkit::isolation`, `--transaction-hold-ms`).
//!
//! Layout: `proxy` (DynamoDB fault proxy), `load` (shoppers and the request log), `checker`,
//! `stall` (the held-checkout scenario), `flash` (the flash sale and the admin writes mid-sale),
//! `capacity` (DynamoDB's per-partition limits, simulated), `headroom` (the machine's idle CPU and
//! run queue beside a measurement).

mod capacity;
mod checker;
mod flash;
mod headroom;
mod load;
mod proxy;
mod stall;

use clap::Parser;
use devkit::Engine;
use devkit::tokens::{DevIssuer, TokenSpec};
use harness::fleet::{EnvFor, Fleet};
use harness::front_door::FrontDoor;
use proxy::{FaultKind, FaultLog, Faults, Proxy, Stall};
use shared::domain::{Precondition, ProductDraft, ProductId};

use shared::{App, Config, DynamoStore};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Every function binary, as in the route table.
fn functions() -> Vec<&'static str> {
    devkit::routes::binaries()
}

#[derive(Parser, Debug, Clone)]
#[command(
    name = "chaos",
    about = "Many instances, kills and DynamoDB faults under load; then check that nothing was lost or doubled"
)]
struct Args {
    /// Seconds of load with faults on.
    #[arg(long, default_value_t = 45)]
    duration: u64,
    /// Simulated shoppers.
    #[arg(long, default_value_t = 24)]
    users: usize,
    /// Instances (processes) per function.
    #[arg(long, default_value_t = 2)]
    instances: usize,
    /// Products in the catalog, and the stock of each.
    #[arg(long, default_value_t = 12)]
    products: usize,
    #[arg(long, default_value_t = 25)]
    stock: i64,
    /// Seed for the shoppers' choices and the fault schedule.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Per DynamoDB call: throttling errors.
    #[arg(long, default_value_t = 0.03)]
    throttle: f64,
    /// Per DynamoDB call: DynamoDB 5xx.
    #[arg(long, default_value_t = 0.02)]
    server_error: f64,
    /// Per DynamoDB call: 20–200 ms of added latency.
    #[arg(long, default_value_t = 0.05)]
    latency: f64,
    /// Per DynamoDB call: connection dropped before the engine sees the request.
    #[arg(long, default_value_t = 0.01)]
    drop_before: f64,
    /// Per DynamoDB call: connection dropped after the engine answered.
    #[arg(long, default_value_t = 0.01)]
    drop_after: f64,
    /// Per committed transaction: SIGKILL the instance before it answers.
    #[arg(long, default_value_t = 0.08)]
    kill_after_commit: f64,
    /// Per DynamoDB call: SIGKILL the instance before the call (it dies mid-request).
    #[arg(long, default_value_t = 0.01)]
    kill_mid_request: f64,
    /// Milliseconds between an admin's price changes (GET, then PUT with If-Match; 0: none).
    #[arg(long, default_value_t = 400)]
    reprice_every_ms: u64,
    /// Milliseconds between random SIGKILLs of an instance (0: none).
    #[arg(long, default_value_t = 1500)]
    kill_every_ms: u64,
    /// Seconds of each 1/2/4-instance scaling run (0: skip them).
    #[arg(long, default_value_t = 15)]
    scale_secs: u64,
    /// Rounds of the stall scenario (a checkout held between its read and its write; 0: skip).
    #[arg(long, default_value_t = 12)]
    stall_rounds: usize,
    /// Plain HTTP to DynamoDB and the key set instead of TLS (for A/B runs; TLS is what AWS uses).
    #[arg(long)]
    plain: bool,
    /// The CI run: 25 s of faults, 6 stall rounds, no scaling runs (with `--scenario
    /// flash-sale`: a 15 s sale).
    #[arg(long)]
    quick: bool,
    /// Which scenario to run.
    #[arg(long, value_enum, default_value_t = Scenario::All)]
    scenario: Scenario,
    /// Flash sale: shoppers buying the one hot product.
    #[arg(long, default_value_t = 48)]
    buyers: usize,
    /// Flash sale: each browser's mean pause between two pages, in ms.
    #[arg(long, default_value_t = 400)]
    browse_every_ms: u64,
    /// Flash sale: buyers per stock bucket of the hot product (0: `--buyers` for every sale).
    /// Demand that grows with the ceiling keeps each sale near its ceiling without queueing far
    /// past it, so the figures measure the model's limit, not this machine's.
    #[arg(long, default_value_t = 3)]
    buyers_per_bucket: usize,
    /// Flash sale: the buyers start checkouts at this share of the sale's predicted ceiling, all
    /// together (0: as fast as each buyer can, a closed loop that queues far past the ceiling).
    #[arg(long, default_value_t = 0.95)]
    sale_load: f64,
    /// Flash sale: the load of the sale during which the admin writes land, as a share of its
    /// ceiling (the admin's writes need the buckets' write units too). At the 0.01 scale an
    /// admin's 2 write units are a fifth of a partition's second, where on DynamoDB they are a
    /// five-hundredth: above 0.8 the simulation makes a 16-item re-split wait for all 8 hot
    /// partitions to have room at once far more than DynamoDB would (3.7 s and 5.9 s at 0.85).
    #[arg(long, default_value_t = 0.8)]
    admin_sale_load: f64,
    /// Flash sale: shoppers browsing the catalog meanwhile.
    #[arg(long, default_value_t = 8)]
    browsers: usize,
    /// Flash sale: the hot product's stock in the sales compared side by side: enough that no
    /// split sells out within the sale, so what is compared is each split's pace.
    #[arg(long, default_value_t = 3000)]
    sale_stock: i64,
    /// Flash sale: the stock of a last sale, split as the last of `--sale-buckets`, that sells
    /// out, so the checker sees the buckets run dry (0: skip it).
    #[arg(long, default_value_t = 300)]
    sellout_stock: i64,
    /// Flash sale: seconds of the sale (it ends earlier when the stock is gone).
    #[arg(long, default_value_t = 40)]
    sale_secs: u64,
    /// Flash sale: how many stock buckets the hot product is split over, one sale per value, side
    /// by side in one run (comma-separated, each 1 to 16).
    #[arg(long, value_delimiter = ',', default_values_t = [1u32, 8])]
    sale_buckets: Vec<u32>,
    /// Flash sale: each buyer's cap of open orders (`MAX_OPEN_ORDERS` of the functions). A buyer
    /// stands for many shoppers buying one after another, so the per-user cap (default 10) would
    /// end its part of the sale early.
    #[arg(long, default_value_t = 1000)]
    sale_open_orders: u32,
    /// Set for the sale's world: `MAX_OPEN_ORDERS` of every function.
    #[arg(skip)]
    max_open_orders: Option<u32>,
    /// Flash sale: DynamoDB's per-partition limits (3,000 read and 1,000 write units a second)
    /// times this, so that this machine can reach them.
    #[arg(long, default_value_t = 0.01)]
    capacity_scale: f64,
    /// DynamoDB's transaction isolation, modelled in every scenario (`devkit::isolation`): each
    /// transaction holds its items for the engine's own time plus this many milliseconds, a
    /// write to a held item is refused with `TransactionConflictException` and a transaction
    /// meeting one is cancelled with `TransactionConflict`.
    #[arg(long, default_value_t = 10)]
    transaction_hold_ms: u64,
    /// Flash sale: after the side-by-side sales, one more sale of the hot product in 8 buckets
    /// during which an admin restocks it (`If-Match: *`, then with the tag just read), splits it
    /// from 8 to 16 buckets, and deletes it.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    admin_mid_sale: bool,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The run's table in the embedded engine.
const TABLE: &str = "chaos";

/// One environment: engine, table, fleet, front door, all on loopback.
struct World {
    engine: Engine,
    store: DynamoStore,
    fleet: Arc<Fleet>,
    door: FrontDoor,
    log: Arc<FaultLog>,
    issuer: DevIssuer,
    initial: BTreeMap<String, i64>,
    products: Arc<Vec<String>>,
    /// Parks the next checkout transaction of any place-order instance.
    stall: Arc<Stall>,
    /// The run's throwaway CA (kept for its PEM file), unless `--plain`.
    _tls: Option<harness::tls::TestCa>,
}

impl World {
    /// Stops every instance and the engine.
    async fn stop(self) {
        let World { fleet, engine, .. } = self;
        if let Ok(fleet) = Arc::try_unwrap(fleet) {
            fleet.stop().await;
        }
        engine.shutdown().await;
    }
}

/// Which part of the run to do.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    /// Faults and kills under load, the stall scenario, then the scaling runs.
    All,
    /// Only the flash sale: many shoppers, one product, DynamoDB's capacity simulated.
    FlashSale,
}

async fn build_world(
    args: &Args,
    instances: usize,
    faults: Faults,
    capacity: Option<Arc<capacity::Capacity>>,
) -> Result<World, BoxError> {
    let engine = Engine::memory()
        .await?
        .isolated(Duration::from_millis(args.transaction_hold_ms))
        .await?;
    let table = TABLE;
    let store = DynamoStore::local(&engine.endpoint(), table);
    store.ensure_table().await?;
    let config = Config::from_lookup(|name| (name == "TABLE_NAME").then(|| table.to_owned()))?;
    let app = App::new(config, store.clone());
    let mut initial = BTreeMap::new();
    let mut products = Vec::new();
    for i in 0..args.products {
        let id = format!("product-{i:02}");
        let draft = ProductDraft::parse(&serde_json::json!({"name": format!("Product {i}"), "description": "", "price": 100 + 25 * i as i64, "stock": args.stock}))
            .map_err(|e| format!("{e:?}"))?;
        app.store()
            .put_product(
                &ProductId::parse(&id)?,
                &draft,
                app.config().currency(),
                &Precondition::None,
            )
            .await?;
        initial.insert(id.clone(), args.stock);
        products.push(id);
    }
    let issuer = DevIssuer::generate()?;
    // TLS as on AWS: the fault proxies speak it, and the key set is fetched over it, with the
    // run's throwaway CA trusted through one PEM file.
    let tls = if args.plain {
        None
    } else {
        Some(harness::tls::TestCa::generate(
            &harness::release_dir().join("../harness-tls"),
        )?)
    };
    let jwks_plain = harness::jwks::serve(issuer.jwks().to_string()).await?;
    let jwks_url = match &tls {
        Some(tls) => format!(
            "https://{}/.well-known/jwks.json",
            tls.terminate(jwks_plain).await?
        ),
        None => format!("http://{jwks_plain}/.well-known/jwks.json"),
    };
    let bundle = tls.as_ref().map(|t| t.bundle().display().to_string());
    let log = Arc::new(FaultLog::default());
    let stall = Arc::new(Stall::default());
    let mut proxies: HashMap<(String, usize), Proxy> = HashMap::new();
    for (n, function) in functions().into_iter().enumerate() {
        for slot in 0..instances {
            let seed = args
                .seed
                .wrapping_mul(1_000_003)
                .wrapping_add((n * 64 + slot) as u64);
            let proxy = Proxy::start(proxy::Setup {
                engine: &engine.endpoint(),
                function,
                slot,
                faults,
                seed,
                log: log.clone(),
                stall: (function == "place-order").then(|| stall.clone()),
                capacity: capacity.clone(),
                tls: tls.as_ref().map(harness::tls::TestCa::acceptor),
            })
            .await?;
            proxies.insert((function.to_owned(), slot), proxy);
        }
    }
    let endpoints: HashMap<(String, usize), String> = proxies
        .iter()
        .map(|(k, p)| (k.clone(), p.endpoint()))
        .collect();
    let max_open_orders = args.max_open_orders;
    let env_for: EnvFor = Arc::new(move |function, slot| {
        let endpoint = endpoints
            .get(&(function.to_owned(), slot))
            .cloned()
            .unwrap_or_default();
        [
            ("TABLE_NAME", table.to_owned()),
            ("AWS_ENDPOINT_URL_DYNAMODB", endpoint),
            ("AWS_REGION", "eu-west-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "local".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "local".to_owned()),
            ("JWT_ISSUER", devkit::tokens::DEV_ISSUER.to_owned()),
            ("JWKS_URL", jwks_url.clone()),
        ]
        .into_iter()
        .chain(
            max_open_orders
                .iter()
                .map(|cap| ("MAX_OPEN_ORDERS", cap.to_string())),
        )
        .chain(
            bundle
                .iter()
                .flat_map(|b| [("AWS_CA_BUNDLE", b.clone()), ("JWKS_CA_BUNDLE", b.clone())]),
        )
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    });
    let fleet =
        Arc::new(Fleet::start(&harness::release_dir(), &functions(), instances, env_for).await);
    for ((function, slot), proxy) in &proxies {
        if let Some(instance) = fleet.instance(function, *slot) {
            let _ = proxy.instance.set(instance);
        }
    }
    if !fleet.ready(Duration::from_secs(60)).await {
        return Err("the function instances did not all start within 60 s".into());
    }
    let door = FrontDoor::start(fleet.clone()).await?;
    Ok(World {
        engine,
        store,
        fleet,
        door,
        log,
        issuer,
        initial,
        products: Arc::new(products),
        stall,
        _tls: tls,
    })
}

/// Runs the shoppers for `duration`, printing progress; returns the recorder.
async fn shop(
    args: &Args,
    world: &World,
    duration: Duration,
    kill_every: Option<Duration>,
    label: &str,
) -> Arc<load::Recorder> {
    let recorder = Arc::new(load::Recorder::default());
    let deadline = Instant::now() + duration;
    let mut shoppers = Vec::new();
    for i in 0..args.users {
        let sub = format!("shopper-{i:03}");
        let token = world.issuer.mint(&TokenSpec {
            sub: sub.clone(),
            admin: false,
            ttl_secs: 3600,
        });
        let shopper = load::Shopper::new(
            sub,
            &token,
            &world.door.url(),
            args.seed ^ (i as u64 + 1) << 8,
            recorder.clone(),
            world.products.clone(),
        );
        shoppers.push(tokio::spawn(shopper.run(deadline)));
    }
    let killer = kill_every.map(|every| {
        let (fleet, log, seed) = (world.fleet.clone(), world.log.clone(), args.seed);
        tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(seed ^ 0x6b696c6c);
            while Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(
                    rng.u64(every.as_millis() as u64 / 2..=every.as_millis() as u64 * 3 / 2),
                ))
                .await;
                let instances = fleet.instances();
                let victim = &instances[rng.usize(..instances.len())];
                if victim.kill() {
                    log.record(FaultKind::RandomKill, &victim.function, victim.slot);
                }
            }
        })
    });
    let repricer = (args.reprice_every_ms > 0).then(|| {
        let token = world.issuer.mint(&TokenSpec {
            sub: "admin".into(),
            admin: true,
            ttl_secs: 3600,
        });
        let admin = load::Admin::new(
            &token,
            &world.door.url(),
            args.seed ^ 0x61646d,
            recorder.clone(),
            world.products.clone(),
        );
        tokio::spawn(admin.run(deadline, Duration::from_millis(args.reprice_every_ms)))
    });
    let started = Instant::now();
    let progress = {
        let (recorder, log, fleet, label) = (
            recorder.clone(),
            world.log.clone(),
            world.fleet.clone(),
            label.to_owned(),
        );
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(3)).await;
                eprintln!(
                    "  [{label} {:>3}s] {} requests · {} 5xx · {} no answer · {} orders · {} faults · {} kills",
                    started.elapsed().as_secs(),
                    recorder.sent.load(Ordering::Relaxed),
                    recorder.server_errors.load(Ordering::Relaxed),
                    recorder.unknown.load(Ordering::Relaxed),
                    recorder.orders.load(Ordering::Relaxed),
                    log.all().len(),
                    fleet.kills(),
                );
            }
        })
    };
    for shopper in shoppers {
        let _ = shopper.await;
    }
    if let Some(killer) = killer {
        killer.abort();
    }
    if let Some(repricer) = repricer {
        let _ = repricer.await;
    }
    progress.abort();
    recorder
}

async fn final_state(world: &World, users: usize) -> Result<checker::FinalState, BoxError> {
    let ids: Vec<ProductId> = world
        .products
        .iter()
        .map(|p| ProductId::parse(p))
        .collect::<Result<_, _>>()?;
    let stock = world
        .store
        .get_products(&ids)
        .await?
        .into_iter()
        .map(|(id, p)| (id.to_string(), p.stock))
        .collect();
    let mut buckets = BTreeMap::new();
    for product in world.products.iter() {
        let held = devkit::audit::stock_items(&world.engine.endpoint(), TABLE, product).await?;
        buckets.insert(product.clone(), held);
    }
    let mut audits = HashMap::new();
    for i in 0..users {
        let sub = format!("shopper-{i:03}");
        let user = shared::domain::UserId::parse(&sub)?;
        let audit = devkit::audit::audit_user(&world.engine.endpoint(), TABLE, &user).await?;
        audits.insert(sub, audit);
    }
    Ok(checker::FinalState {
        stock,
        buckets,
        users: audits,
    })
}

/// The p50 and p99 latency of the answered requests among `records`, in milliseconds.
fn latency_ms<'a>(records: impl IntoIterator<Item = &'a load::Record>) -> (f64, f64) {
    let mut latencies: Vec<Duration> = records
        .into_iter()
        .filter(|r| r.status.is_some())
        .map(|r| r.finished - r.started)
        .collect();
    latencies.sort_unstable();
    let ms = |p| percentile(&latencies, p).as_secs_f64() * 1000.0;
    (ms(0.50), ms(0.99))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let mut args = Args::parse();
    if args.quick {
        args.duration = 25;
        args.stall_rounds = args.stall_rounds.min(6);
        args.scale_secs = 0;
        args.sale_secs = args.sale_secs.min(15);
    }
    if !(args.capacity_scale > 0.0 && args.capacity_scale <= 1.0) {
        eprintln!(
            "chaos: --capacity-scale must be more than 0 and at most 1 (a fraction of DynamoDB's per-partition limits), not {}",
            args.capacity_scale
        );
        std::process::exit(2);
    }
    match run(args).await {
        Ok(0) => {}
        Ok(_) => std::process::exit(1),
        Err(err) => {
            eprintln!("chaos: {err}");
            std::process::exit(2);
        }
    }
}

/// Returns the number of violations.
async fn run(args: Args) -> Result<usize, BoxError> {
    let functions = functions();
    eprintln!(
        "chaos: building the release binaries of {} functions …",
        functions.len()
    );
    harness::build_release(&functions)?;
    if args.scenario == Scenario::FlashSale {
        return flash::run(&args).await;
    }
    let faults = Faults {
        throttle: args.throttle,
        server_error: args.server_error,
        latency: args.latency,
        latency_ms: (20, 200),
        drop_before: args.drop_before,
        drop_after: args.drop_after,
        kill_after_commit: args.kill_after_commit,
        kill_mid_request: args.kill_mid_request,
    };
    eprintln!(
        "chaos: seed {}, {} shoppers, {} instances × {} functions, {} to DynamoDB and the key set, {} s with faults {faults:?}, a random kill every ~{} ms",
        args.seed,
        args.users,
        args.instances,
        functions.len(),
        if args.plain { "plain HTTP" } else { "TLS" },
        args.duration,
        args.kill_every_ms
    );
    let world = build_world(&args, args.instances, faults, None).await?;
    let kill_every = (args.kill_every_ms > 0).then(|| Duration::from_millis(args.kill_every_ms));
    let recorder = shop(
        &args,
        &world,
        Duration::from_secs(args.duration),
        kill_every,
        "faults",
    )
    .await;
    let records = recorder.all();
    let faults_seen = world.log.all();
    let (starts, kills) = (world.fleet.starts(), world.fleet.kills());
    let isolation = world.engine.isolation().map(|i| (i.hold(), i.counters()));
    let state = final_state(&world, args.users).await?;
    let violations = checker::check(&records, &world.initial, &state, &faults_seen);
    world.stop().await;

    let count = |f: &dyn Fn(&load::Record) -> bool| records.iter().filter(|r| f(r)).count();
    let by_kind = |k: FaultKind| faults_seen.iter().filter(|f| f.kind == k).count();
    let acked: usize = count(&|r| {
        r.method == "POST" && r.path == "/orders" && r.status == Some(201) && !r.raw_body.is_empty()
    });
    let placed: usize = state.users.values().map(|a| a.orders.len()).sum();
    println!(
        "\n| chaos run (seed {}, {} s, {} instances per function, 2-core machine) | |",
        args.seed, args.duration, args.instances
    );
    println!("|---|---|");
    println!(
        "| transport to DynamoDB and the key set | {} |",
        if args.plain { "plain HTTP" } else { "TLS" }
    );
    println!("| requests | {} |", records.len());
    println!(
        "| 2xx / 4xx / 5xx / no answer | {} / {} / {} / {} |",
        count(&|r| r.status.is_some_and(|s| s < 300)),
        count(&|r| r.status.is_some_and(|s| (400..500).contains(&s))),
        count(&|r| r.status.is_some_and(|s| s >= 500)),
        count(&|r| r.status.is_none())
    );
    println!("| orders in the table (201 answers incl. replays) | {placed} ({acked}) |");
    println!(
        "| DynamoDB faults: throttled / 5xx / delayed / dropped before / dropped after | {} / {} / {} / {} / {} |",
        by_kind(FaultKind::Throttle),
        by_kind(FaultKind::ServerError),
        by_kind(FaultKind::Latency),
        by_kind(FaultKind::DropBefore),
        by_kind(FaultKind::DropAfter)
    );
    if let Some((hold, c)) = isolation {
        println!(
            "| transaction isolation (hold {} ms): transactions / writes refused for one in flight / transactions cancelled for one | {} / {} / {} |",
            hold.as_millis(),
            c.transactions,
            c.write_conflicts,
            c.transaction_conflicts
        );
    }
    println!(
        "| instances killed: at random / mid-request / right after a commit | {} / {} / {} ({kills} in all) |",
        by_kind(FaultKind::RandomKill),
        by_kind(FaultKind::KillMidRequest),
        by_kind(FaultKind::KillAfterCommit)
    );
    println!("| processes started (first starts + replacements) | {starts} |");
    println!("| violations | {} |", violations.len());
    for violation in violations.iter().take(50) {
        println!(
            "VIOLATION [{}] {} (requests {:?})",
            violation.rule, violation.detail, violation.requests
        );
    }

    let mut stall_violations = 0;
    if args.stall_rounds > 0 {
        // Two instances at least: the second checkout runs while the first is held in the other.
        let world = build_world(&args, args.instances.max(2), Faults::NONE, None).await?;
        let found = stall::run(&world, args.stall_rounds).await;
        println!(
            "\n| stall scenario: a checkout held between its read and its write | {} rounds |",
            args.stall_rounds
        );
        println!("|---|---|");
        println!(
            "| held checkouts that committed / answered 201 after re-pricing / other | {} / {} / {} |",
            found.held_committed_stale, found.held_repriced, found.held_other
        );
        println!("| violations | {} |", found.violations.len());
        for violation in &found.violations {
            println!("VIOLATION [{}] {}", violation.rule, violation.detail);
        }
        stall_violations = found.violations.len();
        world.stop().await;
    }

    if args.scale_secs > 0 {
        println!("\n| instances per function | requests/s | p50 | p99 | 5xx |");
        println!("|---|---|---|---|---|");
        for instances in [1, 2, 4] {
            let world = build_world(&args, instances, Faults::NONE, None).await?;
            let recorder = shop(
                &args,
                &world,
                Duration::from_secs(args.scale_secs),
                None,
                &format!("{instances}×"),
            )
            .await;
            let records = recorder.all();
            let (p50, p99) = latency_ms(&records);
            println!(
                "| {instances} | {:.0} | {p50:.1} ms | {p99:.1} ms | {} |",
                records.len() as f64 / args.scale_secs as f64,
                records
                    .iter()
                    .filter(|r| r.status.is_some_and(|s| s >= 500))
                    .count()
            );
            world.stop().await;
        }
        println!(
            "(2 cores run the shoppers, the front door, the engine and every instance: the figures show how load spreads, not AWS capacity.)"
        );
    }
    Ok(violations.len() + stall_violations)
}

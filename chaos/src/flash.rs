//! The flash sale: shoppers buy one product with scarce stock while others browse, through real
//! function processes, against DynamoDB's capacity simulated in the proxies
//! ([`crate::capacity`]) and its transaction isolation in front of the engine
//! (`devkit::isolation`). Checkouts start at a set share of the sale's predicted ceiling
//! ([`Pace`]), each buyer standing for several users. Reported per second: checkouts placed, 409s,
//! throttles, conflicts, and the checkouts' p50/p99; beside them the checkout's unloaded latency
//! and the machine's headroom ([`crate::headroom`]); then the checker's invariants over the whole
//! sale (no oversell, stock conserved, each acknowledged order exactly once). One more sale has an
//! admin restock, re-split and delete the product while it runs ([`admin_mid_sale`]).
//!
//! What it shows: one product is one item, so its checkouts share one partition's write units
//! (1,000 a second; a transactional update of an item under 1 KB costs 2, so at most 500
//! checkouts a second, times the scale), and concurrent checkouts of it conflict. Split into K
//! stock buckets (`--sale-buckets 1,8`, one sale each, side by side), its checkouts spread over K
//! partitions, and the ceiling is K times higher.

use crate::capacity::{Capacity, Limits};
use crate::headroom::{Headroom, Sampler};
use crate::load::{self, Record, Recorder};
use crate::proxy::{FaultKind, Faults};
use crate::{Args, BoxError, World, build_world, checker, final_state, latency_ms};
use devkit::tokens::TokenSpec;
use reqwest::{Client, Method};
use serde_json::json;
use shared::domain::{MAX_STOCK_BUCKETS, Precondition, ProductDraft, ProductId};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The product on sale.
const HOT: &str = "product-00";

/// What one sale measured, for the side-by-side table.
struct Outcome {
    buckets: u32,
    stock: i64,
    placed: usize,
    took: Duration,
    peak: usize,
    predicted: f64,
    /// Write units on the hot product's busiest item, and on all of its items.
    hot_writes: (f64, f64),
    throttled: usize,
    conflicts: usize,
    p50_p99: (f64, f64),
    left: i64,
    violations: usize,
    headroom: Headroom,
}

impl Outcome {
    fn rate(&self) -> f64 {
        self.placed as f64 / self.took.as_secs_f64().max(0.001)
    }
}

/// Runs one sale per stock split in `--sale-buckets`, each in a fresh world, then the table that
/// sets them side by side; returns the number of violations over all of them.
pub async fn run(args: &Args) -> Result<usize, BoxError> {
    if let Some(bad) = args
        .sale_buckets
        .iter()
        .find(|k| !(1..=MAX_STOCK_BUCKETS).contains(k))
    {
        return Err(format!(
            "--sale-buckets {bad}: a product splits into 1 to {MAX_STOCK_BUCKETS} buckets"
        )
        .into());
    }
    let mut outcomes = Vec::new();
    for &buckets in &args.sale_buckets {
        outcomes.push(sale(args, buckets, args.sale_stock, false).await?);
    }
    compare(args, &outcomes);
    let mut violations: usize = outcomes.iter().map(|o| o.violations).sum();
    if args.admin_mid_sale {
        violations += sale(args, ADMIN_SALE_BUCKETS, args.sale_stock, true)
            .await?
            .violations;
    }
    if let (Some(&buckets), true) = (args.sale_buckets.last(), args.sellout_stock > 0) {
        let sellout = sale(args, buckets, args.sellout_stock, false).await?;
        println!(
            "\n| sell-out: {HOT} split over {buckets}, stock {} | placed {} in {:.1} s, stock left {}, violations {} |",
            sellout.stock,
            sellout.placed,
            sellout.took.as_secs_f64(),
            sellout.left,
            sellout.violations
        );
        violations += sellout.violations;
    }
    Ok(violations)
}

/// One sale of `stock` units of the hot product split over `buckets` items; with `admin`, an
/// admin's writes of the product land in the middle of it ([`admin_mid_sale`]).
async fn sale(args: &Args, buckets: u32, stock: i64, admin: bool) -> Result<Outcome, BoxError> {
    let limits = Limits::dynamodb(args.capacity_scale);
    let capacity = Arc::new(Capacity::new(limits));
    // This sale's settings: its buyers (per bucket, unless told a fixed count), 6 products, the
    // hot one's stock, and a cap of open orders that lets each buyer's users buy on.
    let mut sale = args.clone();
    if args.buyers_per_bucket > 0 {
        sale.buyers = args.buyers_per_bucket * buckets as usize;
    }
    sale.products = 6;
    sale.stock = stock;
    sale.max_open_orders = Some(args.sale_open_orders);
    let args = &sale;
    eprintln!(
        "chaos: flash sale of {HOT} (stock {stock} in {buckets} bucket(s)), {} buyers and {} browsers, {} instances × {} functions, per-partition limits {:.0} read / {:.0} write units a second (DynamoDB's × {})",
        args.buyers,
        args.browsers,
        args.instances,
        crate::functions().len(),
        limits.read,
        limits.write,
        args.capacity_scale
    );
    let world = build_world(args, args.instances, Faults::NONE, Some(capacity.clone())).await?;
    split_hot(&world, stock, buckets).await?;
    let recorder = Arc::new(Recorder::default());
    // One shopper alone, before the sale, on another product: the checkout's latency unloaded.
    let sold_out = Arc::new(AtomicBool::new(false));
    let mut users = Users {
        world: &world,
        next: 0,
    };
    let unloaded = unloaded_checkout(
        &world,
        users.shopper(PROBE_ROUNDS, &recorder, args.seed, &sold_out),
    )
    .await;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.sale_secs);
    let headroom = Sampler::start();
    let admin_writes = admin.then(|| {
        let bearer = format!(
            "Bearer {}",
            world.issuer.mint(&TokenSpec {
                sub: "sale-admin".into(),
                admin: true,
                ttl_secs: 3600,
            })
        );
        tokio::spawn(admin_mid_sale(
            world.door.url(),
            bearer,
            started,
            Duration::from_secs(args.sale_secs),
            stock,
        ))
    });
    // Checkouts started at a steady fraction of the predicted ceiling, shared by the buyers.
    let predicted = ceiling(buckets, args.capacity_scale);
    let load = if admin {
        args.admin_sale_load
    } else {
        args.sale_load
    };
    let pace = (load > 0.0).then(|| Arc::new(Pace::new(started, predicted * load)));
    let mut tasks = Vec::new();
    for i in 0..args.buyers + args.browsers {
        let seed = args.seed ^ ((i as u64 + 1) << 12);
        tasks.push(if i < args.buyers {
            let buyer = users.shopper(USERS_PER_BUYER, &recorder, seed, &sold_out);
            tokio::spawn(buyer.buy(deadline, pace.clone()))
        } else {
            let browser = users.shopper(1, &recorder, seed, &sold_out);
            tokio::spawn(browser.browse(deadline, Duration::from_millis(args.browse_every_ms)))
        });
    }
    let audited = users.next;
    for task in tasks {
        let _ = task.await;
    }
    let took = started.elapsed();
    let headroom = headroom.finish().await;
    let admin_writes = match admin_writes {
        Some(task) => Some(task.await?),
        None => None,
    };
    let records = recorder.all();
    let faults = world.log.all();
    let state = final_state(&world, audited).await?;
    // An admin's restock sets the stock whatever was sold: the hot product's conservation holds
    // only without one (its other invariants still apply).
    let mut initial = world.initial.clone();
    if admin {
        initial.remove(HOT);
    }
    let violations = checker::check(&records, &initial, &state, &faults);
    let left = state.stock.get(HOT).copied().unwrap_or_default();
    let outcome = report(
        args, buckets, stock, &world, &records, &faults, started, took, left, &capacity,
    );
    println!(
        "| checkout p50 unloaded (one shopper alone, before the sale) / in the sale | {unloaded:.0} ms / {:.0} ms ({:.1}×) |",
        outcome.p50_p99.0,
        outcome.p50_p99.0 / unloaded.max(0.001)
    );
    println!(
        "| machine headroom during the sale | {} |",
        headroom.describe()
    );
    println!("| violations | {} |", violations.len());
    if let Some(writes) = &admin_writes {
        print_admin_writes(writes);
    }
    for violation in violations.iter().take(50) {
        println!(
            "VIOLATION [{}] {} (requests {:?})",
            violation.rule, violation.detail, violation.requests
        );
    }
    world.stop().await;
    // Any answer an admin should never see (a 500 above all) is a violation, as the checker
    // holds every shopper's answer to. Landing within the time is the target, printed.
    let unexpected: usize = admin_writes
        .iter()
        .flatten()
        .map(|w| w.unexpected.len())
        .sum();
    Ok(Outcome {
        violations: violations.len() + unexpected,
        headroom,
        ..outcome
    })
}

/// Checkouts of the unloaded probe.
const PROBE_ROUNDS: usize = 8;

/// How long a checkout takes with nothing else running: one shopper (a user per checkout, as
/// the buyers), [`PROBE_ROUNDS`] checkouts of one unit of another product, one after another;
/// the median of `POST /orders`, in ms.
async fn unloaded_checkout(world: &World, mut probe: Sale) -> f64 {
    let until = Instant::now() + Duration::from_secs(30);
    let calm = world
        .products
        .get(1)
        .cloned()
        .unwrap_or_else(|| HOT.to_owned());
    let mut took = Vec::new();
    for _ in 0..PROBE_ROUNDS {
        if let Step::Checkout(Some(r)) = probe.checkout(&calm, until).await
            && r.status == Some(201)
        {
            took.push(r.finished.duration_since(r.started).as_secs_f64() * 1000.0);
        }
    }
    took.sort_by(f64::total_cmp);
    took.get(took.len() / 2).copied().unwrap_or(0.0)
}

/// Splits the hot product's stock over `buckets` items, as an admin's `PUT` with
/// `stock_buckets` does (the same store call).
async fn split_hot(world: &World, stock: i64, buckets: u32) -> Result<(), BoxError> {
    let app_config = shared::config::Config::from_lookup(|name| {
        (name == "TABLE_NAME").then(|| crate::TABLE.to_owned())
    })?;
    let draft = ProductDraft::parse(&json!({
        "name": "Product 0", "description": "", "price": 100, "stock": stock,
        "stock_buckets": buckets,
    }))
    .map_err(|e| format!("{e:?}"))?;
    world
        .store
        .put_product(
            &ProductId::parse(HOT)?,
            &draft,
            app_config.currency(),
            &Precondition::None,
        )
        .await?;
    Ok(())
}

/// The sales side by side: the throughput each split reached, and its ratio to the first.
fn compare(args: &Args, outcomes: &[Outcome]) {
    let Some(base) = outcomes.first() else { return };
    println!(
        "\n| flash sale side by side: {HOT}, stock {}, {} buyers per bucket ({USERS_PER_BUYER} users each), {} browsers, limits × {}, transaction hold {} ms | | | | | | | | | | | |",
        args.sale_stock,
        args.buyers_per_bucket,
        args.browsers,
        args.capacity_scale,
        args.transaction_hold_ms
    );
    println!(
        "| stock buckets | checkouts placed | sale length | checkouts a second (mean / peak) | × the first | predicted ceiling (writes) | of the ceiling | write units: busiest item / all of {HOT} | throttled / conflicts | checkout p50 / p99 | machine headroom | violations |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for o in outcomes {
        println!(
            "| {} | {} (stock left {}) | {:.1} s | {:.1} / {} | {} | {:.1} a second | {:.0} % | {:.0} / {:.0} | {} / {} | {:.0} ms / {:.0} ms | {} | {} |",
            o.buckets,
            o.placed,
            o.left,
            o.took.as_secs_f64(),
            o.rate(),
            o.peak,
            if o.headroom.saturated() || base.headroom.saturated() {
                "void (saturated)".to_owned()
            } else {
                format!("{:.1}×", o.rate() / base.rate().max(0.001))
            },
            o.predicted,
            100.0 * o.rate() / o.predicted.max(0.001),
            o.hot_writes.0,
            o.hot_writes.1,
            o.throttled,
            o.conflicts,
            o.p50_p99.0,
            o.p50_p99.1,
            o.headroom.describe(),
            o.violations,
        );
    }
    // The target the design is held to (the issue's, in docs/scale.md): printed, not enforced,
    // since a loaded machine can miss a pace that the model allows.
    if let Some(split) = outcomes
        .iter()
        .find(|o| o.buckets == 8 && base.buckets == 1)
    {
        if split.headroom.saturated() || base.headroom.saturated() {
            println!(
                "\ntarget: 8 buckets ≥ 6× 1 bucket: void: the machine saturated during a sale ({} / {}), so the ratio measures the machine, not the model; rerun on a quieter machine or with fewer --buyers",
                base.headroom.describe(),
                split.headroom.describe()
            );
            return;
        }
        let ratio = split.rate() / base.rate().max(0.001);
        println!(
            "\ntarget: 8 buckets ≥ 6× 1 bucket, at 0 violations: {ratio:.1}× with {} violation(s): {}",
            split.violations + base.violations,
            if ratio >= 6.0 && split.violations + base.violations == 0 {
                "met"
            } else {
                "missed"
            }
        );
    }
}

/// One shopper of the sale.
struct Sale {
    http: Client,
    recorder: Arc<Recorder>,
    base: String,
    /// The users this shopper stands for, as (sub, `Bearer …`), one after another: each user's
    /// partition (cart, orders, counter) has DynamoDB's per-partition limits too, and one user
    /// checking out many times a second would meet them long before the product does.
    identities: Vec<(String, String)>,
    at: usize,
    rng: fastrand::Rng,
    products: Arc<Vec<String>>,
    sold_out: Arc<AtomicBool>,
}

/// Hands out the users of one sale (`shopper-000`, `shopper-001`, …), so the checker audits
/// every one of them.
struct Users<'w> {
    world: &'w World,
    next: usize,
}

impl Users<'_> {
    /// A shopper standing for `count` users of its own.
    fn shopper(
        &mut self,
        count: usize,
        recorder: &Arc<Recorder>,
        seed: u64,
        sold_out: &Arc<AtomicBool>,
    ) -> Sale {
        let identities = (self.next..self.next + count)
            .map(|i| {
                let sub = format!("shopper-{i:03}");
                let token = self.world.issuer.mint(&TokenSpec {
                    sub: sub.clone(),
                    admin: false,
                    ttl_secs: 3600,
                });
                (sub, format!("Bearer {token}"))
            })
            .collect();
        self.next += count;
        Sale {
            http: Client::builder()
                .timeout(load::CLIENT_TIMEOUT)
                .build()
                .unwrap_or_default(),
            recorder: recorder.clone(),
            base: self.world.door.url(),
            identities,
            at: 0,
            rng: fastrand::Rng::with_seed(seed),
            products: self.world.products.clone(),
            sold_out: sold_out.clone(),
        }
    }
}

/// The predicted ceiling of a sale, in checkouts a second: one transactional update costs 2
/// write units of a partition's 1,000 a second (times the scale), and K buckets are K
/// partitions.
fn ceiling(buckets: u32, scale: f64) -> f64 {
    f64::from(buckets) * 1000.0 * scale / 2.0
}

/// Checkouts started at a steady rate: the n-th at `started + n / rate`, whichever buyer is
/// free takes it. An open-loop demand at a set share of the ceiling, so that what a sale shows
/// is whether the design sustains it (throughput, and latency near the unloaded one), not how
/// far a closed loop of buyers can push past it.
struct Pace {
    started: Instant,
    interval: Duration,
    next: std::sync::atomic::AtomicU64,
}

impl Pace {
    fn new(started: Instant, rate: f64) -> Self {
        Self {
            started,
            interval: Duration::from_secs_f64(1.0 / rate.max(0.001)),
            next: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Waits for the next checkout's turn.
    async fn next(&self) {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let at = self.started + self.interval.mul_f64(n as f64);
        tokio::time::sleep_until(at.into()).await;
    }
}

/// Users each buyer stands for, one checkout each in turn.
const USERS_PER_BUYER: usize = 8;

/// What one checkout step of a shopper came to.
enum Step {
    /// The cart was not filled: the cart write's answer (404: the product is gone).
    NotInCart(Option<u16>),
    /// The checkout's answer, if any came.
    Checkout(Option<Box<Record>>),
}

impl Sale {
    /// The next of this shopper's users puts one of `product` in their cart and checks out
    /// under a fresh key, each call retried as a careful client does.
    async fn checkout(&mut self, product: &str, deadline: Instant) -> Step {
        self.at = (self.at + 1) % self.identities.len();
        let put = self
            .retrying(
                Method::PUT,
                &format!("/cart/items/{product}"),
                Some(json!({"quantity": 1})),
                None,
                deadline,
            )
            .await;
        match put.as_ref().and_then(|r| r.status) {
            Some(200) => {}
            other => return Step::NotInCart(other),
        }
        let key = uuid::Uuid::new_v4().to_string();
        Step::Checkout(
            self.retrying(Method::POST, "/orders", None, Some(&key), deadline)
                .await
                .map(Box::new),
        )
    }

    /// Puts one of the hot product in the cart and checks out, again and again, until it is sold
    /// out, the user holds the most open orders allowed, or the sale ends.
    async fn buy(mut self, deadline: Instant, pace: Option<Arc<Pace>>) {
        while Instant::now() < deadline && !self.sold_out.load(Ordering::Relaxed) {
            if let Some(pace) = &pace {
                pace.next().await;
            }
            let answer = match self.checkout(HOT, deadline).await {
                Step::Checkout(Some(answer)) => answer,
                // The admin deleted the product: nothing left to buy.
                Step::NotInCart(Some(404)) => return,
                Step::NotInCart(_) | Step::Checkout(None) => continue,
            };
            let problem = answer
                .body
                .as_ref()
                .and_then(|b| b["type"].as_str())
                .unwrap_or_default()
                .to_owned();
            if problem.ends_with(":insufficient-stock") {
                self.sold_out.store(true, Ordering::Relaxed);
            }
            if problem.ends_with(":too-many-open-orders") {
                return;
            }
        }
    }

    /// Reads product pages (mostly the hot one) and the catalog until the sale ends.
    async fn browse(mut self, deadline: Instant, every: Duration) {
        while Instant::now() < deadline && !self.sold_out.load(Ordering::Relaxed) {
            // A reader pauses between pages; one that never did would spend the product's read
            // units as fast as the machine allows, a load no shop's browsers make.
            tokio::time::sleep(every.mul_f64(0.5 + self.rng.f64())).await;
            let path = match self.rng.u32(0..10) {
                0..=6 => format!("/products/{HOT}"),
                7 => {
                    let product = self.products[self.rng.usize(..self.products.len())].clone();
                    format!("/products/{product}")
                }
                _ => "/products?limit=10".to_owned(),
            };
            self.retrying(Method::GET, &path, None, None, deadline)
                .await;
        }
    }

    /// As a careful client: the same key again on a 5xx, no answer, or 409 in progress, with
    /// jittered backoff.
    async fn retrying(
        &mut self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        key: Option<&str>,
        deadline: Instant,
    ) -> Option<Record> {
        let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
        let mut last = None;
        for attempt in 0..load::ATTEMPTS {
            let record = load::send(
                &self.http,
                &self.recorder,
                &self.base,
                &self.identities[self.at].0,
                &self.identities[self.at].1,
                method.clone(),
                path,
                body.as_ref(),
                &headers,
            )
            .await;
            let retry = load::worth_retrying(&record);
            last = Some(record);
            // A key already sent is retried to the end, even past the sale: its outcome must be
            // known for the checker.
            if !retry || (key.is_none() && Instant::now() >= deadline) {
                break;
            }
            load::back_off(&mut self.rng, attempt).await;
        }
        last
    }
}

#[allow(clippy::too_many_arguments)]
fn report(
    args: &Args,
    buckets: u32,
    stock: i64,
    world: &World,
    records: &[Record],
    faults: &[crate::proxy::Fault],
    started: Instant,
    took: Duration,
    left: i64,
    capacity: &Capacity,
) -> Outcome {
    let second = |at: Instant| at.saturating_duration_since(started).as_secs() as usize;
    let seconds = took.as_secs() as usize + 1;
    let checkouts: Vec<&Record> = records
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/orders")
        .collect();
    let scale = args.capacity_scale;
    // One transactional update costs 2 write units of a partition's 1,000 a second; K buckets are
    // K partitions.
    let predicted = ceiling(buckets, scale);
    println!(
        "\n| flash sale: {HOT}, stock {stock} in {buckets} bucket(s), {} buyers, {} browsers, {} instances per function | per-partition limits × {scale} |",
        args.buyers, args.browsers, args.instances
    );
    println!("|---|---|");
    println!(
        "| second | checkouts placed (201) | 409 | 503 | throttled calls | transaction conflicts | checkout p50 | checkout p99 |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut peak = 0usize;
    for s in 0..seconds {
        let in_second: Vec<&&Record> = checkouts
            .iter()
            .filter(|r| second(r.finished) == s)
            .collect();
        let placed = in_second.iter().filter(|r| r.status == Some(201)).count();
        peak = peak.max(placed);
        let refused = in_second.iter().filter(|r| r.status == Some(409)).count();
        let unavailable = in_second.iter().filter(|r| r.status == Some(503)).count();
        let of_kind = |kind: FaultKind| {
            faults
                .iter()
                .filter(|f| f.kind == kind && second(f.at) == s)
                .count()
        };
        let (p50, p99) = latency_ms(in_second.iter().map(|r| **r));
        println!(
            "| {s} | {placed} | {refused} | {unavailable} | {} | {} | {p50:.0} ms | {p99:.0} ms |",
            of_kind(FaultKind::Throttle),
            of_kind(FaultKind::Conflict),
        );
    }
    let placed = checkouts.iter().filter(|r| r.status == Some(201)).count();
    let counters = capacity.counters();
    let isolation = world
        .engine
        .isolation()
        .map(|i| i.counters())
        .unwrap_or_default();
    let conflicts = isolation.write_conflicts + isolation.transaction_conflicts;
    // The product item and its bucket items (`PRODUCT#<id>#<i>`).
    let hot_items: Vec<f64> = counters
        .writes_by_partition
        .iter()
        .filter(|(pk, _)| {
            pk.strip_prefix(&format!("PRODUCT#{HOT}"))
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('#'))
        })
        .map(|(_, units)| *units)
        .collect();
    let hot_writes = (
        hot_items.iter().copied().fold(0.0, f64::max),
        hot_items.iter().sum::<f64>(),
    );
    let index_writes = counters
        .writes_by_partition
        .iter()
        .filter(|(pk, _)| crate::capacity::is_index(pk))
        .fold(0.0, |sum, (_, units)| sum + units);
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "\n| flash sale summary | |\n|---|---|\n| sale length | {:.1} s |",
        took.as_secs_f64()
    );
    println!(
        "| checkouts placed (201 answers, replays included) / stock left | {placed} / {left} (of {}) |",
        world.initial.get(HOT).copied().unwrap_or_default()
    );
    println!(
        "| throughput: mean / peak second | {:.1} / {peak} checkouts a second |",
        placed as f64 / took.as_secs_f64().max(0.001)
    );
    println!(
        "| predicted ceiling ({buckets} item(s) × {:.0} write units a second, 2 per checkout) | {predicted:.1} checkouts a second |",
        1000.0 * scale
    );
    println!(
        "| write units on {HOT}'s busiest item / on all its items / on the listing index | {:.0} / {:.0} / {index_writes:.0} |",
        hot_writes.0, hot_writes.1
    );
    println!(
        "| throttled calls / conflicts with a transaction in flight (writes refused + transactions cancelled, hold {} ms) | {} / {} ({} + {}) |",
        args.transaction_hold_ms,
        counters.throttled,
        conflicts,
        isolation.write_conflicts,
        isolation.transaction_conflicts
    );
    Outcome {
        buckets,
        stock,
        placed,
        took,
        peak,
        predicted,
        hot_writes,
        throttled: counters.throttled,
        conflicts,
        p50_p99: latency_ms(checkouts.iter().copied().filter(|r| r.status == Some(201))),
        left,
        violations: 0,
        headroom: Headroom::default(),
    }
}

/// The split of the sale during which the admin writes land.
const ADMIN_SALE_BUCKETS: u32 = 8;
/// How long an admin's write may take to land, 412s and their fresh reads included.
const ADMIN_PATIENCE: Duration = Duration::from_secs(5);

/// One admin write issued mid-sale, and how it went.
struct AdminWrite {
    what: &'static str,
    /// From the first attempt to the answer that landed it.
    landed: Option<Duration>,
    unavailable: usize,
    precondition_failed: usize,
    /// Answers that are neither a success, a 503 nor a 412: a 500 above all.
    unexpected: Vec<u16>,
    attempts: usize,
    last_status: Option<u16>,
}

/// The admin writes of issue's mid-sale check, each at its moment of the sale: a restock with
/// `If-Match: *`, a restock with the tag just read (a 412 is answered by reading again), a
/// re-split from 8 to 16 buckets, and a delete. Each is retried on 503 and 412 for up to
/// [`ADMIN_PATIENCE`].
async fn admin_mid_sale(
    base: String,
    bearer: String,
    started: Instant,
    length: Duration,
    stock: i64,
) -> Vec<AdminWrite> {
    let http = Client::builder()
        .timeout(load::CLIENT_TIMEOUT)
        .build()
        .unwrap_or_default();
    let url = format!("{base}/products/{HOT}");
    let draft = |stock: i64, buckets: u32| json!({"name": "Product 0", "description": "", "price": 100, "stock": stock, "stock_buckets": buckets});
    let mut writes = Vec::new();
    for (at, what) in [
        (0.25, "restock, If-Match: *"),
        (0.40, "restock, If-Match: the tag just read"),
        (0.55, "re-split 8 → 16, If-Match: *"),
        (0.75, "delete"),
    ] {
        tokio::time::sleep_until((started + length.mul_f64(at)).into()).await;
        let first = Instant::now();
        let mut write = AdminWrite {
            what,
            landed: None,
            unavailable: 0,
            precondition_failed: 0,
            unexpected: Vec::new(),
            attempts: 0,
            last_status: None,
        };
        while first.elapsed() < ADMIN_PATIENCE {
            write.attempts += 1;
            let request = match what {
                "restock, If-Match: *" => http
                    .put(&url)
                    .header("if-match", "*")
                    .json(&draft(stock * 2, ADMIN_SALE_BUCKETS)),
                "restock, If-Match: the tag just read" => {
                    let read = http.get(&url).send().await;
                    let Some(tag) = read.ok().and_then(|r| r.headers().get("etag").cloned()) else {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    };
                    http.put(&url)
                        .header("if-match", tag)
                        .json(&draft(stock * 3, ADMIN_SALE_BUCKETS))
                }
                "re-split 8 → 16, If-Match: *" => http
                    .put(&url)
                    .header("if-match", "*")
                    .json(&draft(stock * 3, 16)),
                _ => http.delete(&url),
            };
            let status = match request.header("authorization", &bearer).send().await {
                Ok(response) => response.status().as_u16(),
                Err(_) => 0,
            };
            write.last_status = Some(status);
            match status {
                200..=299 => {
                    write.landed = Some(first.elapsed());
                    break;
                }
                412 => write.precondition_failed += 1,
                503 => write.unavailable += 1,
                other => write.unexpected.push(other),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        writes.push(write);
    }
    writes
}

fn print_admin_writes(writes: &[AdminWrite]) {
    println!(
        "\n| admin write mid-sale ({HOT} in {ADMIN_SALE_BUCKETS} buckets) | landed after | attempts | 503s seen | 412s seen | other answers (a violation) | last status |"
    );
    println!("|---|---|---|---|---|---|---|");
    for w in writes {
        println!(
            "| {} | {} | {} | {} | {} | {:?} | {} |",
            w.what,
            w.landed.map_or("did not land".to_owned(), |t| format!(
                "{} ms",
                t.as_millis()
            )),
            w.attempts,
            w.unavailable,
            w.precondition_failed,
            w.unexpected,
            w.last_status.map_or("-".to_owned(), |s| s.to_string()),
        );
    }
    let all = writes
        .iter()
        .all(|w| w.landed.is_some_and(|t| t <= ADMIN_PATIENCE));
    println!(
        "\ntarget: each admin write lands within {} s, 412s and fresh reads included: {}",
        ADMIN_PATIENCE.as_secs(),
        if all { "met" } else { "missed" }
    );
}

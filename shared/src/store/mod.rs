//! DynamoDB access: the only module that knows DynamoDB exists.
//!
//! Handlers talk to narrow traits, one per operation ([`GetProduct`], [`ListProducts`],
//! [`PutProduct`], [`DeleteProduct`], [`GetCart`], [`Checkout`], …), so each function depends on
//! exactly what it calls, and its IAM policy in `template.yaml` can grant exactly those actions. [`DynamoStore`] implements them all.
//! SDK types never cross this module's boundary: callers see domain types and [`StoreError`].
//!
//! Layout
//! - [`schema`]: the single-table key design and the table definition (the same as `template.yaml`).
//! - `keys`: key values of every item type.
//! - `products`: product items and the catalog operations.
//! - `carts`: one cart item per user.
//! - `orders`: orders, idempotency records, and the checkout and cancel transactions.

mod carts;
mod keys;
mod orders;
mod products;
pub mod schema;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use std::future::Future;
use std::time::Duration;

use crate::domain::{
    Cart, Currency, EntityTag, IdempotencyKey, IdempotencyRecord, Order, OrderId, Precondition,
    Product, ProductDraft, ProductId, Quantity, UserId, Versioned,
};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use std::collections::HashMap;

pub use orders::{IDEMPOTENCY_TTL_SECS, UserAudit};
pub use products::ProductPage;
#[cfg(feature = "bench")]
#[doc(hidden)]
pub use products::bench_support;

type Item = HashMap<String, AttributeValue>;

fn to_item<T: serde::Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(StoreError::corrupt)
}

/// One page from a query that asked for `limit + 1` items: the first `limit`, and whether more
/// follow. DynamoDB may also stop early at 1 MB (then it names where to resume): then more may
/// follow too, and the next page starts after the last item returned. Either way the client is
/// never handed a cursor that leads to an empty page for the `limit + 1` reason.
fn page_of<T>(
    items: Option<Vec<Item>>,
    stopped_early: bool,
    limit: usize,
    map: impl Fn(Item) -> Result<T, StoreError>,
) -> Result<(Vec<T>, bool), StoreError> {
    let mut items = items
        .unwrap_or_default()
        .into_iter()
        .map(map)
        .collect::<Result<Vec<_>, _>>()?;
    let more = items.len() > limit || (stopped_early && !items.is_empty());
    items.truncate(limit);
    Ok((items, more))
}

/// How many items a page query asks for: one more than the page, to learn whether more follow.
fn page_fetch(limit: usize) -> i32 {
    i32::try_from(limit.saturating_add(1)).unwrap_or(i32::MAX)
}

/// Most keys one BatchGetItem takes.
const BATCH_GET_MAX: usize = 100;
/// Rounds of retrying the keys DynamoDB leaves unprocessed (under throttling) before giving up.
const BATCH_GET_ROUNDS: u32 = 5;

/// Strongly consistent BatchGetItem of up to 100 keys of our table, retrying unprocessed keys
/// with backoff. Missing items are simply absent from the result.
async fn batch_get(store: &DynamoStore, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    if keys.len() > BATCH_GET_MAX {
        return Err(StoreError::Internal(
            format!("{} keys in one BatchGetItem", keys.len()).into(),
        ));
    }
    let internal = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Internal(Box::new(e));
    let mut request = KeysAndAttributes::builder()
        .set_keys(Some(keys))
        .consistent_read(true)
        .build()
        .map_err(internal)?;
    let mut found = Vec::new();
    for round in 0..BATCH_GET_ROUNDS {
        let out = store
            .client
            .batch_get_item()
            .request_items(&store.table, request.clone())
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        if let Some(mut responses) = out.responses {
            found.extend(responses.remove(&store.table).unwrap_or_default());
        }
        match out
            .unprocessed_keys
            .and_then(|mut u| u.remove(&store.table))
        {
            Some(rest) if !rest.keys().is_empty() => {
                request = rest;
                tokio::time::sleep(Duration::from_millis(10 << round)).await;
            }
            _ => return Ok(found),
        }
    }
    Err(StoreError::Unavailable(
        "BatchGetItem left keys unprocessed after retries".into(),
    ))
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What can go wrong below the handlers. Conditions that fail are outcomes, not errors, and have
/// their own variants so handlers can map them to 404/412 without looking at DynamoDB codes.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the item does not exist")]
    NotFound,
    #[error("the item exists but the precondition does not hold")]
    PreconditionFailed,
    /// Throttling, timeouts, dropped connections, DynamoDB 5xx: worth retrying later.
    #[error("DynamoDB is unavailable or throttling")]
    Unavailable(#[source] BoxError),
    /// Anything else: a bug or a misconfiguration (missing table, missing permission, bad item).
    #[error("DynamoDB request failed")]
    Internal(#[source] BoxError),
}

/// Error codes DynamoDB uses for "slow down / try again"; everything else from the service is
/// treated as internal (a missing table or permission is a deployment bug, not a client error).
const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
];

impl StoreError {
    fn from_sdk<E, R>(err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let retryable = match &err {
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(service) => service
                .err()
                .code()
                .is_some_and(|code| RETRYABLE_CODES.contains(&code)),
            _ => false,
        };
        if retryable {
            Self::Unavailable(Box::new(err))
        } else {
            Self::Internal(Box::new(err))
        }
    }

    fn corrupt(err: serde_dynamo::Error) -> Self {
        Self::Internal(Box::new(err))
    }
}

/// `GET /products/{id}`: one consistent read.
pub trait GetProduct {
    fn get_product(
        &self,
        id: &ProductId,
    ) -> impl Future<Output = Result<Option<Versioned<Product>>, StoreError>> + Send;
}

/// `GET /products`: one query per page, in id order.
pub trait ListProducts {
    /// Up to `limit` products with ids after `after` (exclusive), in ascending id order.
    fn list_products(
        &self,
        after: Option<&ProductId>,
        limit: usize,
    ) -> impl Future<Output = Result<ProductPage, StoreError>> + Send;
}

/// Whether a put created the product or replaced an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    Created,
    Replaced,
}

/// `PUT /products/{id}`: one conditional update.
pub trait PutProduct {
    fn put_product(
        &self,
        id: &ProductId,
        draft: &ProductDraft,
        currency: &Currency,
        precondition: &Precondition,
    ) -> impl Future<Output = Result<(PutOutcome, Versioned<Product>), StoreError>> + Send;
}

/// `DELETE /products/{id}`: one conditional delete. Returns [`StoreError::NotFound`] when nothing
/// was there and [`StoreError::PreconditionFailed`] when the item exists but fails `precondition`.
pub trait DeleteProduct {
    fn delete_product(
        &self,
        id: &ProductId,
        precondition: &Precondition,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Several products by id, as they are now (one consistent BatchGetItem of at most 100 ids).
/// Ids that match no product are absent from the map.
pub trait GetProducts {
    fn get_products(
        &self,
        ids: &[ProductId],
    ) -> impl Future<Output = Result<HashMap<String, Product>, StoreError>> + Send;
}

/// `GET /cart` and friends: the caller's cart (empty when there is none).
pub trait GetCart {
    fn get_cart(&self, user: &UserId) -> impl Future<Output = Result<Cart, StoreError>> + Send;
}

/// The result of setting a cart line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CartChange {
    Updated(Cart),
    /// The cart already holds [`crate::domain::MAX_CART_LINES`] other products.
    Full,
}

/// `PUT /cart/items/{product_id}`: one UpdateItem (a PutItem for a first line).
pub trait SetCartLine {
    fn set_cart_line(
        &self,
        user: &UserId,
        product: &ProductId,
        quantity: Quantity,
    ) -> impl Future<Output = Result<CartChange, StoreError>> + Send;
}

/// `DELETE /cart/items/{product_id}`: one UpdateItem; removing a line that is not there succeeds.
pub trait RemoveCartLine {
    fn remove_cart_line(
        &self,
        user: &UserId,
        product: &ProductId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Everything checkout writes, in one transaction.
#[derive(Debug)]
pub struct CheckoutPlan<'a> {
    pub user: &'a UserId,
    pub key: &'a IdempotencyKey,
    /// The cart version that was priced; the cart is emptied only if it is still this version.
    pub cart_version: u64,
    /// Each line's product loses `quantity` stock, only if its price is still `unit_price`.
    pub order: &'a Order,
    /// Stored with the key, so a retry gets this response again.
    pub record: &'a IdempotencyRecord,
    /// The most placed (not cancelled) orders the user may hold once this one is placed.
    pub max_open_orders: u32,
}

/// Why one order line could not be placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineReason {
    /// The product was deleted.
    Missing,
    /// Less stock than the line asks for.
    Short { available: i64 },
    /// The price changed since the cart was priced.
    PriceChanged { price: i64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRejection {
    pub product_id: String,
    pub reason: LineReason,
}

/// What became of a checkout transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Stock taken, order written, cart emptied, key recorded: all or nothing, and this was all.
    Committed,
    /// Nothing changed: these lines cannot be placed as priced.
    LinesRejected(Vec<LineRejection>),
    /// Nothing changed: the cart changed after it was read.
    CartChanged,
    /// Nothing changed: the key already has a record (a duplicate won); read it and replay.
    KeyTaken,
    /// Nothing changed: the user already holds the most open orders allowed.
    TooManyOpenOrders,
    /// Not known yet: an earlier attempt of this very send is still running in DynamoDB (the
    /// SDK retried after an attempt timeout) and may still commit. A retry with the same key
    /// replays its outcome.
    InProgress,
}

/// `POST /orders`: the cart and the key's record in one read, then one transaction.
pub trait Checkout {
    fn checkout_state(
        &self,
        user: &UserId,
        key: &IdempotencyKey,
    ) -> impl Future<Output = Result<(Cart, Option<IdempotencyRecord>), StoreError>> + Send;
    fn commit_checkout(
        &self,
        plan: &CheckoutPlan<'_>,
    ) -> impl Future<Output = Result<CommitOutcome, StoreError>> + Send;
}

/// One page of a user's orders, newest first; `next` is the id to continue after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPage {
    pub items: Vec<Order>,
    pub next: Option<OrderId>,
}

/// `GET /orders`: one Query of the caller's partition, newest first.
pub trait ListOrders {
    fn list_orders(
        &self,
        user: &UserId,
        after: Option<&OrderId>,
        limit: usize,
    ) -> impl Future<Output = Result<OrderPage, StoreError>> + Send;
}

/// `GET /orders/{id}`: one GetItem in the caller's partition (someone else's order is not there).
pub trait GetOrder {
    fn get_order(
        &self,
        user: &UserId,
        id: &OrderId,
    ) -> impl Future<Output = Result<Option<Order>, StoreError>> + Send;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    /// Cancelled now, and the stock given back, in one transaction.
    Cancelled(Order),
    /// The order was no longer `placed` (cancelled by a concurrent request): nothing changed.
    NotPlaced,
    /// Not known yet: an earlier attempt of this very send is still running in DynamoDB and may
    /// still commit. Cancelling again is safe (the order's status is the condition).
    InProgress,
}

/// `POST /orders/{id}/cancel`: one transaction (status and stock).
pub trait CancelOrder {
    fn cancel_order(
        &self,
        user: &UserId,
        order: &Order,
    ) -> impl Future<Output = Result<CancelOutcome, StoreError>> + Send;
}

/// Per-attempt and total budgets for one DynamoDB call. Single-item calls answer in milliseconds;
/// the budgets stop a stuck connection from eating the whole Lambda timeout, and leave the SDK's
/// standard retries (3 attempts, with backoff) room to work.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(6);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// The DynamoDB-backed implementation of every store trait.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// Builds a client from the standard AWS settings of the environment (region, credentials,
    /// `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_CA_BUNDLE`), trusting Amazon's roots unless told
    /// otherwise (see [`http_client`]). Call once per process, before the handler loop. Fails
    /// only on an `AWS_CA_BUNDLE` that cannot be read or holds no certificate.
    pub async fn from_env(table: &str) -> Result<Self, crate::ConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let endpoint = var("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| var("AWS_ENDPOINT_URL"));
        let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"));
        let bundle = var(CA_BUNDLE)
            .map(|path| read_ca_bundle(&path))
            .transpose()?;
        let http = http_client(endpoint.as_deref(), region.as_deref(), bundle);
        // On Lambda the credentials and the region are in the environment: the client is built
        // from them directly. The SDK's full loader (profile files, SSO, instance metadata, …)
        // would find the same values after work the bench measured in every cold start; it
        // stays for anywhere else, e.g. a profile on a laptop.
        if let (Some(region), Some(_)) = (region, var("AWS_ACCESS_KEY_ID")) {
            use aws_sdk_dynamodb::config::{BehaviorVersion, Region};
            let mut config = aws_sdk_dynamodb::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new(region))
                .credentials_provider(
                    aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
                )
                .http_client(http)
                .timeout_config(timeouts());
            if let Some(endpoint) = endpoint {
                config = config.endpoint_url(endpoint);
            }
            return Ok(Self {
                client: Client::from_conf(config.build()),
                table: table.to_owned(),
            });
        }
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .timeout_config(timeouts())
            .http_client(http)
            .load()
            .await;
        Ok(Self {
            client: Client::new(&sdk),
            table: table.to_owned(),
        })
    }

    /// A client for a local engine at `endpoint` (e.g. `http://127.0.0.1:8000`), with throwaway
    /// static credentials: used by the local API, the tests and the harnesses.
    pub fn local(endpoint: &str, table: &str) -> Self {
        use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .credentials_provider(Credentials::new(
                "local",
                "local",
                None,
                None,
                "stateless-shop-local",
            ))
            .region(Region::new("local"))
            .endpoint_url(endpoint)
            .timeout_config(timeouts())
            .build();
        Self {
            client: Client::from_conf(config),
            table: table.to_owned(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Opens the connection to DynamoDB (TCP, TLS) with one `DescribeTimeToLive` of the table, so
    /// the first request of a cold start does not pay the handshake: called during init, where
    /// Lambda runs at full CPU and the protected functions fetch their key set at the same time.
    /// `DescribeTimeToLive` because it is the cheapest call every function may make: metadata of
    /// its own table, no item read (`DescribeTable` was tried first: the local engine counts the
    /// items for it, which the bench showed growing init with the table). Never fails: if
    /// DynamoDB does not answer within a second, the first request connects as it would have.
    pub async fn open_connection(&self) {
        let describe = self
            .client
            .describe_time_to_live()
            .table_name(&self.table)
            .send();
        match tokio::time::timeout(Duration::from_secs(1), describe).await {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => {
                tracing::debug!(error = %crate::http::cause_chain(&err), "warm-up call failed")
            }
            Err(_) => tracing::debug!("warm-up call timed out"),
        }
    }
}

/// The root certificates of Amazon Trust Services (Amazon Root CA 1–4 and Starfield Services
/// Root CA G2), which every DynamoDB endpoint's certificate chains to.
const AMAZON_TRUST_SERVICES: &[u8] = include_bytes!("amazon-trust-services.pem");

/// The AWS SDKs' setting for a PEM file of the authorities to trust for AWS endpoints. Here it
/// replaces every other root: one named file, read once at init, no directory scan.
pub const CA_BUNDLE: &str = "AWS_CA_BUNDLE";

/// Reads and checks a PEM bundle at start-up: the SDK parses it only when it opens its first
/// connection, and panics on a bad one.
pub fn read_ca_bundle(path: &str) -> Result<Vec<u8>, crate::ConfigError> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let invalid = |why: String| crate::ConfigError::Invalid {
        var: CA_BUNDLE,
        why,
    };
    let pem = std::fs::read(path)
        .map_err(|e| invalid(format!("cannot read {path}: {e}; point it at a PEM file")))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("{path} is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(invalid(format!("{path} holds no PEM certificate")));
    }
    Ok(pem)
}

/// The SDK's HTTPS client (rustls on aws-lc, as the SDK's default), trusting only Amazon's roots,
/// unless `AWS_CA_BUNDLE` names the authorities to trust instead (an emulator behind TLS with its
/// own CA, as the bench and the chaos run use), or `endpoint` overrides DynamoDB's with an `https`
/// URL or `region` is in the China partition (`cn-*`, whose endpoints are certified by other
/// authorities): those keep the platform store.
///
/// Why: the default client loads the platform's whole certificate store during init: every file
/// of `/etc/ssl/certs` parsed before the first request, for a service whose certificates all come
/// from five roots. Measured with the bench, that load was most of the gap between a function's
/// init and the hello-world floor's. An `https` endpoint override (an emulator or proxy with its
/// own certificate) keeps the platform store, so it can be trusted the usual way.
fn http_client(
    endpoint: Option<&str>,
    region: Option<&str>,
    bundle: Option<Vec<u8>>,
) -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
    let trust = match bundle {
        Some(pem) => TrustStore::empty().with_pem_certificate(pem),
        None if platform_roots(endpoint, region) => TrustStore::default(),
        None => TrustStore::empty().with_pem_certificate(AMAZON_TRUST_SERVICES),
    };
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .unwrap_or_default();
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https()
}

/// Whether DynamoDB's certificate may come from outside Amazon Trust Services.
fn platform_roots(endpoint: Option<&str>, region: Option<&str>) -> bool {
    endpoint.is_some_and(|e| e.to_ascii_lowercase().starts_with("https://"))
        || region.is_some_and(|r| r.starts_with("cn-"))
}

fn timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// Condition expression and its placeholders for a precondition on the item's entity tag.
/// `require_item` adds `attribute_exists(PK)` so a failed check tells "missing" from "changed".
fn condition_for(
    precondition: &Precondition,
    require_item: bool,
) -> Option<(String, Vec<(String, String)>)> {
    let exists = format!("attribute_exists({})", schema::PK);
    let tag_list = |tags: &[EntityTag]| -> (String, Vec<(String, String)>) {
        if tags.is_empty() {
            // No tag can match (`If-Match` listing only weak tags): a condition that never holds,
            // since `IN ()` is not an expression DynamoDB accepts.
            let never = format!(
                "attribute_not_exists({pk}) AND attribute_exists({pk})",
                pk = schema::PK
            );
            return (format!("({never})"), vec![]);
        }
        let values: Vec<(String, String)> = tags
            .iter()
            .enumerate()
            .map(|(i, t)| (format!(":etag{i}"), t.as_str().to_owned()))
            .collect();
        let names = values
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        (format!("{} IN ({names})", products::ETAG), values)
    };
    let (expr, values) = match precondition {
        Precondition::None if require_item => (exists, vec![]),
        Precondition::None => return None,
        Precondition::Exists => (exists, vec![]),
        Precondition::MatchesAny(tags) => {
            let (list, values) = tag_list(tags);
            (format!("{exists} AND {list}"), values)
        }
        Precondition::Absent => (format!("attribute_not_exists({})", schema::PK), vec![]),
        Precondition::MatchesNone(tags) => {
            let (list, values) = tag_list(tags);
            let base = format!("(attribute_not_exists({}) OR NOT ({list}))", schema::PK);
            if require_item {
                (format!("{exists} AND NOT ({list})"), values)
            } else {
                (base, values)
            }
        }
    };
    Some((expr, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SDK parses these only when it builds its first connection, and panics on a bad one:
    /// so they are checked here, not on a request.
    #[test]
    fn amazon_roots_unless_the_endpoint_or_partition_needs_others() {
        assert!(!platform_roots(None, Some("eu-west-1")));
        assert!(!platform_roots(
            Some("http://127.0.0.1:8000"),
            Some("eu-west-1")
        ));
        assert!(platform_roots(Some("HTTPS://dynamo.internal:8443"), None));
        assert!(platform_roots(None, Some("cn-north-1")));
    }

    #[test]
    fn the_amazon_roots_are_five_parsable_certificates() {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let certs: Vec<_> = CertificateDer::pem_slice_iter(AMAZON_TRUST_SERVICES)
            .collect::<Result<_, _>>()
            .expect("valid PEM");
        assert_eq!(certs.len(), 5);
        let mut roots = rustls::RootCertStore::empty();
        let (valid, invalid) = roots.add_parsable_certificates(certs);
        assert_eq!((valid, invalid), (5, 0));
    }

    #[test]
    fn conditions_name_the_tag_placeholders() {
        let tags = vec![
            EntityTag::from_stored("a".into()),
            EntityTag::from_stored("b".into()),
        ];
        let (expr, values) =
            condition_for(&Precondition::MatchesAny(tags), false).expect("a condition");
        assert_eq!(expr, "attribute_exists(PK) AND etag IN (:etag0, :etag1)");
        assert_eq!(
            values,
            vec![
                (":etag0".to_owned(), "a".to_owned()),
                (":etag1".to_owned(), "b".to_owned())
            ]
        );
        assert_eq!(
            condition_for(&Precondition::MatchesAny(vec![]), false),
            Some((
                "attribute_exists(PK) AND (attribute_not_exists(PK) AND attribute_exists(PK))"
                    .to_owned(),
                vec![]
            )),
            "an empty list is a condition that never holds, not `IN ()`"
        );
        assert_eq!(condition_for(&Precondition::None, false), None);
        assert_eq!(
            condition_for(&Precondition::None, true)
                .map(|c| c.0)
                .as_deref(),
            Some("attribute_exists(PK)")
        );
        assert_eq!(
            condition_for(&Precondition::Absent, false)
                .map(|c| c.0)
                .as_deref(),
            Some("attribute_not_exists(PK)")
        );
    }
}

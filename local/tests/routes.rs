//! The route table is declared once (`devkit::routes::ROUTES`); everything else that names routes or
//! the table must agree with it: `template.yaml`, the `cargo lambda watch` router in `Cargo.toml`,
//! the `events/` fixtures, the `functions/` folder, the `FUNCTIONS` CI builds and checks
//! (`.ci/run`) and the table schema in `shared`.

use devkit::routes::ROUTES;
use shared::store::schema;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative))
        .unwrap_or_else(|e| panic!("read {relative}: {e}"))
}

fn template() -> Yaml {
    YamlLoader::load_from_str(&read("template.yaml"))
        .expect("template.yaml is YAML")
        .remove(0)
}

type RouteSet = BTreeSet<(String, String, String)>;

fn declared() -> RouteSet {
    ROUTES
        .iter()
        .map(|r| {
            (
                r.method.to_owned(),
                r.path.to_owned(),
                r.function.binary().to_owned(),
            )
        })
        .collect()
}

fn functions_in_template(t: &Yaml) -> Vec<(String, &Yaml)> {
    let resources = t["Resources"].as_hash().expect("Resources");
    resources
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(name, r)| (name.as_str().expect("logical id").to_owned(), r))
        .collect()
}

#[test]
fn template_routes_match_the_local_router() {
    let t = template();
    let mut routes = RouteSet::new();
    for (name, function) in functions_in_template(&t) {
        let binary = function["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} names its Binary"));
        assert_eq!(
            function["Metadata"]["BuildMethod"].as_str(),
            Some("rust-cargolambda"),
            "{name}"
        );
        let events = function["Properties"]["Events"]
            .as_hash()
            .unwrap_or_else(|| panic!("{name} has Events"));
        for event in events.values() {
            assert_eq!(event["Type"].as_str(), Some("HttpApi"), "{name}");
            let props = &event["Properties"];
            let method = props["Method"]
                .as_str()
                .expect("Method")
                .to_ascii_uppercase();
            routes.insert((
                method,
                props["Path"].as_str().expect("Path").to_owned(),
                binary.to_owned(),
            ));
        }
    }
    assert_eq!(
        routes,
        declared(),
        "template.yaml and devkit::routes::ROUTES must list the same routes"
    );
}

#[test]
fn cargo_lambda_watch_router_matches_the_local_router() {
    let manifest: toml::Table = toml::from_str(&read("Cargo.toml")).expect("Cargo.toml is TOML");
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .expect("a watch router");
    let mut routes = RouteSet::new();
    for (path, entries) in router {
        for entry in entries.as_array().expect("a list of {method, function}") {
            routes.insert((
                entry["method"].as_str().expect("method").to_owned(),
                path.clone(),
                entry["function"].as_str().expect("function").to_owned(),
            ));
        }
    }
    assert_eq!(routes, declared());
}

#[test]
fn every_function_has_a_crate_and_an_event_for_its_route() {
    let binaries: BTreeSet<String> = ROUTES
        .iter()
        .map(|r| r.function.binary().to_owned())
        .collect();
    let crates: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .expect("functions/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        crates, binaries,
        "one crate under functions/ per routed function"
    );
    for route in ROUTES {
        let binary = route.function.binary();
        let event: serde_json::Value =
            serde_json::from_str(&read(&format!("events/{binary}.json")))
                .expect("events/*.json is JSON");
        assert_eq!(event["version"], "2.0", "{binary}: payload format 2.0");
        assert_eq!(
            event["routeKey"],
            format!("{} {}", route.method, route.path),
            "{binary}"
        );
        assert_eq!(
            event["requestContext"]["http"]["method"], route.method,
            "{binary}"
        );
        let raw_path = event["rawPath"].as_str().expect("rawPath");
        assert!(
            devkit::apigw::match_route(route.path, raw_path).is_some(),
            "{binary}: {raw_path} fits {}",
            route.path
        );
    }
}

/// The functions `.ci/run` builds for arm64, checks and compares with `sam build`'s: its
/// `FUNCTIONS=(…)` array, each routed function once.
#[test]
fn ci_builds_and_checks_every_function() {
    let script = read(".ci/run");
    let start = script
        .find("\nFUNCTIONS=(")
        .expect(".ci/run declares FUNCTIONS=(…)")
        + "\nFUNCTIONS=(".len();
    let len = script[start..].find(')').expect("FUNCTIONS=(…) is closed");
    let mut listed: Vec<&str> = script[start..start + len]
        .lines()
        .flat_map(|line| {
            line.split('#')
                .next()
                .unwrap_or_default()
                .split_whitespace()
        })
        .collect();
    listed.sort_unstable();
    let mut routed = devkit::routes::binaries();
    routed.sort_unstable();
    assert_eq!(
        listed, routed,
        ".ci/run's FUNCTIONS and devkit::routes must list the same functions, each once"
    );
}

fn key_schema(y: &Yaml) -> Vec<(String, String)> {
    y.as_vec()
        .expect("KeySchema")
        .iter()
        .map(|k| {
            (
                k["AttributeName"].as_str().expect("name").to_owned(),
                k["KeyType"].as_str().expect("type").to_owned(),
            )
        })
        .collect()
}

fn owned(elements: &[schema::KeyElement]) -> Vec<(String, String)> {
    elements
        .iter()
        .map(|(a, k)| ((*a).to_owned(), (*k).to_owned()))
        .collect()
}

#[test]
fn the_table_in_template_matches_the_one_the_local_engine_creates() {
    let t = template();
    let table = &t["Resources"]["Table"]["Properties"];
    assert_eq!(table["BillingMode"].as_str(), Some("PAY_PER_REQUEST"));
    assert_eq!(key_schema(&table["KeySchema"]), owned(schema::TABLE_KEY));
    let attributes: Vec<(String, String)> = table["AttributeDefinitions"]
        .as_vec()
        .expect("AttributeDefinitions")
        .iter()
        .map(|a| {
            (
                a["AttributeName"].as_str().expect("name").to_owned(),
                a["AttributeType"].as_str().expect("type").to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = schema::KEY_ATTRIBUTES
        .iter()
        .map(|a| ((*a).to_owned(), "S".to_owned()))
        .collect();
    assert_eq!(attributes, expected);
    // The indexes, without the one kept only while upgrading an old stack (an `!If` on
    // `KeepLegacyIndex`, absent from a new stack).
    let all = table["GlobalSecondaryIndexes"]
        .as_vec()
        .expect("GlobalSecondaryIndexes");
    let (indexes, upgrading): (Vec<&Yaml>, Vec<&Yaml>) =
        all.iter().partition(|i| i.as_hash().is_some());
    assert_eq!(upgrading.len(), 1, "one conditional legacy index");
    assert_eq!(
        upgrading[0][0].as_str(),
        Some("KeepLegacyIndex"),
        "the legacy index exists only while upgrading"
    );
    assert_eq!(indexes.len(), schema::INDEXES.len());
    for (index, (name, key)) in indexes.iter().zip(schema::INDEXES) {
        assert_eq!(index["IndexName"].as_str(), Some(*name));
        assert_eq!(key_schema(&index["KeySchema"]), owned(key));
        assert_eq!(
            index["Projection"]["ProjectionType"].as_str(),
            Some(schema::INDEX_PROJECTION)
        );
    }
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"].as_str(),
        Some(schema::TTL_ATTRIBUTE)
    );
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true)
    );
    assert_eq!(
        table["SSESpecification"]["SSEEnabled"].as_bool(),
        Some(true)
    );
}

#[tokio::test]
async fn the_local_engine_creates_that_table() {
    // Not just constants: ask the running engine what it actually created.
    let t = devkit::spawn_app().await;
    let description = t
        .app
        .store()
        .describe_table()
        .await
        .expect("the engine describes the table");
    assert_eq!(description.key, owned(schema::TABLE_KEY));
    assert_eq!(
        description.indexes,
        schema::INDEXES
            .iter()
            .map(|(n, k)| ((*n).to_owned(), owned(k)))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        description.projections,
        schema::INDEXES
            .iter()
            .map(|(n, _)| ((*n).to_owned(), schema::INDEX_PROJECTION.to_owned()))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        description.ttl_attribute.as_deref(),
        Some(schema::TTL_ATTRIBUTE)
    );
}

/// The local API and the harness give each invocation the deadline Lambda would: the template's
/// `Timeout`. The functions answer a margin before it.
#[test]
fn the_function_timeout_is_the_templates() {
    let t = template();
    let timeout = t["Globals"]["Function"]["Timeout"]
        .as_i64()
        .expect("Globals.Function.Timeout");
    assert_eq!(
        u64::try_from(timeout).ok(),
        Some(devkit::apigw::FUNCTION_TIMEOUT.as_secs())
    );
    assert!(devkit::apigw::FUNCTION_TIMEOUT > shared::http::DEADLINE_MARGIN * 4);
}

/// Strings of a YAML list (a tag such as `!If` or `!Ref` is dropped by the loader, so
/// `!If [C, a, !Ref P]` reads as `["C", "a", "P"]`).
fn strings(y: &Yaml) -> Vec<&str> {
    y.as_vec()
        .map(|v| v.iter().filter_map(Yaml::as_str).collect())
        .unwrap_or_default()
}

/// A deployed stack checks every token's issuer and audience. Either it creates its own Cognito
/// pool (`CreateUserPool=true`) and the functions trust exactly that pool and its two app clients
/// (Cognito's access tokens name theirs in `client_id`), or the operator names the issuer and the
/// audiences: a rule refuses to create or update a stack without them.
#[test]
fn the_audience_is_required_when_deployed() {
    let t = template();
    assert_eq!(
        t["Parameters"]["CreateUserPool"]["Default"].as_str(),
        Some("false"),
        "bring your own issuer unless asked"
    );
    assert_eq!(
        strings(&t["Conditions"]["CreatesUserPool"]),
        ["CreateUserPool", "true"]
    );
    for parameter in ["JwtIssuer", "JwtAudience"] {
        let default = &t["Parameters"][parameter]["Default"];
        assert!(
            default.is_badvalue() || default.as_str() == Some(""),
            "{parameter} has no default that passes for a value"
        );
    }
    let rule = &t["Rules"]["BringYourOwnIssuer"];
    assert_eq!(
        strings(&rule["RuleCondition"]),
        ["CreateUserPool", "false"],
        "the rule holds whenever the pool is off"
    );
    let asserted: Vec<String> = rule["Assertions"]
        .as_vec()
        .expect("Assertions")
        .iter()
        .map(|a| format!("{:?}", a["Assert"]))
        .collect();
    for parameter in ["JwtIssuer", "JwtAudience"] {
        assert!(
            asserted
                .iter()
                .any(|a| a.contains(&format!("String(\"{parameter}\"), String(\"\")"))),
            "a rule asserts that {parameter} is not empty: {asserted:?}"
        );
    }
    let env = &t["Globals"]["Function"]["Environment"]["Variables"];
    for var in [
        "JWT_AUDIENCE",
        "MAX_OPEN_ORDERS",
        "JWKS_MAX_AGE_SECS",
        "ADMIN_SCOPE",
        "ADMIN_GROUP",
    ] {
        assert!(!env[var].is_badvalue(), "{var} is passed to the functions");
    }
    let pool_issuer = "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}";
    let jwks = format!("{pool_issuer}/.well-known/jwks.json");
    assert_eq!(
        strings(&env["JWT_ISSUER"]),
        ["CreatesUserPool", pool_issuer, "JwtIssuer"]
    );
    assert_eq!(
        strings(&env["JWT_AUDIENCE"]),
        [
            "CreatesUserPool",
            "${ShopperClient.ClientId},${AdminClient.ClientId}",
            "JwtAudience"
        ],
        "with the pool, tokens of both its clients are accepted"
    );
    // Unless a pinned key set replaces it (local/tests/auth_modes.rs), the pool's.
    let url = &env["JWKS_URL"][2];
    assert_eq!(url[0].as_str(), Some("CreatesUserPool"));
    assert_eq!(url[1].as_str(), Some(jwks.as_str()));
    assert_eq!(
        t["Outputs"]["Issuer"]["Value"].as_str(),
        Some(pool_issuer),
        "the Issuer output is what the functions check"
    );
}

/// The optional pool (`CreateUserPool=true`) exists only when asked for, and only its
/// confidential client can get the admin scope: the shoppers' client allows no OAuth flow, so a
/// shopper's token never carries `shop/admin`, and admins among the shoppers are in the group
/// `ADMIN_GROUP` names.
#[test]
fn the_optional_user_pool_grants_the_admin_scope_only_to_its_confidential_client() {
    let t = template();
    let resources = t["Resources"].as_hash().expect("Resources");
    let cognito: Vec<&str> = resources
        .iter()
        .filter(|(_, r)| {
            r["Type"]
                .as_str()
                .is_some_and(|ty| ty.starts_with("AWS::Cognito::"))
        })
        .map(|(name, r)| {
            let name = name.as_str().expect("logical id");
            let condition = r["Condition"].as_str();
            assert!(
                matches!(condition, Some("CreatesUserPool" | "CreatesAdminGroup")),
                "{name} exists only with CreateUserPool=true, not {condition:?}"
            );
            name
        })
        .collect();
    assert_eq!(cognito.len(), 6, "{cognito:?}");
    let r = &t["Resources"];

    let admin_scope = t["Parameters"]["AdminScope"]["Default"]
        .as_str()
        .expect("AdminScope default");
    let server = &r["ShopResourceServer"]["Properties"];
    let scopes: Vec<String> = server["Scopes"]
        .as_vec()
        .expect("Scopes")
        .iter()
        .map(|s| {
            format!(
                "{}/{}",
                server["Identifier"].as_str().expect("Identifier"),
                s["ScopeName"].as_str().expect("ScopeName")
            )
        })
        .collect();
    assert_eq!(scopes, [admin_scope], "the pool defines the admin scope");
    let rule = format!("{:?}", t["Rules"]["PoolAdminScope"]["Assertions"]);
    assert!(
        rule.contains(&format!("String(\"{admin_scope}\")")) && rule.contains("AdminScope"),
        "with the pool, AdminScope may only name the pool's scope (or be empty): {rule}"
    );

    let admin = &r["AdminClient"]["Properties"];
    assert_eq!(strings(&admin["AllowedOAuthFlows"]), ["client_credentials"]);
    assert_eq!(strings(&admin["AllowedOAuthScopes"]), [admin_scope]);
    assert_eq!(admin["GenerateSecret"].as_bool(), Some(true));
    assert_eq!(
        r["AdminClient"]["DependsOn"].as_str(),
        Some("ShopResourceServer")
    );

    let shopper = &r["ShopperClient"]["Properties"];
    assert_eq!(shopper["GenerateSecret"].as_bool(), Some(false));
    assert_eq!(
        strings(&shopper["ExplicitAuthFlows"]),
        [
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH"
        ]
    );
    for key in [
        "AllowedOAuthFlows",
        "AllowedOAuthScopes",
        "AllowedOAuthFlowsUserPoolClient",
    ] {
        assert!(
            shopper[key].is_badvalue(),
            "the shoppers' client sets no {key}: no shopper may ask for a scope"
        );
    }

    assert_eq!(
        r["AdminUserGroup"]["Properties"]["GroupName"].as_str(),
        Some("AdminGroup"),
        "the group is the one ADMIN_GROUP names (!Ref AdminGroup)"
    );
    assert_eq!(
        t["Globals"]["Function"]["Environment"]["Variables"]["ADMIN_GROUP"].as_str(),
        Some("AdminGroup")
    );
    for output in [
        "UserPoolId",
        "Issuer",
        "ShopperClientId",
        "AdminClientId",
        "TokenUrl",
    ] {
        assert_eq!(
            t["Outputs"][output]["Condition"].as_str(),
            Some("CreatesUserPool"),
            "output {output}"
        );
    }
    let token_url = format!("{:?}", t["Outputs"]["TokenUrl"]["Value"]);
    assert!(
        token_url.contains(".auth.${AWS::Region}.amazoncognito.com/oauth2/token"),
        "{token_url}"
    );
}

/// An access log line joins the function's own line on the Lambda request id: API Gateway's
/// `$context.integration.requestId` is the invocation's request id, which the function's lines
/// print as `request_id` (`shared::telemetry`). The format stays one JSON object.
#[test]
fn the_access_log_names_the_lambda_request_id() {
    let t = template();
    let format = t["Resources"]["HttpApi"]["Properties"]["AccessLogSettings"]["Format"]
        .as_str()
        .expect("AccessLogSettings.Format");
    assert!(
        format.contains(r#""lambdaRequestId":"$context.integration.requestId""#),
        "{format}"
    );
    // Every `$context.…` variable as a number: what is left must be one JSON object.
    let mut sample = String::new();
    let mut rest = format;
    while let Some(at) = rest.find("$context.") {
        sample.push_str(&rest[..at]);
        rest = rest[at + "$context.".len()..]
            .trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '.');
        sample.push('0');
    }
    sample.push_str(rest);
    let line: serde_json::Value =
        serde_json::from_str(&sample).unwrap_or_else(|e| panic!("{e}: {sample}"));
    assert_eq!(line["lambdaRequestId"], "0");
    // The functions' side: a tracing field named `request_id` (shared/tests/logs.rs checks that
    // every line of a request carries it).
    assert!(
        read("shared/src/telemetry.rs").contains("request_id = %"),
        "the functions' lines print `request_id`"
    );
}

/// `sam local invoke --env-vars env.json` only overrides variables the template declares for a
/// function: every variable in `env.json` must be declared for every function.
#[test]
fn env_json_overrides_only_declared_variables() {
    let t = template();
    let env: serde_json::Value = serde_json::from_str(&read("env.json")).expect("env.json is JSON");
    let overrides = env["Parameters"]
        .as_object()
        .expect("env.json has a Parameters object (for every function)");
    assert!(!overrides.is_empty());
    let global: BTreeSet<String> = t["Globals"]["Function"]["Environment"]["Variables"]
        .as_hash()
        .expect("global variables")
        .keys()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect();
    for (name, function) in functions_in_template(&t) {
        let mut declared = global.clone();
        if let Some(own) = function["Properties"]["Environment"]["Variables"].as_hash() {
            declared.extend(own.keys().filter_map(|k| k.as_str().map(str::to_owned)));
        }
        for var in overrides.keys() {
            assert!(
                declared.contains(var),
                "{name} does not declare {var}, so SAM would ignore env.json's value"
            );
        }
    }
    // On AWS the endpoint is the regional one: the declared value is empty.
    assert_eq!(
        t["Globals"]["Function"]["Environment"]["Variables"]["AWS_ENDPOINT_URL_DYNAMODB"].as_str(),
        Some("")
    );
}

/// SAM's `rust-cargolambda` build method left beta in SAM CLI 1.156: CI pins a release at least
/// that new, and `samconfig.toml` carries no beta opt-in (an older SAM CLI would stop at a prompt
/// whatever it said, since it asks for `--beta-features` on every build).
#[test]
fn ci_pins_a_sam_cli_that_builds_with_cargo_lambda_without_beta_features() {
    let ci = read(".ci/run");
    let pinned = ci
        .lines()
        .find_map(|l| l.strip_prefix("SAM_CLI_VERSION="))
        .expect(".ci/run pins SAM_CLI_VERSION");
    let version: Vec<u32> = pinned
        .split('.')
        .map(|n| n.parse().expect("a numeric version"))
        .collect();
    assert!(
        version >= vec![1, 156],
        "SAM CLI {pinned} needs the beta opt-in"
    );
    assert!(ci.contains("aws-sam-cli==$SAM_CLI_VERSION"));
    let config: toml::Table =
        toml::from_str(&read("samconfig.toml")).expect("samconfig.toml is TOML");
    assert!(
        !format!("{config:?}").contains("beta_features"),
        "no beta opt-in in samconfig.toml"
    );
    assert!(read(".gitignore").lines().any(|l| l.trim() == "/.aws-sam"));
}

/// The local API's CORS answers come from the same settings as the template's
/// `x-amazon-apigateway-cors`.
#[test]
fn local_cors_matches_the_template() {
    let t = template();
    let cors =
        &t["Resources"]["HttpApi"]["Properties"]["DefinitionBody"]["x-amazon-apigateway-cors"];
    let list = |y: &Yaml| -> Vec<String> {
        y.as_vec()
            .expect("a list")
            .iter()
            .map(|v| v.as_str().expect("a string").to_owned())
            .collect()
    };
    assert_eq!(list(&cors["allowMethods"]), local::cors::ALLOW_METHODS);
    assert_eq!(list(&cors["allowHeaders"]), local::cors::ALLOW_HEADERS);
    assert_eq!(list(&cors["exposeHeaders"]), local::cors::EXPOSE_HEADERS);
    assert_eq!(
        cors["maxAge"].as_i64(),
        Some(i64::from(local::cors::MAX_AGE_SECS))
    );
    assert_eq!(
        t["Parameters"]["CorsAllowOrigins"]["Default"].as_str(),
        Some(local::cors::DEFAULT_ALLOW_ORIGINS)
    );
}

/// The optional CDN (`CatalogCdn=cloudfront`) caches the public catalog only, keys its cache by
/// caller (so two users never share an entry) and forwards what the catalog writes need; every
/// other route passes through uncached. Off by default.
#[test]
fn the_optional_cdn_caches_only_the_public_catalog_and_never_mixes_callers() {
    let t = template();
    let parameter = &t["Parameters"]["CatalogCdn"];
    assert_eq!(parameter["Default"].as_str(), Some("none"));
    let resources = &t["Resources"];
    for name in [
        "CatalogCachePolicy",
        "CatalogOriginRequestPolicy",
        "CatalogDistribution",
    ] {
        assert_eq!(
            resources[name]["Condition"].as_str(),
            Some("HasCatalogCdn"),
            "{name} exists only when asked for"
        );
    }
    let key = &resources["CatalogCachePolicy"]["Properties"]["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"];
    let headers: Vec<&str> = key["HeadersConfig"]["Headers"]
        .as_vec()
        .expect("headers in the cache key")
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert!(headers.contains(&"Authorization"), "keyed by caller");
    assert_eq!(
        key["CookiesConfig"]["CookieBehavior"].as_str(),
        Some("none")
    );
    let config = &resources["CatalogDistribution"]["Properties"]["DistributionConfig"];
    let cached: Vec<&str> = config["CacheBehaviors"]
        .as_vec()
        .expect("cache behaviours")
        .iter()
        .filter_map(|b| b["PathPattern"].as_str())
        .collect();
    assert_eq!(cached, ["/products", "/products/*"]);
    // The managed CachingDisabled policy for everything else (cart, orders).
    assert_eq!(
        config["DefaultCacheBehavior"]["CachePolicyId"].as_str(),
        Some("4135ea2d-6df8-44a3-9df3-4b5a84be39ad")
    );
}

/// Every DynamoDB call each handler makes, as (action, partition key prefix or index): what the
/// code does, read from `shared::store` (`docs/api.md` "Routes" lists the same calls).
const CALLS: &[(&str, &[(&str, &str)])] = &[
    (
        "list-products",
        &[("Query", "index/ListingKeys"), ("BatchGetItem", "PRODUCT#")],
    ),
    (
        "get-product",
        &[("GetItem", "PRODUCT#"), ("BatchGetItem", "PRODUCT#")],
    ),
    (
        "put-product",
        &[
            ("UpdateItem", "PRODUCT#"),
            ("GetItem", "PRODUCT#"),
            ("BatchGetItem", "PRODUCT#"),
            ("PutItem", "PRODUCT#"),
            ("DeleteItem", "PRODUCT#"),
        ],
    ),
    (
        "delete-product",
        &[
            ("DeleteItem", "PRODUCT#"),
            ("GetItem", "PRODUCT#"),
            ("BatchGetItem", "PRODUCT#"),
        ],
    ),
    (
        "get-cart",
        &[("GetItem", "USER#"), ("BatchGetItem", "PRODUCT#")],
    ),
    (
        "put-cart-item",
        &[
            ("UpdateItem", "USER#"),
            ("PutItem", "USER#"),
            ("BatchGetItem", "PRODUCT#"),
        ],
    ),
    ("delete-cart-item", &[("UpdateItem", "USER#")]),
    (
        "place-order",
        &[
            ("BatchGetItem", "USER#"),
            ("BatchGetItem", "PRODUCT#"),
            ("GetItem", "PRODUCT#"),
            ("UpdateItem", "PRODUCT#"),
            ("UpdateItem", "USER#"),
            ("PutItem", "USER#"),
        ],
    ),
    ("list-orders", &[("Query", "USER#")]),
    ("get-order", &[("GetItem", "USER#")]),
    (
        "cancel-order",
        &[
            ("GetItem", "USER#"),
            ("UpdateItem", "USER#"),
            ("UpdateItem", "PRODUCT#"),
        ],
    ),
];

/// Whether one policy statement allows `action` on items under `target` (a key prefix such as
/// `USER#`, or `index/ListingKeys`).
fn allows(statement: &Yaml, action: &str, target: &str) -> bool {
    let wanted = format!("dynamodb:{action}");
    let actions: Vec<&str> = match &statement["Action"] {
        Yaml::String(one) => vec![one.as_str()],
        Yaml::Array(many) => many.iter().filter_map(Yaml::as_str).collect(),
        _ => vec![],
    };
    if statement["Effect"].as_str() != Some("Allow") || !actions.contains(&wanted.as_str()) {
        return false;
    }
    let resource = format!("{:?}", statement["Resource"]);
    if let Some(index) = target.strip_prefix("index/") {
        return resource.contains(&format!("/index/{index}"));
    }
    if resource.contains("/index/") {
        return false;
    }
    let keys = &statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
    match keys.as_vec() {
        // No condition on the keys: every item of the table.
        None => statement["Condition"].is_badvalue(),
        Some(patterns) => patterns
            .iter()
            .filter_map(Yaml::as_str)
            .any(|p| p.strip_suffix('*').is_some_and(|prefix| prefix == target)),
    }
}

/// Each function's policy grants every call its handler makes (a missing grant is an
/// AccessDenied on AWS, which no local run would show), and names each function once.
#[test]
fn every_policy_grants_the_calls_its_handler_makes() {
    let t = template();
    let mut seen = Vec::new();
    for (name, function) in functions_in_template(&t) {
        let binary = function["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} names its binary"));
        let (_, calls) = CALLS
            .iter()
            .find(|(f, _)| *f == binary)
            .unwrap_or_else(|| panic!("{binary}: list its DynamoDB calls in CALLS"));
        let statements: Vec<Yaml> = function["Properties"]["Policies"]
            .as_vec()
            .expect("Policies")
            .iter()
            .flat_map(|p| p["Statement"].as_vec().cloned().unwrap_or_default())
            .collect();
        for (action, target) in *calls {
            assert!(
                statements.iter().any(|s| allows(s, action, target)),
                "{binary}: no statement allows dynamodb:{action} on {target}"
            );
        }
        seen.push(binary.to_owned());
    }
    seen.sort();
    let mut listed: Vec<String> = CALLS.iter().map(|(f, _)| (*f).to_owned()).collect();
    listed.sort();
    assert_eq!(seen, listed);
}

/// Least privilege: every grant of an item-level action on the base table names the key
/// prefixes it may touch (`dynamodb:LeadingKeys`): no function may read or write every item.
#[test]
fn every_item_grant_is_limited_to_its_leading_keys() {
    const ITEM_ACTIONS: &[&str] = &[
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
    ];
    let t = template();
    let mut checked = 0;
    for (name, function) in functions_in_template(&t) {
        for statement in function["Properties"]["Policies"]
            .as_vec()
            .expect("Policies")
            .iter()
            .flat_map(|p| p["Statement"].as_vec().cloned().unwrap_or_default())
        {
            let actions: Vec<&str> = match &statement["Action"] {
                Yaml::String(one) => vec![one.as_str()],
                Yaml::Array(many) => many.iter().filter_map(Yaml::as_str).collect(),
                _ => vec![],
            };
            let on_items = actions.iter().any(|a| ITEM_ACTIONS.contains(a));
            let on_index = format!("{:?}", statement["Resource"]).contains("/index/");
            if !on_items || on_index {
                continue;
            }
            let keys = &statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
            assert!(
                keys.as_vec().is_some_and(|k| !k.is_empty()),
                "{name}: {actions:?} on the whole table, with no dynamodb:LeadingKeys"
            );
            checked += 1;
        }
    }
    assert!(checked >= 11, "{checked} item grants checked");
}

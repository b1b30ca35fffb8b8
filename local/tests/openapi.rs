//! `openapi.yaml` describes exactly the routes `template.yaml` deploys (and `devkit::routes::ROUTES`
//! serves): no route missing from the contract, none in the contract that does not exist. Every
//! operation is named (`operationId`, unique) and lists the 500 any function may answer.

use devkit::routes::ROUTES;
use std::collections::BTreeSet;
use std::path::Path;
use yaml_rust2::{Yaml, YamlLoader};

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

type RouteSet = BTreeSet<(String, String)>;

fn load(relative: &str) -> Yaml {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{relative} is not YAML: {e}"))
        .remove(0)
}

/// Every operation of the contract: (METHOD, path, operation).
fn operations(spec: &Yaml) -> Vec<(String, String, &Yaml)> {
    let paths = spec["paths"].as_hash().expect("openapi.yaml has paths");
    let mut out = Vec::new();
    for (path, item) in paths {
        let path = path.as_str().expect("a path is a string");
        for (key, operation) in item.as_hash().expect("a path item is a mapping") {
            let key = key.as_str().expect("a path item key is a string");
            if METHODS.contains(&key) {
                out.push((key.to_ascii_uppercase(), path.to_owned(), operation));
            }
        }
    }
    out
}

/// The routes `template.yaml` gives API Gateway: each function's `HttpApi` events.
fn template_routes() -> RouteSet {
    let template = load("template.yaml");
    let resources = template["Resources"].as_hash().expect("Resources");
    let mut routes = RouteSet::new();
    for resource in resources.values() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let Some(events) = resource["Properties"]["Events"].as_hash() else {
            continue;
        };
        for event in events
            .values()
            .filter(|e| e["Type"].as_str() == Some("HttpApi"))
        {
            let props = &event["Properties"];
            routes.insert((
                props["Method"]
                    .as_str()
                    .expect("Method")
                    .to_ascii_uppercase(),
                props["Path"].as_str().expect("Path").to_owned(),
            ));
        }
    }
    routes
}

fn describe(routes: &RouteSet) -> String {
    routes
        .iter()
        .map(|(m, p)| format!("{m} {p}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn the_contract_lists_exactly_the_deployed_routes() {
    let spec = load("openapi.yaml");
    assert_eq!(spec["openapi"].as_str(), Some("3.1.0"));
    let documented: RouteSet = operations(&spec)
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let deployed = template_routes();
    assert!(!deployed.is_empty(), "template.yaml declares routes");
    let undocumented: RouteSet = deployed.difference(&documented).cloned().collect();
    let phantom: RouteSet = documented.difference(&deployed).cloned().collect();
    assert!(
        undocumented.is_empty() && phantom.is_empty(),
        "openapi.yaml and template.yaml disagree: in template.yaml only: [{}]; in openapi.yaml only: [{}]",
        describe(&undocumented),
        describe(&phantom)
    );
    // The local API serves the same table (local/tests/routes.rs ties it to template.yaml too).
    let served: RouteSet = ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(
        documented, served,
        "openapi.yaml and devkit::routes::ROUTES"
    );
}

#[test]
fn every_operation_is_named_and_lists_500() {
    let spec = load("openapi.yaml");
    let mut ids = BTreeSet::new();
    for (method, path, operation) in operations(&spec) {
        let id = operation["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(
            ids.insert(id.to_owned()),
            "operationId {id} is used twice ({method} {path})"
        );
        let responses = operation["responses"]
            .as_hash()
            .unwrap_or_else(|| panic!("{method} {path} has no responses"));
        let lists_500 = responses
            .keys()
            .any(|code| code.as_str() == Some("500") || code.as_i64() == Some(500));
        assert!(lists_500, "{method} {path} ({id}) does not list 500");
    }
}

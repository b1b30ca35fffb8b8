//! The two auth modes agree everywhere they are declared: which routes need a token
//! (`devkit::routes::Function::public`), which functions start with `Bearer` (their `main.rs`),
//! and which routes carry the HTTP API's JWT authorizer when `AuthMode=authorizer`
//! (`template.yaml`). A route missing from the template's list would be open to anyone behind
//! the authorizer, since its function then trusts the claims it is given.

use devkit::routes::{Function, ROUTES};
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

#[test]
fn a_function_is_public_exactly_when_its_main_runs_without_a_token() {
    for function in Function::ALL {
        let main = read(&format!("functions/{}/src/main.rs", function.binary()));
        let public = main.contains(", Public,");
        let bearer = main.contains(", Bearer,");
        assert!(
            public != bearer,
            "{}: runs with Public or Bearer",
            function.binary()
        );
        assert_eq!(
            public,
            function.public(),
            "{}: devkit::routes and its main.rs disagree on whether it needs a token",
            function.binary()
        );
    }
}

#[test]
fn behind_the_authorizer_every_protected_route_and_only_those_carry_it() {
    let template = YamlLoader::load_from_str(&read("template.yaml"))
        .expect("template.yaml is YAML")
        .remove(0);
    let api = &template["Resources"]["HttpApi"]["Properties"];
    let authorizer = &api["Auth"]["Authorizers"]["JwtAuthorizer"];
    assert_eq!(
        authorizer["IdentitySource"].as_str(),
        Some("$request.header.Authorization")
    );
    let mut guarded = BTreeSet::new();
    for (path, methods) in api["DefinitionBody"]["paths"]
        .as_hash()
        .expect("the API's paths")
    {
        for (method, operation) in methods.as_hash().expect("a path's methods") {
            // `!If [UsesAuthorizer, [{JwtAuthorizer: []}], []]`, read as its three arguments.
            let security = operation["security"].as_vec().expect("a security");
            assert_eq!(security[0].as_str(), Some("UsesAuthorizer"));
            assert!(
                security[1][0]["JwtAuthorizer"].as_vec().is_some(),
                "the authorizer when AuthMode=authorizer"
            );
            assert_eq!(
                security[2].as_vec().map(Vec::len),
                Some(0),
                "none otherwise"
            );
            guarded.insert((
                method.as_str().expect("a method").to_uppercase(),
                path.as_str().expect("a path").to_owned(),
            ));
        }
    }
    let protected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .filter(|r| !r.function.public())
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(guarded, protected);
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert!(
        !globals["AUTH_MODE"].is_badvalue(),
        "the functions are told the mode"
    );
    let Yaml::Hash(parameter) = &template["Parameters"]["AuthMode"] else {
        panic!("an AuthMode parameter");
    };
    assert_eq!(
        parameter
            .get(&Yaml::String("Default".into()))
            .and_then(Yaml::as_str),
        Some("verify"),
        "the functions verify unless told otherwise"
    );
}

/// A pinned key set (`JwksJson`) replaces the key set URL in the functions' settings: the
/// functions refuse to start with both (`shared::auth`), and with the pinned one they fetch
/// nothing at cold start.
#[test]
fn a_pinned_key_set_replaces_the_url() {
    let template = YamlLoader::load_from_str(&read("template.yaml"))
        .expect("template.yaml is YAML")
        .remove(0);
    let env = &template["Globals"]["Function"]["Environment"]["Variables"];
    // `!If [HasJwksJson, !Ref AWS::NoValue, …]`, read as its arguments.
    let url = env["JWKS_URL"].as_vec().expect("JWKS_URL is conditional");
    assert_eq!(url[0].as_str(), Some("HasJwksJson"));
    assert_eq!(url[1].as_str(), Some("AWS::NoValue"));
    let json = env["JWKS_JSON"].as_vec().expect("JWKS_JSON is conditional");
    assert_eq!(json[0].as_str(), Some("HasJwksJson"));
    assert_eq!(json[1].as_str(), Some("JwksJson"));
    assert_eq!(json[2].as_str(), Some("AWS::NoValue"));
    assert!(template["Parameters"]["JwksJson"].as_hash().is_some());
}

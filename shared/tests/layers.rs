//! The layers of this crate, enforced: each module imports only the modules it is allowed to, so
//! the graph has no cycle and the HTTP face stays on top. Read from the source, as a reviewer would:
//! every `crate::…` path outside comments counts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What each top-level module may import (`root`: the crate root's `App`).
const ALLOWED: &[(&str, &[&str])] = &[
    // Layer 1: nothing from this crate.
    ("chain", &[]),
    ("domain", &[]),
    // Layer 2.
    ("cursor", &[]),
    ("config", &["cursor", "domain"]),
    ("store", &["domain", "chain", "config"]),
    ("auth", &["domain", "config"]),
    ("telemetry", &["domain", "chain"]),
    // Layer 3.
    (
        "http",
        &[
            "domain",
            "chain",
            "cursor",
            "config",
            "store",
            "auth",
            "telemetry",
        ],
    ),
    (
        "lambda",
        &[
            "root",
            "http",
            "domain",
            "config",
            "store",
            "auth",
            "telemetry",
        ],
    ),
];

/// Items the crate root re-exports, by the module they come from.
fn module_of(item: &str) -> &str {
    match item {
        "App" => "root",
        "Config" | "ConfigError" => "config",
        "ApiError" => "http",
        "DynamoStore" => "store",
        other => other,
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every module a source text names through `crate::`, outside comments.
fn imports(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let inner = group.split('}').next().unwrap_or("");
                for item in inner.split(',') {
                    let name = item.trim().split("::").next().unwrap_or("").trim();
                    if !name.is_empty() {
                        found.insert(module_of(name).to_owned());
                    }
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                found.insert(module_of(&name).to_owned());
            }
        }
    }
    found
}

/// Module → the modules it imports, from `shared/src`.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        let first = relative.components().next().expect("a path");
        let module = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if module == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable source");
        let entry = graph.entry(module.clone()).or_default();
        entry.extend(imports(&text).into_iter().filter(|m| *m != module));
    }
    graph
}

#[test]
fn each_module_imports_only_the_layers_below_it() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut offences = Vec::new();
    for (module, imported) in graph() {
        let Some(may) = allowed.get(module.as_str()) else {
            offences.push(format!(
                "{module}: a new module; give it a layer in ALLOWED"
            ));
            continue;
        };
        for m in imported {
            if !may.contains(&m.as_str()) {
                offences.push(format!("{module} imports {m}"));
            }
        }
    }
    assert!(offences.is_empty(), "layering broken: {offences:#?}");
}

#[test]
fn the_allowed_imports_have_no_cycle() {
    // Depth-first search over ALLOWED: the rules themselves must be a DAG.
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    fn visit<'a>(
        m: &'a str,
        allowed: &BTreeMap<&'a str, &'a [&'a str]>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        assert!(!path.contains(&m), "cycle: {path:?} → {m}");
        if done.contains(m) {
            return;
        }
        path.push(m);
        for next in allowed.get(m).copied().unwrap_or(&[]) {
            visit(next, allowed, path, done);
        }
        path.pop();
        done.insert(m);
    }
    let mut done = BTreeSet::new();
    for m in allowed.keys() {
        visit(m, &allowed, &mut Vec::new(), &mut done);
    }
}

#[test]
fn the_scanner_sees_imports_and_skips_comments() {
    let text = "use crate::store::StoreError;\n// crate::http is only mentioned\nuse crate::{App, Config};\nlet x = crate::chain::cause_chain(e);";
    let found: Vec<String> = imports(text).into_iter().collect();
    assert_eq!(found, ["chain", "config", "root", "store"]);
}

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
    ("profile", &[]),
    ("tls", &[]),
    // Layer 2.
    ("cursor", &[]),
    ("config", &["cursor", "domain"]),
    ("store", &["domain", "chain", "config", "profile", "tls"]),
    ("auth", &["domain", "config", "tls"]),
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
            "profile",
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

/// The module a file of `shared/src/<top>/…` belongs to inside `<top>`: its file stem, or the
/// folder right under `<top>` (`store/products/reads.rs` is `products`). `None` for `<top>`'s
/// own `mod.rs`, which only declares the others.
fn inner_module(relative: &Path) -> Option<(String, String)> {
    let parts: Vec<String> = relative
        .components()
        .map(|c| {
            c.as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned()
        })
        .collect();
    match parts.as_slice() {
        [top, name] if name != "mod" => Some((top.clone(), name.clone())),
        [top, folder, ..] if parts.len() > 2 => Some((top.clone(), folder.clone())),
        _ => None,
    }
}

/// Every sibling module a file of `<top>` names, through `super::x` (from a file right under
/// `<top>`) or `crate::<top>::x` (from anywhere), outside comments.
fn sibling_imports(text: &str, top: &str, nested: bool) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let through = format!("crate::{top}::");
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut prefixes = vec![through.as_str()];
        if !nested {
            prefixes.push("super::");
        }
        for prefix in prefixes {
            let mut rest = code;
            while let Some(at) = rest.find(prefix) {
                rest = &rest[at + prefix.len()..];
                let names: Vec<String> = match rest.strip_prefix('{') {
                    Some(group) => group
                        .split('}')
                        .next()
                        .unwrap_or("")
                        .split(',')
                        .map(|item| item.trim().split("::").next().unwrap_or("").to_owned())
                        .collect(),
                    None => vec![
                        rest.chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect(),
                    ],
                };
                found.extend(names.into_iter().filter(|n| !n.is_empty()));
            }
        }
    }
    found
}

/// Inside each module of `shared/src` that is a folder (store, domain, auth, http), the files
/// import one another with no circle either: a circle would make the module one tangle, where no
/// file can be read or changed alone.
#[test]
fn the_files_inside_each_module_import_one_another_without_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    // (top, module) → the sibling modules it imports.
    let mut graph: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        let Some((top, module)) = inner_module(relative) else {
            continue;
        };
        let nested = relative.components().count() > 2;
        let text = std::fs::read_to_string(file).expect("readable source");
        // A module's tests may use anything; only what ships counts.
        let shipped = text.split("#[cfg(test)]").next().unwrap_or("");
        let imported = sibling_imports(shipped, &top, nested);
        let entry = graph.entry((top, module.clone())).or_default();
        entry.extend(imported.into_iter().filter(|m| *m != module));
    }
    fn visit(
        node: &(String, String),
        graph: &BTreeMap<(String, String), BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<(String, String)>,
    ) {
        assert!(
            !path.contains(&node.1),
            "a circle inside {}: {} → {}",
            node.0,
            path.join(" → "),
            node.1
        );
        if done.contains(node) {
            return;
        }
        path.push(node.1.clone());
        for next in graph.get(node).into_iter().flatten() {
            let next = (node.0.clone(), next.clone());
            if graph.contains_key(&next) {
                visit(&next, graph, path, done);
            }
        }
        path.pop();
        done.insert(node.clone());
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done);
    }
    assert!(
        graph
            .keys()
            .any(|(top, m)| top == "store" && m == "products"),
        "the scan found the store's files"
    );
}

/// Most lines in one file of `shared/src`, tests included.
const MAX_FILE_LINES: usize = 500;
/// Most lines in one function outside tests.
const MAX_FN_LINES: usize = 80;

/// Every function in `text` outside `#[cfg(test)]` (the rest of a file after it) as
/// `(name, lines from its signature to its closing brace)`.
fn function_lengths(text: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = text
        .split("#[cfg(test)]")
        .next()
        .unwrap_or("")
        .lines()
        .collect();
    let mut found = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let code = line.trim_start();
        let signature = code
            .trim_start_matches("pub ")
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub(super) ")
            .trim_start_matches("async ")
            .trim_start_matches("const ");
        let Some(rest) = signature.strip_prefix("fn ") else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let (mut depth, mut opened) = (0i32, false);
        for (end, body) in lines.iter().enumerate().skip(at) {
            let body = body.split("//").next().unwrap_or("");
            if !opened && body.contains(';') && !body.contains('{') {
                break; // a declaration without a body
            }
            for c in body.chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if opened && depth == 0 {
                found.push((name.clone(), end - at + 1));
                break;
            }
        }
    }
    found
}

#[test]
fn no_file_is_over_500_lines_and_no_function_over_80() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut offences = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable source");
        let relative = file
            .strip_prefix(&src)
            .expect("under src")
            .display()
            .to_string();
        let lines = text.lines().count();
        if lines > MAX_FILE_LINES {
            offences.push(format!("{relative}: {lines} lines"));
        }
        for (name, length) in function_lengths(&text) {
            if length > MAX_FN_LINES {
                offences.push(format!("{relative}: fn {name} is {length} lines"));
            }
        }
    }
    assert!(offences.is_empty(), "split these: {offences:#?}");
}

#[test]
fn the_length_scanner_counts_bodies_and_skips_tests() {
    let text = "pub async fn a(\n    x: u8,\n) -> u8 {\n    if x > 0 { 1 } else { 2 }\n}\nfn b();\n#[cfg(test)]\nfn c() {}\n";
    assert_eq!(function_lengths(text), vec![("a".to_owned(), 5)]);
    let found = sibling_imports(
        "use super::{client::X, keys};\n// super::txn\nlet s = crate::store::retry::random();",
        "store",
        false,
    );
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["client", "keys", "retry"]
    );
}

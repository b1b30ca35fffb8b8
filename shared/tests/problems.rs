//! The errors table of `docs/api.md` lists exactly the problem types the API answers with, each
//! with its status: the enum is the one source, and the reference cannot drift from it.

use shared::http::ProblemKind;
use std::collections::BTreeMap;

fn documented() -> BTreeMap<String, String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/api.md");
    let text = std::fs::read_to_string(path).expect("docs/api.md is readable");
    let section = text
        .split("\n## Errors")
        .nth(1)
        .expect("docs/api.md has an Errors section");
    let section = section.split("\n## ").next().unwrap_or(section);
    section
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let slug = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((slug.to_owned(), (*cells.get(2)?).to_owned()))
        })
        .collect()
}

#[test]
fn the_errors_table_lists_every_problem_type_once() {
    let documented = documented();
    let kinds: BTreeMap<String, ProblemKind> = ProblemKind::ALL
        .iter()
        .map(|k| (k.slug().to_owned(), *k))
        .collect();
    let missing: Vec<&String> = kinds
        .keys()
        .filter(|s| !documented.contains_key(*s))
        .collect();
    let unknown: Vec<&String> = documented
        .keys()
        .filter(|s| !kinds.contains_key(*s))
        .collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "docs/api.md Errors: missing {missing:?}, not problem types {unknown:?}"
    );
    for (slug, kind) in &kinds {
        assert_eq!(
            documented[slug],
            kind.status().as_str(),
            "docs/api.md gives `{slug}` another status"
        );
    }
}

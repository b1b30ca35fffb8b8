//! `docs/add-an-endpoint.md` and the project cannot drift apart. The recipe's numbered list under
//! "Every place" is parsed: each item starts with the backticked file it touches. For every
//! function of the route table, each file the recipe names exists (with `<name>` and
//! `<crate_name>` filled in), and each file of its crate is named by the recipe; the count at the
//! top matches the list. The places a test elsewhere does not cover are checked here too: the
//! workspace's members and dependencies, the README's crate list and route table, and api.md's
//! Routes.

use devkit::routes::Function;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const RECIPE: &str = "docs/add-an-endpoint.md";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative))
        .unwrap_or_else(|e| panic!("read {relative}: {e}"))
}

/// The recipe's places, in order: the file each numbered item under "## Every place" names.
fn places(recipe: &str) -> Vec<String> {
    let start = recipe
        .find("\n## Every place\n")
        .unwrap_or_else(|| panic!("{RECIPE} has a section \"## Every place\""));
    let section = &recipe[start + 1..];
    let section = &section[..section[3..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 3)];
    let mut places = Vec::new();
    for line in section.lines() {
        let Some((number, rest)) = line.split_once(". ") else {
            continue;
        };
        let Ok(number) = number.parse::<usize>() else {
            continue;
        };
        assert_eq!(
            number,
            places.len() + 1,
            "{RECIPE}: the places are numbered 1, 2, 3, … ({line})"
        );
        let path = rest
            .strip_prefix('`')
            .and_then(|r| r.split_once('`'))
            .map(|(path, _)| path)
            .unwrap_or_else(|| panic!("{RECIPE}: place {number} starts with a `path`: {line}"));
        places.push(path.to_owned());
    }
    places
}

/// `path` for `function`: `<name>` is its binary, `<crate_name>` its crate's Rust name.
fn fill(path: &str, function: Function) -> String {
    let name = function.binary();
    path.replace("<crate_name>", &name.replace('-', "_"))
        .replace("<name>", name)
}

/// "A new endpoint touches **N places in M files**": (N, M).
fn stated_counts(recipe: &str) -> (usize, usize) {
    let (_, rest) = recipe
        .split_once("A new endpoint touches **")
        .unwrap_or_else(|| {
            panic!("{RECIPE} opens with \"A new endpoint touches **N places in M files**\"")
        });
    let (counts, _) = rest.split_once("**").expect("closing **");
    let words: Vec<&str> = counts.split_whitespace().collect();
    match words.as_slice() {
        [places, "places", "in", files, "files"] => (
            places.parse().expect("a number of places"),
            files.parse().expect("a number of files"),
        ),
        _ => panic!("{RECIPE}: \"**{counts}**\" is not \"**N places in M files**\""),
    }
}

#[test]
fn the_recipe_states_how_many_places_it_lists() {
    let recipe = read(RECIPE);
    let places = places(&recipe);
    let files: BTreeSet<&String> = places.iter().collect();
    assert_eq!(
        stated_counts(&recipe),
        (places.len(), files.len()),
        "{RECIPE}: the count at the top and the list of places differ"
    );
    assert!(
        places.iter().any(|p| p.contains("<name>")),
        "{RECIPE}: no place names a function's own file"
    );
}

#[test]
fn every_file_the_recipe_names_exists_for_every_function() {
    let places = places(&read(RECIPE));
    for function in Function::ALL {
        for place in &places {
            let path = fill(place, *function);
            assert!(
                !path.contains('<'),
                "{RECIPE}: {place} has a placeholder other than <name> and <crate_name>"
            );
            assert!(
                root().join(&path).is_file(),
                "{RECIPE} names {place}, but {path} does not exist ({})",
                function.binary()
            );
        }
    }
}

/// Every file of `dir`, relative to the workspace root.
fn files_under(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            let relative = path.strip_prefix(root()).expect("under the root");
            out.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// The recipe names every file a function's crate has (its tests may add more files in `tests/`).
#[test]
fn the_recipe_names_every_file_of_a_function_crate() {
    let places = places(&read(RECIPE));
    for function in Function::ALL {
        let named: BTreeSet<String> = places.iter().map(|p| fill(p, *function)).collect();
        let mut files = Vec::new();
        files_under(
            &root().join("functions").join(function.binary()),
            &mut files,
        );
        let tests = format!("functions/{}/tests/", function.binary());
        for file in files {
            assert!(
                named.contains(&file) || file.starts_with(&tests),
                "{file} is not in {RECIPE}'s list"
            );
        }
    }
}

/// Places 8, 9, 11, 18, 19 and 20 of the recipe, which no other test covers.
#[test]
fn every_function_is_in_the_workspace_the_readme_and_the_api_docs() {
    let manifest: toml::Table = toml::from_str(&read("Cargo.toml")).expect("Cargo.toml is TOML");
    let workspace = manifest["workspace"].as_table().expect("[workspace]");
    let members: Vec<&str> = workspace["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(toml::Value::as_str)
        .collect();
    let dependencies = workspace["dependencies"]
        .as_table()
        .expect("[workspace.dependencies]");
    let local: toml::Table =
        toml::from_str(&read("local/Cargo.toml")).expect("local/Cargo.toml is TOML");
    let readme = read("README.md");
    let api = read("docs/api.md");
    let n = Function::ALL.len();
    let crate_list = readme
        .split_once(&format!("The {n} function crates: "))
        .map(|(_, rest)| rest.split_once(". ").map_or(rest, |(list, _)| list))
        .unwrap_or_else(|| panic!("README.md says \"The {n} function crates: …\""));
    assert!(
        readme.contains(&format!("functions/* ({n} crates)")),
        "README.md's crate graph says functions/* ({n} crates)"
    );
    for function in Function::ALL {
        let name = function.binary();
        let dir = format!("functions/{name}");
        assert!(
            members.contains(&dir.as_str()),
            "Cargo.toml: {dir} in [workspace] members"
        );
        assert_eq!(
            dependencies
                .get(name)
                .and_then(|d| d.get("path"))
                .and_then(toml::Value::as_str),
            Some(dir.as_str()),
            "Cargo.toml: {name} = {{ path = \"{dir}\" }} in [workspace.dependencies]"
        );
        assert_eq!(
            local["dependencies"]
                .get(name)
                .and_then(|d| d.get("workspace"))
                .and_then(toml::Value::as_bool),
            Some(true),
            "local/Cargo.toml: {name}.workspace = true"
        );
        assert!(
            crate_list.contains(&format!("`{name}`")),
            "README.md: {name} in \"The {n} function crates\""
        );
        assert!(
            readme.contains(&format!("[`{name}`]({dir}/src/lib.rs)")),
            "README.md: a row for {name} in the route → function table"
        );
        assert!(
            api.contains(&format!("[`{dir}`](../{dir}/src/lib.rs)")),
            "docs/api.md: a row for {name} in Routes"
        );
    }
}

//! Every relative link in the project's Markdown (README.md, docs/*.md, BENCHMARKS.md) points at a
//! file that exists, and every `#anchor` at a heading (or an explicit `<a id>` / `<a name>`) of the
//! Markdown file it names, by GitHub's anchor rules. Links inside fenced code blocks and inline code
//! are not links; http(s) and mailto links are not checked (no network in tests).
//!
//! Standard library only, so it also runs without cargo:
//! `rustc --edition 2024 --test devkit/tests/doc_links.rs -o /tmp/doc_links && /tmp/doc_links`
//! from the workspace root.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Component, Path, PathBuf};

/// The workspace root: devkit's parent under cargo, the current directory under plain rustc.
fn root() -> PathBuf {
    PathBuf::from(
        option_env!("CARGO_MANIFEST_DIR")
            .map(|d| format!("{d}/.."))
            .unwrap_or_else(|| ".".into()),
    )
}

/// The Markdown files whose links are checked: README.md, every docs/*.md, BENCHMARKS.md.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = fs::read_dir(root.join("docs"))
        .map(|dir| {
            dir.filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "md") && p.is_file())
                .collect()
        })
        .unwrap_or_default();
    docs.sort();
    files.extend(docs);
    let benchmarks = root.join("BENCHMARKS.md");
    if benchmarks.is_file() {
        files.push(benchmarks);
    }
    files
}

/// GitHub's anchor for a heading's text: lower-case; keep letters, digits (Unicode too), `-` and
/// `_`; spaces become `-`; everything else (punctuation, backticks, emphasis marks) is dropped.
fn slug(heading: &str) -> String {
    let text = heading_text(heading);
    let mut out = String::new();
    for c in text.trim().to_lowercase().chars() {
        if c.is_alphanumeric() || c == '-' || c == '_' {
            out.push(c);
        } else if c == ' ' {
            out.push('-');
        }
    }
    out
}

/// The text a heading renders to, near enough for its anchor: HTML tags dropped and
/// `[text](target)` reduced to `text`.
fn heading_text(raw: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = raw.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '<' => match chars[i..].iter().position(|&c| c == '>') {
                Some(end) => i += end + 1,
                None => {
                    out.push('<');
                    i += 1;
                }
            },
            ']' if chars.get(i + 1) == Some(&'(') => {
                // Drop `(target)` after link text; the `[` was dropped as punctuation anyway.
                match chars[i + 1..].iter().position(|&c| c == ')') {
                    Some(end) => i += end + 2,
                    None => i += 1,
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// The opening of a fenced code block: up to three spaces, then at least three backticks or
/// tildes. Returns the fence character and length.
fn fence(line: &str) -> Option<(char, usize)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let c = rest.chars().next()?;
    if c != '`' && c != '~' {
        return None;
    }
    let n = rest.chars().take_while(|&x| x == c).count();
    (n >= 3).then_some((c, n))
}

/// Each line of `text` with its 1-based number and whether it lies inside a fenced code block
/// (fence lines themselves count as inside).
fn lines_with_fences(text: &str) -> Vec<(usize, &str, bool)> {
    let mut open: Option<(char, usize)> = None;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        match open {
            Some((c, n)) => {
                let closes = fence(line).is_some_and(|(fc, fnum)| {
                    fc == c && fnum >= n && line.trim().chars().all(|x| x == c)
                });
                out.push((i + 1, line, true));
                if closes {
                    open = None;
                }
            }
            None => {
                if let Some(f) = fence(line) {
                    open = Some(f);
                    out.push((i + 1, line, true));
                } else {
                    out.push((i + 1, line, false));
                }
            }
        }
    }
    out
}

/// `line` with the contents of inline code spans removed (the backticks are kept).
fn without_code_spans(line: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '`' {
            let run = chars[i..].iter().take_while(|&&c| c == '`').count();
            // Find a closing run of exactly the same length.
            let mut j = i + run;
            let mut close = None;
            while j < chars.len() {
                if chars[j] == '`' {
                    let r = chars[j..].iter().take_while(|&&c| c == '`').count();
                    if r == run {
                        close = Some(j);
                        break;
                    }
                    j += r;
                } else {
                    j += 1;
                }
            }
            match close {
                Some(j) => {
                    out.push('`');
                    out.push('`');
                    i = j + run;
                }
                None => {
                    out.extend(&chars[i..i + run]);
                    i += run;
                }
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Explicit anchors on a line: `<a id="x">`, `<a name="x">` (any element's `id` counts too).
fn explicit_anchors(line: &str, into: &mut HashSet<String>) {
    let mut rest = line;
    while let Some(start) = rest.find('<') {
        let tag_and_after = &rest[start..];
        let Some(end) = tag_and_after.find('>') else {
            break;
        };
        let tag = &tag_and_after[..end];
        for attr in ["id=\"", "name=\"", "id='", "name='"] {
            let mut search = tag;
            while let Some(at) = search.find(attr) {
                let before = search[..at].chars().last();
                let value = &search[at + attr.len()..];
                let quote = attr.chars().last().unwrap();
                if before.is_some_and(char::is_whitespace)
                    && let Some(close) = value.find(quote)
                {
                    into.insert(value[..close].to_string());
                }
                search = value;
            }
        }
        rest = &tag_and_after[end + 1..];
    }
}

/// Every anchor a Markdown text defines: heading slugs (duplicates get `-1`, `-2`, …) and
/// explicit `<a id>` / `<a name>` anchors.
fn anchors(text: &str) -> HashSet<String> {
    let mut found = HashSet::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut add_heading = |raw: &str, found: &mut HashSet<String>| {
        let base = slug(raw);
        let n = seen.entry(base.clone()).or_insert(0);
        let anchor = if *n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        *n += 1;
        found.insert(anchor);
    };
    let lines = lines_with_fences(text);
    for (idx, &(_, line, in_code)) in lines.iter().enumerate() {
        if in_code {
            continue;
        }
        explicit_anchors(line, &mut found);
        let trimmed = line.trim_start_matches(' ');
        if line.len() - trimmed.len() <= 3 && trimmed.starts_with('#') {
            let level = trimmed.chars().take_while(|&c| c == '#').count();
            let after = &trimmed[level..];
            if level <= 6 && (after.is_empty() || after.starts_with([' ', '\t'])) {
                // Drop a closing sequence of `#`s (preceded by a space).
                let mut body = after.trim();
                let stripped = body.trim_end_matches('#');
                if stripped.is_empty() || stripped.ends_with([' ', '\t']) {
                    body = stripped.trim_end();
                }
                add_heading(body, &mut found);
            }
            continue;
        }
        // Setext heading: a paragraph line underlined with `===` or `---`.
        let underline = line.trim();
        if idx > 0
            && underline.len() >= 2
            && (underline.chars().all(|c| c == '=') || underline.chars().all(|c| c == '-'))
        {
            let (_, prev, prev_code) = lines[idx - 1];
            let p = prev.trim();
            let paragraph = !prev_code
                && !p.is_empty()
                && !p.starts_with(['#', '|', '>', '-', '*', '+', '<'])
                && !p.chars().next().is_some_and(|c| c.is_ascii_digit());
            if paragraph {
                add_heading(p, &mut found);
            }
        }
    }
    found
}

/// The targets of the links on one line (inline links and images, and reference definitions).
fn link_targets(line: &str) -> Vec<String> {
    let line = without_code_spans(line);
    let mut targets = Vec::new();
    // Reference definition: `[label]: target`.
    let t = line.trim_start();
    if t.starts_with('[')
        && !t.starts_with("[^")
        && let Some(close) = t.find("]:")
        && !t[1..close].contains(']')
        && let Some(target) = t[close + 2..].split_whitespace().next()
    {
        targets.push(target.trim_matches(['<', '>']).to_string());
    }
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i + 1 < chars.len() {
        if chars[i] == ']' && chars[i + 1] == '(' && chars[..i].contains(&'[') {
            let mut depth = 0usize;
            let mut j = i + 2;
            let mut target = String::new();
            while j < chars.len() {
                match chars[j] {
                    '(' => depth += 1,
                    ')' if depth == 0 => break,
                    ')' => depth -= 1,
                    _ => {}
                }
                target.push(chars[j]);
                j += 1;
            }
            let target = target.trim();
            // `(target "title")`, `(<target>)`.
            let target = if let Some(inner) = target.strip_prefix('<') {
                inner.split('>').next().unwrap_or("")
            } else {
                target.split_whitespace().next().unwrap_or("")
            };
            targets.push(target.to_string());
            i = j;
        } else {
            i += 1;
        }
    }
    targets
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(hex) = std::str::from_utf8(&bytes[i + 1..i + 3])
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Checks the links of `files` (paths under `root`); returns `file:line: target (why)` for each
/// broken one.
fn check(root: &Path, files: &[PathBuf]) -> Vec<String> {
    let mut cache: HashMap<PathBuf, Option<HashSet<String>>> = HashMap::new();
    let mut anchors_of = |path: &Path| -> Option<HashSet<String>> {
        cache
            .entry(normalise(path))
            .or_insert_with(|| fs::read_to_string(path).ok().map(|t| anchors(&t)))
            .clone()
    };
    let mut broken = Vec::new();
    for file in files {
        let shown = file
            .strip_prefix(root)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| file.display().to_string());
        let text = match fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                broken.push(format!("{shown}:0: (cannot read: {e})"));
                continue;
            }
        };
        let dir = file.parent().unwrap_or(root);
        for (number, line, in_code) in lines_with_fences(&text) {
            if in_code {
                continue;
            }
            for target in link_targets(line) {
                let lower = target.to_ascii_lowercase();
                if lower.starts_with("http://")
                    || lower.starts_with("https://")
                    || lower.starts_with("mailto:")
                    || lower.contains("://")
                {
                    continue;
                }
                if target.is_empty() {
                    broken.push(format!("{shown}:{number}: (empty link target)"));
                    continue;
                }
                let (path_part, anchor) = match target.split_once('#') {
                    Some((p, a)) => (p, Some(a)),
                    None => (target.as_str(), None),
                };
                let path_part = percent_decode(path_part.split('?').next().unwrap_or(""));
                let resolved = if path_part.is_empty() {
                    file.clone()
                } else if let Some(from_root) = path_part.strip_prefix('/') {
                    root.join(from_root)
                } else {
                    dir.join(&path_part)
                };
                if !resolved.exists() {
                    broken.push(format!(
                        "{shown}:{number}: {target} (no such file: {})",
                        normalise(&resolved).display()
                    ));
                    continue;
                }
                let Some(anchor) = anchor else { continue };
                let is_markdown = resolved
                    .extension()
                    .is_some_and(|x| x.eq_ignore_ascii_case("md"));
                if !is_markdown {
                    // `file.rs#L10` and the like: GitHub's line anchors, not headings.
                    continue;
                }
                let anchor = percent_decode(anchor);
                if anchor.is_empty() {
                    continue;
                }
                match anchors_of(&resolved) {
                    Some(known) if known.contains(&anchor) => {}
                    Some(_) => broken.push(format!(
                        "{shown}:{number}: {target} (no heading or anchor #{anchor} in {})",
                        normalise(&resolved).display()
                    )),
                    None => broken.push(format!(
                        "{shown}:{number}: {target} (cannot read {})",
                        normalise(&resolved).display()
                    )),
                }
            }
        }
    }
    broken
}

#[test]
fn every_link_in_the_docs_resolves() {
    let root = root();
    let files = documents(&root);
    assert!(
        root.join("README.md").is_file(),
        "README.md not found under {} (run from the workspace root)",
        root.display()
    );
    let broken = check(&root, &files);
    assert!(
        broken.is_empty(),
        "{} broken link(s) in {} Markdown file(s):\n{}",
        broken.len(),
        files.len(),
        broken.join("\n")
    );
}

#[test]
fn slugs_follow_github() {
    assert_eq!(slug("Two commands"), "two-commands");
    assert_eq!(
        slug("Contract (OpenAPI and schemathesis)"),
        "contract-openapi-and-schemathesis"
    );
    assert_eq!(
        slug("`cargo lambda watch` (real Lambda runtime protocol, one process per function)"),
        "cargo-lambda-watch-real-lambda-runtime-protocol-one-process-per-function"
    );
    assert_eq!(
        slug("curl, against `cargo run -p local`"),
        "curl-against-cargo-run--p-local"
    );
    assert_eq!(
        slug("Proving statelessness: `chaos`"),
        "proving-statelessness-chaos"
    );
    assert_eq!(slug("snake_case and Ünïcode 2"), "snake_case-and-ünïcode-2");
    assert_eq!(slug("See [the docs](docs/api.md)"), "see-the-docs");

    let defined = anchors(
        "# Title\n## Notes\n```sh\n# not a heading\n```\n## Notes\n## Notes ##\n\
         <a id=\"custom\"></a>\nSetext\n======\n",
    );
    for anchor in ["title", "notes", "notes-1", "notes-2", "custom", "setext"] {
        assert!(defined.contains(anchor), "{anchor} in {defined:?}");
    }
    assert!(!defined.contains("not-a-heading"), "{defined:?}");
}

#[test]
fn a_broken_link_is_detected() {
    let dir = std::env::temp_dir().join(format!("doc_links_{}", std::process::id()));
    fs::create_dir_all(dir.join("docs")).unwrap();
    fs::write(dir.join("docs/other.md"), "# Other\n\n## Real section\n").unwrap();
    let page = dir.join("page.md");
    fs::write(
        &page,
        "# Page\n\
         [ok](docs/other.md#real-section) [self](#page) [web](https://example.com/x.md#nope)\n\
         [missing](docs/gone.md)\n\
         [bad anchor](docs/other.md#no-such-section)\n\
         [bad self](#nowhere)\n\
         `[in code](nothing.md)`\n\
         ```\n[fenced](also-nothing.md)\n```\n",
    )
    .unwrap();
    let broken = check(&dir, std::slice::from_ref(&page));
    fs::remove_dir_all(&dir).ok();
    assert_eq!(broken.len(), 3, "{broken:#?}");
    assert!(
        broken[0].starts_with("page.md:3: docs/gone.md (no such file"),
        "{broken:#?}"
    );
    assert!(
        broken[1].starts_with("page.md:4: docs/other.md#no-such-section (no heading"),
        "{broken:#?}"
    );
    assert!(
        broken[2].starts_with("page.md:5: #nowhere (no heading"),
        "{broken:#?}"
    );
}

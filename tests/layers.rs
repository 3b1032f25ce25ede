//! The layers of `src/` and the rule between them: a module imports only
//! from its own layer or below. This test reads every `crate::…` path in
//! `src/` and fails, naming file and line, on an import that goes up.
//!
//! The cycles found when the test was written are listed in `KNOWN_UPWARD`
//! (issue 11 breaks them); the list may only shrink: a pair that no longer
//! occurs fails the test too, so that its entry is deleted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module of `src/` and its layer, from the bottom.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "shared types and helpers",
        &["model", "text", "markup", "lock", "metrics"],
    ),
    ("configuration", &["config"]),
    (
        "pipeline stages",
        &["fetch", "extract", "normalize", "dedup", "classify"],
    ),
    ("store", &["store", "accounts"]),
    (
        "orchestration and renderers",
        &[
            "poll", "schedule", "publish", "bulletin", "assemble", "report",
        ],
    ),
    ("commands", &["app", "demo"]),
    ("web", &["serve", "desk"]),
];

/// Upward imports that predate this test, as (importer, imported).
const KNOWN_UPWARD: &[(&str, &str)] = &[("config", "classify")];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    // A work list, not recursion (the tree is ours, but the habit is cheap).
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
}

/// The top-level modules named by `crate::…` paths on a line of code.
fn crate_paths(line: &str) -> Vec<&str> {
    let code = line.split("//").next().unwrap_or("");
    code.match_indices("crate::")
        .map(|(at, _)| {
            let rest = &code[at + "crate::".len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .filter(|m| !m.is_empty())
        .collect()
}

#[test]
fn every_module_of_src_is_in_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&src).expect("read src") {
        let path = entry.expect("entry").path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        // `main.rs` and its `cli` handlers are the binary, above every
        // layer of the library: they may use all of it.
        if matches!(name.as_str(), "lib" | "main" | "cli") {
            continue;
        }
        if (path.is_dir() || path.extension().is_some_and(|e| e == "rs"))
            && layer_of(&name).is_none()
        {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "modules in no layer (add them to LAYERS): {missing:?}"
    );
}

#[test]
fn modules_import_only_from_their_own_layer_or_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut upward: Vec<String> = Vec::new();
    let mut known_seen: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        let first = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default();
        let module = first.trim_end_matches(".rs");
        let Some(own) = layer_of(module) else {
            continue;
        };
        let text = std::fs::read_to_string(file).expect("read");
        for (n, line) in text.lines().enumerate() {
            for target in crate_paths(line) {
                let Some(theirs) = layer_of(target) else {
                    continue;
                };
                if theirs <= own {
                    continue;
                }
                if let Some(k) = KNOWN_UPWARD
                    .iter()
                    .find(|(from, to)| *from == module && *to == target)
                {
                    *known_seen.entry(*k).or_default() += 1;
                    continue;
                }
                upward.push(format!(
                    "src/{}:{}: `{module}` ({}) uses `crate::{target}` ({})",
                    rel.display(),
                    n + 1,
                    LAYERS[own].0,
                    LAYERS[theirs].0
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports from a higher layer:\n{}",
        upward.join("\n")
    );
    let stale: BTreeSet<&(&str, &str)> = KNOWN_UPWARD
        .iter()
        .filter(|k| !known_seen.contains_key(k))
        .collect();
    assert!(
        stale.is_empty(),
        "these known upward imports are gone; delete them from KNOWN_UPWARD: {stale:?}"
    );
}

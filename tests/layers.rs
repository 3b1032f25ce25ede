//! The layers of `src/` and the one rule between them: a module imports
//! only modules of lower layers and modules listed before it in its own
//! layer. The table below is a total order, so no cycle is possible, inside
//! a layer as much as between layers. This test reads every `crate::…` path
//! of `src/` (and `super::` paths that climb to the crate root) and fails,
//! naming file and line, on an import that goes up or sideways-forward.
//!
//! `LAYERS` is the one place the layers live; README's "Architecture"
//! section and the opening comment of `src/lib.rs` show the same table, and
//! [`readme_and_lib_rs_show_the_layer_table`] keeps them in step.

use std::path::{Path, PathBuf};

/// Each top-level module of `src/` and its layer, from the bottom; within a
/// layer, in the order imports may go (a module may use the ones before it).
/// The pipeline stages stand in pipeline order, so that no stage ever
/// imports a later one.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "shared types and helpers",
        &[
            "model", "text", "time", "markup", "places", "lock", "metrics",
        ],
    ),
    ("configuration", &["config"]),
    (
        "pipeline stages",
        &[
            "fetch",
            "extract",
            "normalize",
            "dedup",
            "classify",
            "infer",
        ],
    ),
    ("store", &["store", "accounts"]),
    (
        "orchestration and renderers",
        &[
            "onboard", "heal", "poll", "schedule", "bulletin", "publish", "report", "assemble",
        ],
    ),
    ("commands", &["demo", "app"]),
    ("web", &["desk", "serve"]),
];

/// A module's place: (layer, position in the whole table).
fn rank_of(module: &str) -> Option<(usize, usize)> {
    let mut rank = 0;
    for (layer, (_, modules)) in LAYERS.iter().enumerate() {
        for m in *modules {
            if *m == module {
                return Some((layer, rank));
            }
            rank += 1;
        }
    }
    None
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    // A work list, not recursion (the tree is ours, but the habit is cheap).
    let mut out = Vec::new();
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
    out.sort();
    out
}

/// How many `super::` a path in this file needs to reach the crate root:
/// `src/a.rs` and `src/a/mod.rs` are one level down, `src/a/b.rs` two.
/// (Inline `mod tests` adds one more, which only makes the test miss a
/// path, never report a wrong one.)
fn depth(rel: &Path) -> usize {
    let parts = rel.components().count();
    if rel.file_name().is_some_and(|n| n == "mod.rs") {
        parts - 1
    } else {
        parts
    }
}

/// An identifier at the start of `s`.
fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The top-level modules named by one path starting at `rest` (just after
/// `crate::` or the climbing `super::`s): `store`, or each first name of a
/// `{store::Store, config}` group.
fn first_names(rest: &str) -> Vec<&str> {
    let rest = rest.trim_start();
    let Some(group) = rest.strip_prefix('{') else {
        return vec![ident(rest)];
    };
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut start = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => start = true,
            c if c.is_whitespace() => {}
            _ if start => {
                names.push(ident(&group[i..]));
                start = false;
            }
            _ => {}
        }
    }
    names
}

/// The code of a file with comments and string literals blanked (same
/// length, newlines kept, so byte offsets still give line numbers).
fn code_only(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |s: &str| {
        s.chars()
            .map(|c| if c == '\n' { '\n' } else { ' ' })
            .collect::<String>()
    };
    while i < bytes.len() {
        let rest = &text[i..];
        let skip = if rest.starts_with("//") {
            rest.find('\n').unwrap_or(rest.len())
        } else if rest.starts_with("/*") {
            rest.find("*/").map_or(rest.len(), |e| e + 2)
        } else if rest.starts_with("r#\"") || rest.starts_with("r\"") {
            let hashes = rest[1..].chars().take_while(|&c| c == '#').count();
            let close = format!("\"{}", "#".repeat(hashes));
            let body = 2 + hashes;
            rest[body..]
                .find(&close)
                .map_or(rest.len(), |e| body + e + close.len())
        } else if rest.starts_with('"') {
            let mut j = 1;
            let b = rest.as_bytes();
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            (j + 1).min(rest.len())
        } else if rest.starts_with("'\"'") {
            3
        } else {
            0
        };
        if skip > 0 {
            out.push_str(&blank(&rest[..skip]));
            i += skip;
        } else {
            let c = rest.chars().next().expect("not at the end");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Every (line, top-level module) a file's code names through `crate::` or
/// through `super::` paths that climb to the crate root.
fn imports(rel: &Path, text: &str) -> Vec<(usize, String)> {
    let code = code_only(text);
    let line_at = |at: usize| code[..at].matches('\n').count() + 1;
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        // `$crate::` in a macro means this crate too.
        for name in first_names(&code[at + "crate::".len()..]) {
            found.push((line_at(at), name.to_string()));
        }
    }
    let up = "super::".repeat(depth(rel));
    for (at, _) in code.match_indices(&up) {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &code[at + up.len()..];
        if rest.starts_with("super::") {
            continue;
        }
        for name in first_names(rest) {
            found.push((line_at(at), name.to_string()));
        }
    }
    found
}

/// The top-level module a file of `src/` belongs to.
fn module_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .and_then(|c| c.as_os_str().to_str())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_string()
}

#[test]
fn every_module_of_src_is_in_exactly_one_place_of_the_table() {
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
            && rank_of(&name).is_none()
        {
            missing.push(name);
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "modules in no layer (add them to LAYERS): {missing:?}"
    );
    let mut all: Vec<&str> = LAYERS.iter().flat_map(|(_, m)| m.iter().copied()).collect();
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "a module is listed twice in LAYERS");
    for m in &all {
        let file = src.join(format!("{m}.rs"));
        let dir = src.join(m).join("mod.rs");
        assert!(
            file.exists() || dir.exists(),
            "LAYERS lists `{m}`, which src/ does not have"
        );
    }
}

#[test]
fn modules_import_only_lower_layers_and_earlier_modules_of_their_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut bad: Vec<String> = Vec::new();
    for file in rust_files(&src) {
        let rel = file.strip_prefix(&src).expect("under src");
        let module = module_of(rel);
        let Some((own_layer, own)) = rank_of(&module) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("read");
        for (line, target) in imports(rel, &text) {
            if target == module {
                continue;
            }
            let Some((their_layer, theirs)) = rank_of(&target) else {
                continue;
            };
            if theirs < own {
                continue;
            }
            let why = if their_layer > own_layer {
                format!("a higher layer ({})", LAYERS[their_layer].0)
            } else {
                format!(
                    "listed after `{module}` in its own layer ({})",
                    LAYERS[own_layer].0
                )
            };
            bad.push(format!(
                "src/{}:{line}: `{module}` uses `crate::{target}`, {why}",
                rel.display()
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "imports against the layer order (move the code down, or the module up in LAYERS):\n{}",
        bad.join("\n")
    );
}

/// One line per layer as README and lib.rs write it:
/// `| 1 | shared types and helpers | model, text, … |`.
fn table_rows() -> Vec<String> {
    LAYERS
        .iter()
        .enumerate()
        .map(|(i, (name, modules))| {
            format!(
                "| {} | {name} | {} |",
                i + 1,
                modules
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect()
}

/// The rows of `text` that look like the table's, in order.
fn rows_in(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim_start_matches("//!").trim())
        .filter(|l| l.starts_with("| ") && l.chars().nth(2).is_some_and(|c| c.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

#[test]
fn readme_and_lib_rs_show_the_layer_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let expected = table_rows();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let start = readme
        .find("\n## Architecture")
        .expect("README.md has an \"## Architecture\" section");
    let section = &readme[start + 1..];
    let section = match section[1..].find("\n## ") {
        Some(end) => &section[..end + 1],
        None => section,
    };
    assert_eq!(
        rows_in(section),
        expected,
        "README.md's Architecture table differs from LAYERS in tests/layers.rs; its rows should be:\n{}",
        expected.join("\n")
    );
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).expect("src/lib.rs");
    let head: String = lib
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        rows_in(&head),
        expected,
        "src/lib.rs's opening table differs from LAYERS in tests/layers.rs; its rows should be:\n{}",
        expected.join("\n")
    );
}

#[test]
fn the_reader_of_imports_finds_every_form() {
    let rel = Path::new("dedup/verify.rs");
    let text = "use crate::places::Place;\n\
                use crate::{config::Config, text};\n\
                // use crate::serve;\n\
                let s = \"crate::desk\";\n\
                use super::super::store::Store;\n\
                use super::shingle;\n\
                let x = $crate::model::Page;\n";
    let got: Vec<(usize, String)> = imports(rel, text);
    let want: Vec<(usize, String)> = [
        (1, "places"),
        (2, "config"),
        (2, "text"),
        (7, "model"),
        (5, "store"),
    ]
    .iter()
    .map(|(l, m)| (*l, m.to_string()))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn every_data_file_says_where_it_comes_from() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let mut files = Vec::new();
    let mut dirs = vec![data];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).expect("read data") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    assert!(!files.is_empty(), "data/ has no files");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        let header: Vec<&str> = text.lines().take_while(|l| l.starts_with('#')).collect();
        assert!(
            header.iter().any(|l| l.contains("Source:")),
            "{}: the header (leading `#` lines) must say `Source:` where the data comes from and when",
            file.display()
        );
    }
}

//! Config edit, layer 2: changes the sources file in place for
//! `kuaibao sources add --write` and the desk's 来源 page.
//!
//! The sources file is written by people and carries their comments, so an
//! edit touches only what it must: a new source is appended as text after
//! the file's last byte (every old byte stays where it was), and switching
//! a source on or off goes through `toml_edit`, which keeps comments and
//! layout. Every write goes to a temporary file in the same directory that
//! is then renamed over the original, so a crash or a full disk leaves the
//! old file or the new one, never half of one; the file keeps its
//! permissions.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use super::{ConfigError, Section, Source, parse_sources};

/// Why the sources file was left unchanged.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{path}: cannot {action}: {source}")]
    Io {
        path: PathBuf,
        /// "read", "write" or "replace", for the message.
        action: &'static str,
        source: std::io::Error,
    },
    /// The file as it stands does not parse or validate.
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// The new `[[source]]` block is not a valid source on its own, or the
    /// file would not be valid with it.
    #[error("the new source is not valid: {message}")]
    Invalid { message: String },
    #[error("a source with id \"{id}\" is already in the file; choose another id")]
    DuplicateId { id: String },
    #[error("source \"{id}\" already polls {url}")]
    DuplicateUrl { url: String, id: String },
    #[error("no source with id \"{id}\" in the file")]
    UnknownSource { id: String },
}

/// Appends one `[[source]]` table (`block`, as
/// [`crate::infer::ProposedSource::to_toml`] renders it) to the sources file
/// at `path`, after a blank line and a comment with today's Beijing date.
///
/// The block must be a valid source on its own, and its id and its URL must
/// be new to the file (URLs compared without a trailing slash, `http` and
/// `https` alike, since either would poll the same page twice).
pub fn append_source(
    path: &Path,
    block: &str,
    default_interval: Duration,
    sections: &[Section],
) -> Result<(), EditError> {
    let target = real_path(path);
    let old = read(&target)?;
    let today = crate::time::today().format("%Y-%m-%d").to_string();
    let new = appended_text(&target, &old, block, default_interval, sections, &today)?;
    write_atomically(&target, &new)
}

/// The file's text with `block` appended, checked: pure, for [`append_source`].
fn appended_text(
    path: &Path,
    old: &str,
    block: &str,
    default_interval: Duration,
    sections: &[Section],
    date: &str,
) -> Result<String, EditError> {
    let new_sources = parse_sources(Path::new("<new source>"), block, default_interval, sections)
        .map_err(|e| EditError::Invalid {
        message: e.to_string(),
    })?;
    let [added] = new_sources.as_slice() else {
        return Err(EditError::Invalid {
            message: format!(
                "expected exactly one [[source]] table, found {}",
                new_sources.len()
            ),
        });
    };
    let existing = parse_sources(path, old, default_interval, sections).map_err(parse_error)?;
    if existing.iter().any(|s| s.id == added.id) {
        return Err(EditError::DuplicateId {
            id: added.id.clone(),
        });
    }
    let key = url_key(&added.url);
    if let Some(same) = existing.iter().find(|s| url_key(&s.url) == key) {
        return Err(EditError::DuplicateUrl {
            url: added.url.to_string(),
            id: same.id.clone(),
        });
    }

    let mut new = String::with_capacity(old.len() + block.len() + 64);
    new.push_str(old);
    if !new.is_empty() && !new.ends_with('\n') {
        new.push('\n');
    }
    if !new.is_empty() {
        new.push('\n');
    }
    new.push_str(&format!("# Added by kuaibao sources add on {date}\n"));
    new.push_str(block.trim_end());
    new.push('\n');

    // Text appended after arbitrary TOML is only safe if the whole still
    // means what it meant plus one source (a block could, say, reopen a
    // table the file left open): check the result before it is written.
    let after =
        parse_sources(path, &new, default_interval, sections).map_err(|e| EditError::Invalid {
            message: format!("the file would not be valid with it: {e}"),
        })?;
    let unchanged = after.len() == existing.len() + 1
        && existing.iter().zip(&after).all(|(a, b)| same_source(a, b))
        && after.last().is_some_and(|s| same_source(s, added));
    if !unchanged {
        return Err(EditError::Invalid {
            message: "appending it would change the sources already in the file".into(),
        });
    }
    Ok(new)
}

/// Sets `enabled` of the source `id`. An existing `enabled` key gets the
/// new value in place (its comments stay); a missing one is added only to
/// disable, since enabled is the default and absence already means it.
pub fn set_enabled(path: &Path, id: &str, enabled: bool) -> Result<(), EditError> {
    let target = real_path(path);
    let old = read(&target)?;
    let new = enabled_text(&target, &old, id, enabled)?;
    if new != old {
        write_atomically(&target, &new)?;
    }
    Ok(())
}

/// The file's text with the source's `enabled` set: pure, for [`set_enabled`].
fn enabled_text(path: &Path, old: &str, id: &str, enabled: bool) -> Result<String, EditError> {
    let mut doc: toml_edit::DocumentMut = old.parse().map_err(|e: toml_edit::TomlError| {
        let (line, column) = e.span().map_or((1, 1), |s| super::line_col(old, s.start));
        EditError::Parse {
            path: path.to_path_buf(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })?;
    let unknown = || EditError::UnknownSource { id: id.to_string() };
    let sources = doc
        .get_mut("source")
        .and_then(toml_edit::Item::as_array_of_tables_mut)
        .ok_or_else(unknown)?;
    let table = sources
        .iter_mut()
        .find(|t| t.get("id").and_then(toml_edit::Item::as_str) == Some(id))
        .ok_or_else(unknown)?;
    match table
        .get_mut("enabled")
        .and_then(toml_edit::Item::as_value_mut)
    {
        Some(value) => {
            // Keep the value's own decor (a trailing `# why` comment).
            let decor = value.decor().clone();
            *value = toml_edit::Value::from(enabled);
            *value.decor_mut() = decor;
        }
        None if enabled => {}
        None => {
            table.insert("enabled", toml_edit::value(false));
        }
    }
    Ok(doc.to_string())
}

/// Replaces the `[source.list]`, `[source.json]` or `[source.article]`
/// tables of the source `id` with the ones in `tables` (TOML text of a
/// `[[source]]` holding them, as `ProposedSource::to_toml` writes it),
/// after copying the file to `<file>.bak-YYYYMMDDHHMMSS`. Each replaced
/// table keeps the old one in a comment above it, dated and with `note`
/// (why it changed), so the next person sees what was there. The result is
/// validated before it replaces the file. Returns the backup's path.
pub fn replace_tables(
    path: &Path,
    id: &str,
    tables: &str,
    note: &str,
    default_interval: Duration,
    sections: &[Section],
) -> Result<PathBuf, EditError> {
    let target = real_path(path);
    let old = read(&target)?;
    let new = replaced_text(&target, &old, id, tables, note)?;
    let parsed = parse_sources(&target, &new, default_interval, sections).map_err(|e| {
        EditError::Invalid {
            message: e.to_string(),
        }
    })?;
    if !parsed.iter().any(|s| s.id == id) {
        return Err(EditError::UnknownSource { id: id.to_string() });
    }
    let stamp = crate::time::now().format("%Y%m%d%H%M%S");
    let mut backup = target.clone().into_os_string();
    backup.push(format!(".bak-{stamp}"));
    let backup = PathBuf::from(backup);
    std::fs::copy(&target, &backup).map_err(|source| EditError::Io {
        path: backup.clone(),
        action: "write",
        source,
    })?;
    write_atomically(&target, &new)?;
    Ok(backup)
}

/// The file's text with the source's tables replaced: pure, for
/// [`replace_tables`].
fn replaced_text(
    path: &Path,
    old: &str,
    id: &str,
    tables: &str,
    note: &str,
) -> Result<String, EditError> {
    let parse = |text: &str, path: &Path| -> Result<toml_edit::DocumentMut, EditError> {
        text.parse().map_err(|e: toml_edit::TomlError| {
            let (line, column) = e.span().map_or((1, 1), |s| super::line_col(text, s.start));
            EditError::Parse {
                path: path.to_path_buf(),
                line,
                column,
                message: e.message().trim().to_string(),
            }
        })
    };
    let mut doc = parse(old, path)?;
    let given = parse(tables, Path::new("(new selectors)"))?;
    let given = given
        .get("source")
        .and_then(toml_edit::Item::as_array_of_tables)
        .and_then(|a| a.get(0))
        .ok_or_else(|| EditError::Invalid {
            message: "the new selectors hold no [[source]] table".into(),
        })?;
    let unknown = || EditError::UnknownSource { id: id.to_string() };
    let table = doc
        .get_mut("source")
        .and_then(toml_edit::Item::as_array_of_tables_mut)
        .and_then(|a| {
            a.iter_mut()
                .find(|t| t.get("id").and_then(toml_edit::Item::as_str) == Some(id))
        })
        .ok_or_else(unknown)?;
    let date = crate::time::now().format("%Y-%m-%d %H:%M");
    for key in ["list", "json", "article"] {
        let Some(new_table) = given.get(key).and_then(toml_edit::Item::as_table) else {
            continue;
        };
        let mut comment = format!("# {date}: {note}. Before:\n");
        if let Some(old_table) = table.get(key).and_then(toml_edit::Item::as_table) {
            for (k, v) in old_table.iter() {
                let value = v.as_value().map(|v| v.to_string()).unwrap_or_default();
                comment.push_str(&format!("#   {k} = {}\n", value.trim()));
            }
        } else {
            comment.push_str("#   (no table)\n");
        }
        let mut replacement = toml_edit::Table::new();
        for (k, v) in new_table.iter() {
            replacement.insert(k, v.clone());
        }
        replacement.decor_mut().set_prefix(format!("\n{comment}"));
        table.insert(key, toml_edit::Item::Table(replacement));
    }
    Ok(doc.to_string())
}

/// Two parses of one source agree on everything a poll uses.
fn same_source(a: &Source, b: &Source) -> bool {
    a.id == b.id
        && a.name == b.name
        && a.url == b.url
        && a.kind == b.kind
        && a.interval == b.interval
        && a.enabled == b.enabled
        && a.section == b.section
        && a.region == b.region
        && a.list.is_some() == b.list.is_some()
        && a.json.is_some() == b.json.is_some()
        && a.article.is_some() == b.article.is_some()
}

/// A URL as compared for duplicates: no scheme, no fragment, no trailing
/// slash on the path.
fn url_key(url: &Url) -> String {
    let mut u = url.clone();
    u.set_fragment(None);
    let s = u.as_str();
    let s = s.split_once("://").map_or(s, |(_, rest)| rest);
    match s.split_once('?') {
        Some((path, query)) => format!("{}?{query}", path.trim_end_matches('/')),
        None => s.trim_end_matches('/').to_string(),
    }
}

fn parse_error(e: ConfigError) -> EditError {
    match e {
        ConfigError::Read { path, source } => EditError::Io {
            path,
            action: "read",
            source,
        },
        ConfigError::Syntax {
            path,
            line,
            column,
            message,
        } => EditError::Parse {
            path,
            line,
            column,
            message,
        },
        ConfigError::Invalid {
            path,
            line,
            key,
            message,
        } => EditError::Parse {
            path,
            line,
            column: 1,
            message: format!("`{key}`: {message}"),
        },
    }
}

/// The file a symlink points to, so the rename replaces the file and not
/// the link; the path itself when it cannot be resolved (the read then
/// reports why).
fn real_path(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn read(path: &Path) -> Result<String, EditError> {
    std::fs::read_to_string(path).map_err(|source| EditError::Io {
        path: path.to_path_buf(),
        action: "read",
        source,
    })
}

/// Writes `text` to a temporary file beside `path`, with `path`'s
/// permissions, and renames it over `path`.
fn write_atomically(path: &Path, text: &str) -> Result<(), EditError> {
    let io = |action: &'static str| {
        move |source: std::io::Error| EditError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let permissions = std::fs::metadata(path).map_err(io("read"))?.permissions();
    let mut tmp = tempfile::Builder::new()
        .prefix(".sources-edit-")
        .tempfile_in(dir)
        .map_err(io("write"))?;
    tmp.write_all(text.as_bytes()).map_err(io("write"))?;
    tmp.as_file().sync_all().map_err(io("write"))?;
    std::fs::set_permissions(tmp.path(), permissions).map_err(io("write"))?;
    tmp.persist(path).map_err(|e| io("replace")(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCES: &str = include_str!("../../config/sources.toml");

    fn sections() -> Vec<Section> {
        super::super::parse_sections(
            Path::new("sections.toml"),
            super::super::DEFAULT_SECTIONS_TOML,
        )
        .expect("built-in sections")
    }

    const HOUR: Duration = Duration::from_secs(3600);

    const BLOCK: &str = r#"[[source]]
id = "sd-hrss"
name = "山东省人力资源和社会保障厅"
url = "http://hrss.shandong.gov.cn/channels/ch00013/"
kind = "html"
section = "regional"
region = "山东"

[source.list]
item = "ul.news-list li"
link = "a@href"
title = "a@title"
date = "span"
"#;

    fn copy_of_sources() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sources.toml");
        std::fs::write(&path, SOURCES).expect("write copy");
        (dir, path)
    }

    #[test]
    fn appending_keeps_every_old_byte_and_the_result_parses() {
        let (_dir, path) = copy_of_sources();
        append_source(&path, BLOCK, HOUR, &sections()).expect("appended");
        let new = std::fs::read_to_string(&path).unwrap();
        assert!(new.starts_with(SOURCES), "the old text is a prefix");
        let added = &new[SOURCES.len()..];
        let today = crate::time::today().format("%Y-%m-%d").to_string();
        assert!(
            added.starts_with(&format!(
                "\n# Added by kuaibao sources add on {today}\n[[source]]\n"
            )),
            "{added}"
        );
        let before = parse_sources(&path, SOURCES, HOUR, &sections()).unwrap();
        let after = parse_sources(&path, &new, HOUR, &sections()).unwrap();
        assert_eq!(after.len(), before.len() + 1);
        for (a, b) in before.iter().zip(&after) {
            assert!(same_source(a, b), "{} changed", a.id);
        }
        let last = after.last().unwrap();
        assert_eq!(last.id, "sd-hrss");
        assert_eq!(last.region.as_deref(), Some("山东"));
    }

    #[test]
    fn appending_keeps_the_file_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, path) = copy_of_sources();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        append_source(&path, BLOCK, HOUR, &sections()).expect("appended");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }

    #[test]
    fn a_duplicate_id_is_refused_by_name() {
        let block = BLOCK.replace("sd-hrss", "gd-hrss");
        let err = appended_text(Path::new("s.toml"), SOURCES, &block, HOUR, &sections(), "d")
            .unwrap_err();
        assert!(matches!(&err, EditError::DuplicateId { id } if id == "gd-hrss"));
        assert!(err.to_string().contains("\"gd-hrss\""), "{err}");
    }

    #[test]
    fn a_duplicate_url_is_refused_naming_the_source_that_has_it() {
        // The file has it with a trailing slash and https.
        let block = BLOCK.replace(
            "http://hrss.shandong.gov.cn/channels/ch00013/",
            "http://www.mohrss.gov.cn/SYrlzyhshbzb/dongtaixinwen/buneiyaowen",
        );
        let err = appended_text(Path::new("s.toml"), SOURCES, &block, HOUR, &sections(), "d")
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(&err, EditError::DuplicateUrl { id, .. } if id == "mohrss-buneiyaowen"),
            "{msg}"
        );
        assert!(msg.contains("buneiyaowen"), "{msg}");
    }

    #[test]
    fn an_invalid_block_is_refused_with_the_validation_message() {
        let block = BLOCK.replace("\"regional\"", "\"nowhere\"");
        let err = appended_text(Path::new("s.toml"), SOURCES, &block, HOUR, &sections(), "d")
            .unwrap_err();
        assert!(matches!(err, EditError::Invalid { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("source.section") && msg.contains("unknown section"),
            "{msg}"
        );
    }

    #[test]
    fn two_sources_in_one_block_are_refused() {
        let block = format!("{BLOCK}\n{}", BLOCK.replace("sd-hrss", "sd-hrss-2"));
        let err = appended_text(Path::new("s.toml"), SOURCES, &block, HOUR, &sections(), "d")
            .unwrap_err();
        assert!(err.to_string().contains("exactly one"), "{err}");
    }

    #[test]
    fn a_file_without_a_final_newline_gets_one_before_the_block() {
        let old = SOURCES.trim_end();
        let new = appended_text(
            Path::new("s.toml"),
            old,
            BLOCK,
            HOUR,
            &sections(),
            "2025-06-20",
        )
        .unwrap();
        assert!(new.starts_with(old));
        assert!(new[old.len()..].starts_with("\n\n# Added by kuaibao sources add on 2025-06-20\n"));
    }

    #[test]
    fn set_enabled_flips_one_source_and_leaves_every_other_line() {
        let (_dir, path) = copy_of_sources();
        set_enabled(&path, "gmw-world", false).expect("disabled");
        let new = std::fs::read_to_string(&path).unwrap();
        let old_lines: Vec<&str> = SOURCES.lines().collect();
        let new_lines: Vec<&str> = new.lines().collect();
        assert_eq!(new_lines.len(), old_lines.len() + 1);
        let at = old_lines
            .iter()
            .zip(&new_lines)
            .position(|(a, b)| a != b)
            .expect("one line added");
        assert_eq!(new_lines[at], "enabled = false");
        assert_eq!(&new_lines[..at], &old_lines[..at]);
        assert_eq!(&new_lines[at + 1..], &old_lines[at..]);
        let parsed = parse_sources(&path, &new, HOUR, &sections()).unwrap();
        for s in &parsed {
            assert_eq!(
                s.enabled,
                s.id != "gmw-world" && s.id != "js-hrss",
                "{}",
                s.id
            );
        }

        // And back: the key stays, with the new value in place.
        set_enabled(&path, "gmw-world", true).expect("enabled");
        let again = std::fs::read_to_string(&path).unwrap();
        let again_lines: Vec<&str> = again.lines().collect();
        assert_eq!(again_lines.len(), new_lines.len());
        for (i, (a, b)) in new_lines.iter().zip(&again_lines).enumerate() {
            if i == at {
                assert_eq!(*b, "enabled = true");
            } else {
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn enabling_a_disabled_source_changes_only_its_value() {
        let new = enabled_text(Path::new("s.toml"), SOURCES, "js-hrss", true).unwrap();
        assert_eq!(new, SOURCES.replace("enabled = false", "enabled = true"));
    }

    #[test]
    fn enabling_a_source_without_the_key_changes_nothing() {
        let new = enabled_text(Path::new("s.toml"), SOURCES, "gd-hrss", true).unwrap();
        assert_eq!(new, SOURCES);
    }

    #[test]
    fn an_unknown_id_is_refused_by_name() {
        let err = enabled_text(Path::new("s.toml"), SOURCES, "nope", false).unwrap_err();
        assert!(matches!(&err, EditError::UnknownSource { id } if id == "nope"));
        assert!(err.to_string().contains("\"nope\""));
    }

    #[test]
    fn a_file_that_does_not_parse_is_reported_with_its_line() {
        let broken = format!("{SOURCES}\n[[source]\n");
        let err = enabled_text(Path::new("s.toml"), &broken, "gd-hrss", false).unwrap_err();
        let line = broken.lines().count();
        assert!(
            err.to_string().starts_with(&format!("s.toml:{line}:")),
            "{err}"
        );
    }
}

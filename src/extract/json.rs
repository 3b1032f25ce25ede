//! JSON list endpoints for the extract stage (fetch → **extract** →
//! normalize → store → publish).
//!
//! Outlets whose list pages are rendered by script publish the data as
//! JSON (gov.cn `ZUIXINZHENGCE.json`, news.cn `nodeart/list`), sometimes
//! wrapped as JSONP. The source names the array and each field with a
//! dotted path (`data.list`, `0.title`).

use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset, TimeZone};
use regex::Regex;
use serde_json::Value;
use url::Url;

use super::{
    ExtractError, Limits, Listing, bounded_fragment, collapse_ws, dates, html_to_text, resolve_link,
};
use crate::config::JsonPaths;
use crate::model::{ListedItem, Page};

static JSONP_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)\A\s*(?:/\*\*/)?\s*[A-Za-z_$][\w$.]*\s*\((.*)\)\s*;?\s*\z")
        .expect("valid JSONP regex")
});

/// Reads the items of a JSON list document, at most `limits.max_entries`.
pub fn extract_json_list(
    paths: &JsonPaths,
    page: &Page,
    limits: &Limits,
) -> Result<Listing, ExtractError> {
    let doc = parse_json(&page.text)?;
    let list = lookup(&doc, &paths.items)?;
    let Value::Array(entries) = list else {
        return Err(ExtractError::NotAnArray {
            path: display_path(&paths.items),
            found: kind_of(list),
        });
    };
    let mut items = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for entry in entries.iter().take(limits.max_entries) {
        let Some(item) = read_item(paths, entry, &page.url, limits) else {
            continue;
        };
        if seen.insert(item.url.clone()) {
            items.push(item);
        }
    }
    if items.is_empty() && !entries.is_empty() {
        tracing::warn!(url = %page.url, path = %paths.link, "JSON items found but none had a usable link");
    }
    Ok(Listing {
        items,
        entries_cut: entries.len() > limits.max_entries,
    })
}

/// Parses JSON or JSONP (`callback({...});`).
pub fn parse_json(text: &str) -> Result<Value, ExtractError> {
    let text = text.trim_start_matches('\u{feff}').trim();
    let body = if text.starts_with('{') || text.starts_with('[') {
        text
    } else {
        JSONP_RE
            .captures(text)
            .and_then(|c| c.get(1))
            .map_or(text, |m| m.as_str())
    };
    serde_json::from_str(body).map_err(|e| ExtractError::Malformed {
        what: "JSON",
        detail: format!("line {}, column {}: {e}", e.line(), e.column()),
    })
}

/// Follows a dotted path; an empty path is the value itself, and numeric
/// segments index arrays.
pub fn lookup<'a>(value: &'a Value, path: &str) -> Result<&'a Value, ExtractError> {
    let mut cur = value;
    for seg in path.split('.').map(str::trim).filter(|s| !s.is_empty()) {
        let next = match cur {
            Value::Object(map) => map.get(seg),
            Value::Array(arr) => seg.parse::<usize>().ok().and_then(|i| arr.get(i)),
            _ => None,
        };
        cur = next.ok_or_else(|| ExtractError::PathNotFound {
            path: display_path(path),
            segment: seg.to_string(),
            found: kind_of(cur),
        })?;
    }
    Ok(cur)
}

fn display_path(path: &str) -> String {
    if path.trim().is_empty() {
        "(document)".to_string()
    } else {
        path.to_string()
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A field as text; ids often come as numbers.
fn field(item: &Value, path: Option<&str>) -> Option<String> {
    let path = path?.trim();
    if path.is_empty() {
        return None;
    }
    match lookup(item, path).ok()? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn read_item(paths: &JsonPaths, item: &Value, base: &Url, limits: &Limits) -> Option<ListedItem> {
    let url = resolve_link(base, &field(item, Some(&paths.link))?)?;
    let title = field(item, Some(&paths.title))
        .map(|t| html_to_text(&t))
        .unwrap_or_default();
    let published = paths
        .date
        .as_deref()
        .and_then(|p| lookup(item, p).ok())
        .and_then(json_date)
        .or_else(|| dates::date_from_url(url.as_str()));
    Some(ListedItem {
        url,
        guid: field(item, paths.guid.as_deref()),
        title,
        published,
        summary: field(item, paths.summary.as_deref()).and_then(|s| bounded_fragment(s, limits)),
        content: field(item, paths.content.as_deref()).and_then(|c| bounded_fragment(c, limits)),
        author: None,
    })
    .map(|mut i| {
        i.summary = i.summary.map(|s| collapse_ws(&s));
        i
    })
}

/// A date as JSON APIs give it: text, or a Unix timestamp in seconds or
/// milliseconds (as a number or a string of digits).
pub fn json_date(value: &Value) -> Option<DateTime<FixedOffset>> {
    match value {
        Value::Number(n) => unix_date(n.as_f64()? as i64),
        Value::String(s) => {
            let s = s.trim();
            if (s.len() == 10 || s.len() == 13) && s.bytes().all(|b| b.is_ascii_digit()) {
                unix_date(s.parse().ok()?)
            } else {
                dates::parse_date(s)
            }
        }
        _ => None,
    }
}

fn unix_date(n: i64) -> Option<DateTime<FixedOffset>> {
    // Seconds reach 1e11 only in the year 5138; anything bigger is milliseconds.
    let ms = if n.unsigned_abs() >= 100_000_000_000 {
        n
    } else {
        n.checked_mul(1000)?
    };
    crate::time::beijing().timestamp_millis_opt(ms).single()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonp_wrappers_are_unwrapped() {
        for text in [
            r#"callback({"a":1});"#,
            r#"jQuery1124_1718({"a":1})"#,
            "/**/cb({\"a\":1});\n",
        ] {
            assert_eq!(parse_json(text).unwrap()["a"], 1, "{text}");
        }
    }

    #[test]
    fn invalid_json_names_line_and_column() {
        let err = parse_json("{\n\"a\": }").unwrap_err().to_string();
        assert!(err.contains("line 2, column"), "{err}");
    }

    #[test]
    fn paths_walk_objects_and_numeric_segments() {
        let v: Value = serde_json::from_str(r#"{"data":{"list":[{"t":"x"}]}}"#).unwrap();
        assert_eq!(lookup(&v, "data.list.0.t").unwrap(), "x");
        assert_eq!(lookup(&v, "").unwrap(), &v);
        let err = lookup(&v, "data.items").unwrap_err().to_string();
        assert_eq!(
            err,
            "JSON path `data.items` not found: no `items` in an object"
        );
    }

    #[test]
    fn dates_may_be_text_seconds_or_milliseconds() {
        let want = dates::parse_date("2025-06-20 10:30:00").unwrap();
        assert_eq!(json_date(&Value::from("2025-06-20 10:30:00")), Some(want));
        assert_eq!(json_date(&Value::from(want.timestamp())), Some(want));
        assert_eq!(json_date(&Value::from(want.timestamp_millis())), Some(want));
        assert_eq!(
            json_date(&Value::from(want.timestamp().to_string())),
            Some(want)
        );
    }
}

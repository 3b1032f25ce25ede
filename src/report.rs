//! Report, layer 5 (renderers): what the commands print for people — aligned tables that keep
//! their columns with Chinese (double-width) text. Machines get `--json`.

use unicode_width::UnicodeWidthStr;

use crate::accounts::{AuditRecord, UserInfo};
use crate::heal::{Examination, ListHealth};
use crate::onboard::{Column, Proposal};
use crate::poll::{SourceReport, SourceTest};
use crate::store::{RepairRow, ReviewItem, SourceState, StoryDetail, StorySummary};

/// A plain text table: a header row and rows, columns padded by display
/// width, the last column left ragged.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(cell.width());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 < cells.len() {
                text.push_str(cell);
                text.push_str(&" ".repeat(widths[i] - cell.width() + 2));
            } else {
                text.push_str(cell);
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// Cuts `text` to at most `max` display columns, marking the cut with `…`.
pub fn truncate(text: &str, max: usize) -> String {
    if text.width() <= max {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        if out.width() + c.to_string().width() + 1 > max {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// The table `kuaibao poll` prints.
pub fn poll_table(reports: &[SourceReport]) -> String {
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                r.status.as_str().to_string(),
                new_items(r),
                (r.unchanged + r.updated).to_string(),
                r.failed.to_string(),
                format!("{}ms", r.duration_ms),
                reason(r),
            ]
        })
        .collect();
    table(
        &[
            "SOURCE",
            "STATUS",
            "NEW",
            "UNCHANGED",
            "FAILED",
            "TIME",
            "REASON",
        ],
        &rows,
    )
}

/// The NEW column: how many items were stored for the first time, and of
/// them how many are 待定 (`maybe`) and how many off-topic.
fn new_items(r: &SourceReport) -> String {
    let mut of_them = Vec::new();
    if r.maybe > 0 {
        of_them.push(format!("{} maybe", r.maybe));
    }
    if r.off_topic > 0 {
        of_them.push(format!("{} off-topic", r.off_topic));
    }
    if of_them.is_empty() {
        r.new.to_string()
    } else {
        format!("{} ({})", r.new, of_them.join(", "))
    }
}

/// Why a source did less than everything: its error, what was done about
/// broken selectors, then the budgets that bit.
fn reason(r: &SourceReport) -> String {
    r.error
        .iter()
        .chain(r.repair.iter())
        .chain(
            r.limits
                .iter()
                .filter(|l| r.error.as_deref() != Some(l.as_str())),
        )
        .cloned()
        .collect::<Vec<_>>()
        .join("; ")
}

/// Passes in a row with a budget biting after which `status` flags the
/// source: once may be a first poll, every time is a source to look at.
pub const LIMITED_FLAG_AFTER: i64 = 3;

/// The table `kuaibao status` prints.
pub fn status_table(states: &[SourceState]) -> String {
    let rows: Vec<Vec<String>> = states
        .iter()
        .map(|s| {
            let health = if s.last_attempt_at.is_none() {
                "never polled".to_string()
            } else if s.consecutive_failures > 0 {
                format!("failing ×{}", s.consecutive_failures)
            } else if s.limited_passes >= LIMITED_FLAG_AFTER {
                format!("limited ×{}", s.limited_passes)
            } else {
                "ok".to_string()
            };
            vec![
                s.id.clone(),
                health,
                s.items.to_string(),
                short_time(s.last_success_at.as_deref()),
                short_time(s.next_due_at.as_deref()),
                s.last_error
                    .iter()
                    .chain(s.last_limits.iter())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; "),
            ]
        })
        .collect();
    table(
        &[
            "SOURCE",
            "HEALTH",
            "ITEMS",
            "LAST SUCCESS",
            "NEXT DUE",
            "LAST ERROR / LIMITS",
        ],
        &rows,
    )
}

/// The lines `kuaibao status` prints below its table: one per source
/// whose latest repair is proposed, applied or failed (a dismissed one is
/// done with).
pub fn repair_lines(repairs: &[RepairRow]) -> String {
    let mut out = String::new();
    for r in repairs {
        let day = |t: &str| t.chars().take(10).collect::<String>();
        let line = match r.status.as_str() {
            "applied" => format!(
                "{}: {} selectors repaired {} (applied{})",
                r.source_id,
                r.what,
                day(r.decided_at.as_deref().unwrap_or(&r.created_at)),
                r.decided_by
                    .as_deref()
                    .map_or_else(String::new, |b| format!(" by {b}"))
            ),
            "proposed" => format!(
                "{}: {} selectors broke {}; repair proposed: kuaibao sources heal {} --apply (or 应用 on the desk's 来源 page)",
                r.source_id,
                r.what,
                day(&r.created_at),
                r.source_id
            ),
            "failed" => format!(
                "{}: {} selectors broke {}; no repair passed, needs a person (kuaibao sources heal {})",
                r.source_id,
                r.what,
                day(&r.created_at),
                r.source_id
            ),
            _ => continue,
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The table `kuaibao review list` prints.
pub fn review_table(items: &[ReviewItem]) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            vec![
                i.id.to_string(),
                i.status.as_str().to_string(),
                i.section.clone().unwrap_or_else(|| "-".into()),
                i.relevance
                    .map_or_else(|| "-".into(), |r| format!("{r:.2}")),
                short_time(i.published.as_deref()),
                truncate(&i.origin, 16),
                if i.story_items > 1 {
                    format!("+{}", i.story_items - 1)
                } else {
                    String::new()
                },
                truncate(i.bulletin_title.as_deref().unwrap_or(&i.title), 44),
                truncate(&why(i), 60),
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "STATUS",
            "SECTION",
            "REL",
            "PUBLISHED",
            "ORIGIN",
            "COPIES",
            "TITLE",
            "WHY",
        ],
        &rows,
    )
}

/// The strongest reasons of an item's classification, in a line.
fn why(item: &ReviewItem) -> String {
    item.explanation
        .as_ref()
        .and_then(|e| e.get("reasons"))
        .and_then(|r| r.as_array())
        .map(|reasons| {
            reasons
                .iter()
                .filter_map(|r| r.as_str())
                .filter(|r| !r.starts_with("relevance score"))
                .take(2)
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

/// What `kuaibao review show` prints: the item, its story and why it was
/// classified as it was.
pub fn review_text(item: &ReviewItem, text: &str) -> String {
    let mut out = format!("item {}  {}\n", item.id, item.status.as_str());
    let mut field = |name: &str, value: &str| {
        if !value.is_empty() {
            out.push_str(&format!("  {name:<14} {value}\n"));
        }
    };
    field(
        "title",
        item.bulletin_title.as_deref().unwrap_or(&item.title),
    );
    if item.bulletin_title.is_some() {
        field("original title", &item.title);
    }
    field("section", item.section.as_deref().unwrap_or("-"));
    field(
        "relevance",
        &item
            .relevance
            .map_or_else(|| "-".into(), |r| format!("{r:.3}")),
    );
    field("来源", &item.origin);
    field("source", &item.source_id);
    field("published", &short_time(item.published.as_deref()));
    field("url", &item.url);
    field(
        "story",
        &format!("{} ({} items)", item.story_id, item.story_items),
    );
    for page in item.seen_on.iter().filter(|p| **p != item.url) {
        field("also on", page);
    }
    if let Some(e) = &item.explanation {
        if let Some(scores) = e.get("scores").and_then(|s| s.as_array()) {
            let scores: Vec<String> = scores
                .iter()
                .filter_map(|p| {
                    Some(format!(
                        "{} {:.2}",
                        p.get(0)?.as_str()?,
                        p.get(1)?.as_f64()?
                    ))
                })
                .collect();
            field("scores", &scores.join(", "));
        }
        out.push_str("  why:\n");
        for r in e
            .get("reasons")
            .and_then(|r| r.as_array())
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str())
        {
            out.push_str(&format!("    - {r}\n"));
        }
    }
    let lead: String = text
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect();
    if !lead.is_empty() {
        out.push_str(&format!("\n  {lead}\n"));
    }
    out
}

/// The table `kuaibao stories list` prints.
pub fn stories_table(stories: &[StorySummary]) -> String {
    let rows: Vec<Vec<String>> = stories
        .iter()
        .map(|s| {
            vec![
                s.id.to_string(),
                s.items.to_string(),
                s.status.as_str().to_string(),
                short_time(s.published.as_deref()),
                truncate(&s.title, 40),
                truncate(&s.outlets.join("、"), 48),
            ]
        })
        .collect();
    table(
        &["STORY", "ITEMS", "STATUS", "PUBLISHED", "TITLE", "OUTLETS"],
        &rows,
    )
}

/// What `kuaibao stories show` prints.
pub fn story_text(story: &StoryDetail) -> String {
    let s = &story.summary;
    let mut out = format!(
        "story {}  {}  ({} items, {})\n  entry id {}\n  outlets: {}\n",
        s.id,
        s.title,
        s.items,
        s.status.as_str(),
        s.uid,
        s.outlets.join("、")
    );
    for m in &story.members {
        out.push_str(&format!(
            "\n  {} item {}  {}\n    source {} ({}), 来源 {}\n    published {}, first seen {}\n",
            if m.primary { "*" } else { "-" },
            m.id,
            m.title,
            m.source_name,
            m.source_id,
            if m.origin.is_empty() { "-" } else { &m.origin },
            short_time(m.published.as_deref()),
            short_time(Some(&m.first_seen)),
        ));
        for p in &m.pages {
            out.push_str(&format!("    {p}\n"));
        }
    }
    out.push_str("\n  * = primary: the copy published feeds show\n");
    out
}

/// The table `kuaibao user list` prints.
pub fn users_table(users: &[UserInfo]) -> String {
    let rows: Vec<Vec<String>> = users
        .iter()
        .map(|u| {
            vec![
                u.name.clone(),
                u.role.as_str().to_string(),
                u.active_sessions.to_string(),
                short_time(Some(&u.password_changed_at)),
                short_time(Some(&u.created_at)),
                if u.disabled { "disabled" } else { "active" }.to_string(),
            ]
        })
        .collect();
    table(
        &[
            "NAME",
            "ROLE",
            "SESSIONS",
            "PASSWORD SET",
            "CREATED",
            "STATUS",
        ],
        &rows,
    )
}

/// The table `kuaibao audit` prints.
pub fn audit_table(records: &[AuditRecord]) -> String {
    let id = |n: Option<i64>| n.map_or_else(|| "-".into(), |n| n.to_string());
    // Titles and details are typed on the desk: a newline in one must not
    // print as a row of its own that reads like another entry.
    let line = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_debug().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect()
    };
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            let change = match (&r.before, &r.after) {
                (None, None) => String::new(),
                (before, after) => format!(
                    "{} → {}",
                    truncate(&line(before.as_deref().unwrap_or("-")), 24),
                    truncate(&line(after.as_deref().unwrap_or("-")), 24)
                ),
            };
            vec![
                r.at.get(..19).unwrap_or(&r.at).replace('T', " "),
                line(&r.user_name),
                line(&r.action),
                id(r.item_id),
                id(r.story_id),
                change,
                truncate(&line(r.detail.as_deref().unwrap_or("")), 48),
            ]
        })
        .collect();
    table(
        &["AT", "USER", "ACTION", "ITEM", "STORY", "CHANGE", "DETAIL"],
        &rows,
    )
}

/// What `kuaibao sources test` prints.
pub fn source_test_text(t: &SourceTest) -> String {
    let mut out = format!(
        "{}  {}\n  final URL {}  HTTP {}  {} bytes  {}\n  {} items\n",
        t.source_id,
        t.url,
        t.final_url,
        t.status,
        t.bytes,
        t.encoding,
        t.items.len()
    );
    for (n, item) in t.items.iter().enumerate() {
        out.push_str(&format!(
            "\n{:>3}. {}\n     {}\n     published {}{}\n",
            n + 1,
            item.title,
            item.url,
            item.published.as_deref().unwrap_or("(no date)"),
            item.guid
                .as_deref()
                .map(|g| format!("  guid {g}"))
                .unwrap_or_default()
        ));
        if let Some(a) = &item.article {
            match &a.error {
                Some(e) => out.push_str(&format!("     article: FAILED {e}\n")),
                None => out.push_str(&format!(
                    "     article: {} chars, 来源 {}, published {}\n     {}…\n",
                    a.text_chars,
                    a.origin,
                    a.published.as_deref().unwrap_or("(no date)"),
                    a.text_start
                )),
            }
        }
    }
    out
}

/// What `kuaibao sources add` prints: how the source was found, the
/// `[[source]]` table, a preview of its first items and the warnings.
pub fn proposal_text(p: &Proposal) -> String {
    let mut out = format!(
        "Found {}.\nConfidence {:.2}; {} items; page decoded as {}; {} requests in {} ms.\n\n{}",
        p.found, p.confidence, p.items, p.encoding, p.requests, p.millis, p.toml
    );
    if !p.toml.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!(
        "\nPreview: the first {} of {} items as polling would store them\n",
        p.preview.len(),
        p.items
    ));
    let rows: Vec<Vec<String>> = p
        .preview
        .iter()
        .map(|i| {
            vec![
                short_time(i.published.as_deref()),
                clip(&i.title, 34),
                match (i.chars, &i.error) {
                    (_, Some(e)) => format!("FAILED: {}", clip(e, 40)),
                    (Some(c), None) => format!("{c} 字"),
                    (None, None) => "-".into(),
                },
                i.origin.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    out.push_str(&table(&["DATE", "TITLE", "TEXT", "来源"], &rows));
    if !p.warnings.is_empty() {
        out.push_str("\nWarnings:\n");
        for w in &p.warnings {
            out.push_str(&format!("  - {w}\n"));
        }
    }
    out
}

/// What `kuaibao sources discover` prints.
pub fn columns_text(columns: &[Column]) -> String {
    if columns.is_empty() {
        return "No column page with a news list found.\n".into();
    }
    let rows: Vec<Vec<String>> = columns
        .iter()
        .map(|c| {
            vec![
                format!("{:.2}", c.score),
                clip(&c.name, 12),
                format!("{}/{}", c.dated, c.items),
                c.newest
                    .as_deref()
                    .map_or("-".into(), |d| short_time(Some(d))),
                clip(c.newest_title.as_deref().unwrap_or("-"), 30),
                c.url.clone(),
            ]
        })
        .collect();
    table(
        &["SCORE", "COLUMN", "DATED", "NEWEST", "NEWEST TITLE", "URL"],
        &rows,
    )
}

/// What `kuaibao sources heal` prints for one source: its state, and for a
/// repair the old and new selectors side by side with the evidence.
pub fn examination_text(e: &Examination) -> String {
    let state = match (&e.health, e.articles_ok, &e.repair) {
        (ListHealth::Healthy, Some(true) | None, None) => "healthy".to_string(),
        (ListHealth::NoList { reason }, _, _) => format!("not repaired: {reason}"),
        (
            ListHealth::Broken {
                found,
                known_on_page,
            },
            _,
            _,
        ) => format!(
            "list broken: the selectors find {found} of the {known_on_page} stored articles the page links to"
        ),
        (ListHealth::Healthy, _, Some(r)) if r.what == "list date" => {
            "list dates broken: the date selector dates none of the items".to_string()
        }
        (ListHealth::Healthy, _, _) => {
            "article pages broken: the selectors no longer give the stored text back".to_string()
        }
    };
    let mut out = format!("{}  {state}\n", e.source_id);
    if let Some(err) = &e.error {
        out.push_str(&format!("  no repair: {err}\n"));
    }
    let Some(r) = &e.repair else {
        out.push('\n');
        return out;
    };
    let verdict = if r.passed {
        "passed".to_string()
    } else {
        format!(
            "needs a person: {}",
            r.reason.as_deref().unwrap_or("weak evidence")
        )
    };
    out.push_str(&format!(
        "  repair of the {} selectors, confidence {:.2}: {verdict}\n  evidence: {} of {} stored articles on the page found again; {} of {} re-read articles gave their stored text back; {} items\n",
        r.what,
        r.confidence,
        r.evidence.found_again,
        r.evidence.known_on_page,
        r.evidence.articles_matching,
        r.evidence.articles_checked,
        r.evidence.items
    ));
    for note in &r.evidence.notes {
        out.push_str(&format!("  note: {note}\n"));
    }
    let old: Vec<&str> = r
        .old_toml
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let new: Vec<&str> = r
        .new_toml
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let rows: Vec<Vec<String>> = (0..old.len().max(new.len()))
        .map(|i| {
            let (a, b) = (
                old.get(i).copied().unwrap_or(""),
                new.get(i).copied().unwrap_or(""),
            );
            vec![
                if a == b { " ".into() } else { "*".into() },
                a.to_string(),
                b.to_string(),
            ]
        })
        .collect();
    out.push_str(&table(&["", "BEFORE", "AFTER"], &rows));
    out.push('\n');
    out
}

fn clip(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(chars - 1).collect();
        s.push('…');
        s
    }
}

/// `2025-06-20T10:30:00+08:00` → `2025-06-20 10:30`.
fn short_time(t: Option<&str>) -> String {
    match t {
        Some(t) if t.len() >= 16 => t[..16].replace('T', " "),
        Some(t) => t.to_string(),
        None => "-".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poll_table_says_what_was_done_about_broken_selectors() {
        let mut r = SourceReport::new(
            &crate::config::parse_sources(
                std::path::Path::new("s.toml"),
                "[[source]]\nid = \"gd\"\nname = \"广东\"\nurl = \"https://hrss.gd.gov.cn/\"\nkind = \"feed\"\n",
                std::time::Duration::from_secs(60),
                &[],
            )
            .expect("source")[0],
            crate::poll::PollStatus::Ok,
        );
        r.repair = Some("list selectors repaired and written to sources.toml".into());
        assert!(poll_table(&[r]).contains("list selectors repaired"));
    }

    #[test]
    fn the_poll_table_counts_new_items_that_are_maybe_or_off_topic() {
        let source = &crate::config::parse_sources(
            std::path::Path::new("s.toml"),
            "[[source]]\nid = \"gd\"\nname = \"广东\"\nurl = \"https://hrss.gd.gov.cn/\"\nkind = \"feed\"\n",
            std::time::Duration::from_secs(60),
            &[],
        )
        .expect("source")[0];
        let row = |new, maybe, off_topic| {
            let mut r = SourceReport::new(source, crate::poll::PollStatus::Ok);
            (r.new, r.maybe, r.off_topic) = (new, maybe, off_topic);
            let table = poll_table(&[r]);
            table.lines().nth(1).unwrap_or_default().to_string()
        };
        assert_eq!(row(5, 0, 0).split_whitespace().nth(2), Some("5"));
        assert!(row(5, 2, 0).contains("5 (2 maybe)"));
        assert!(row(5, 0, 1).contains("5 (1 off-topic)"));
        assert!(row(5, 2, 1).contains("5 (2 maybe, 1 off-topic)"));
    }

    #[test]
    fn table_aligns_columns_by_display_width_of_chinese_text() {
        let out = table(
            &["ID", "NAME", "N"],
            &[
                vec!["a".into(), "人社部".into(), "1".into()],
                vec!["bb".into(), "xinhua".into(), "2".into()],
            ],
        );
        let lines: Vec<&str> = out.lines().collect();
        let col = |l: &str| l[..l.rfind(' ').map_or(0, |i| i + 1)].width();
        assert_eq!(col(lines[1]), col(lines[2]));
    }

    #[test]
    fn an_audit_entry_with_a_newline_prints_as_one_row() {
        let record = AuditRecord {
            id: 1,
            at: "2025-06-20T10:30:00+08:00".into(),
            user_name: "alice".into(),
            action: "title".into(),
            item_id: Some(7),
            story_id: Some(7),
            before: None,
            after: Some("新标题\n2025-06-20 10:31:00  root  approve".into()),
            detail: Some("x\r\ny".into()),
        };
        let out = audit_table(&[record]);
        assert_eq!(out.lines().count(), 2, "{out}");
        assert!(out.contains("新标题\\n2025"), "{out}");
    }

    #[test]
    fn truncate_respects_double_width_characters() {
        let t = truncate("人力资源社会保障部印发通知", 10);
        assert!(t.width() <= 10, "{t}");
        assert!(t.ends_with('…'));
    }
}

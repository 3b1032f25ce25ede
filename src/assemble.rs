//! Assemble, layer 5 (orchestration, above bulletin and publish): makes
//! issues. After review, approved stories become one issue (期) of 信息快报:
//! drafted, edited by an editor, published, and exported as the documents
//! the society circulates.
//!
//! What the `kuaibao issue …` commands, `kuaibao publish` and the HTTP
//! server do with issues, between the configuration, the store
//! ([`Store::create_issue`] and friends keep the issues) and the renderer
//! ([`crate::bulletin`] lays one out). `main.rs` only parses and prints.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate};

use crate::bulletin::{
    IssueArticle, IssueDoc, IssueSection, paragraphs_from_html, to_docx, to_html, to_markdown,
    to_text,
};
use crate::config::Config;
use crate::publish::{DOCX_TYPE, PublishedIssue};
use crate::store::{
    IssueDetail, IssueEdits, IssueInfo, IssueStatus, Store, StoreError, UNSECTIONED_ID,
    UNSECTIONED_NAME, section_rank,
};

/// Why an issue could not be drafted, edited or rendered.
#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Bulletin(#[from] crate::bulletin::BulletinError),
}

/// The configured section ids in bulletin order: the order an issue
/// prints its sections in.
pub fn section_ids(config: &Config) -> Vec<String> {
    config.sections.iter().map(|s| s.id.clone()).collect()
}

/// The configured sections as `(id, name)`, in bulletin order.
pub fn section_names(config: &Config) -> Vec<(String, String)> {
    config
        .sections
        .iter()
        .map(|s| (s.id.clone(), s.name.clone()))
        .collect()
}

/// Today in Beijing: the default date of a new issue.
pub fn today() -> NaiveDate {
    crate::time::today()
}

/// Drafts issue `number` with every approved story no other issue holds;
/// returns it with its stories in print order.
pub fn new_issue(
    config: &Config,
    store: &mut Store,
    number: &str,
    date: NaiveDate,
) -> Result<IssueDetail, AssembleError> {
    let sections = section_ids(config);
    store.create_issue(number, date, &sections)?;
    Ok(store.issue(number, &sections)?)
}

/// One issue with its stories in print order.
pub fn show_issue(
    config: &Config,
    store: &Store,
    number: &str,
) -> Result<IssueDetail, AssembleError> {
    Ok(store.issue(number, &section_ids(config))?)
}

/// Applies `edits` to a draft, all or none; returns the edited issue.
pub fn edit_issue(
    config: &Config,
    store: &mut Store,
    number: &str,
    edits: &IssueEdits,
) -> Result<IssueDetail, AssembleError> {
    Ok(store.edit_issue(number, edits, &section_ids(config))?)
}

/// The issue as the renderer takes it, with the configured society and
/// sections.
///
/// Each section (in bulletin order) holds its stories in order; the title is
/// the bulletin title, the paragraphs come from the primary item's HTML.
/// Stories whose section is not configured print last, under
/// [`UNSECTIONED_NAME`].
pub fn issue_doc(config: &Config, store: &Store, number: &str) -> Result<IssueDoc, StoreError> {
    let sections = section_names(config);
    let ids: Vec<String> = sections.iter().map(|(id, _)| id.clone()).collect();
    let detail = store.issue(number, &ids)?;
    let mut doc_sections: Vec<IssueSection> = sections
        .iter()
        .map(|(id, name)| IssueSection {
            id: id.clone(),
            name: name.clone(),
            articles: Vec::new(),
        })
        .collect();
    for e in &detail.entries {
        let article = IssueArticle {
            title: e.title.clone(),
            paragraphs: paragraphs_from_html(&store.item_html(e.item_id)?),
            origin: e.origin.clone(),
            url: Some(e.url.clone()).filter(|u| !u.trim().is_empty()),
        };
        let rank = section_rank(&ids, e.section.as_deref());
        match doc_sections.get_mut(rank) {
            Some(s) => s.articles.push(article),
            None => {
                if doc_sections.len() == sections.len() {
                    doc_sections.push(IssueSection {
                        id: UNSECTIONED_ID.into(),
                        name: UNSECTIONED_NAME.into(),
                        articles: Vec::new(),
                    });
                }
                if let Some(last) = doc_sections.last_mut() {
                    last.articles.push(article);
                }
            }
        }
    }
    Ok(IssueDoc {
        society: config.society.clone(),
        number: detail.info.number,
        date: detail.info.date,
        sections: doc_sections,
    })
}

/// The formats an issue is exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Html,
    Docx,
    Markdown,
    Text,
}

impl ExportFormat {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Html => "html",
            ExportFormat::Docx => "docx",
            ExportFormat::Markdown => "md",
            ExportFormat::Text => "txt",
        }
    }

    /// The `Content-Type` it is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Html => "text/html; charset=utf-8",
            ExportFormat::Docx => DOCX_TYPE,
            ExportFormat::Markdown => "text/markdown; charset=utf-8",
            ExportFormat::Text => "text/plain; charset=utf-8",
        }
    }

    /// Whether it is text a terminal can show (not a zip archive).
    pub fn is_text(self) -> bool {
        self != ExportFormat::Docx
    }
}

impl FromStr for ExportFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<ExportFormat, String> {
        match s.to_ascii_lowercase().as_str() {
            "html" | "htm" => Ok(ExportFormat::Html),
            "docx" | "word" => Ok(ExportFormat::Docx),
            "markdown" | "md" => Ok(ExportFormat::Markdown),
            "text" | "txt" => Ok(ExportFormat::Text),
            other => Err(format!(
                "unknown format \"{other}\": expected html, docx, markdown or text"
            )),
        }
    }
}

/// `doc` rendered as `format`.
pub fn render(doc: &IssueDoc, format: ExportFormat) -> Result<Vec<u8>, AssembleError> {
    Ok(match format {
        ExportFormat::Html => to_html(doc).into_bytes(),
        ExportFormat::Docx => to_docx(doc)?,
        ExportFormat::Markdown => to_markdown(doc).into_bytes(),
        ExportFormat::Text => to_text(doc).into_bytes(),
    })
}

/// Issue `number` (draft or published: an editor proofreads the draft's
/// Word file before publishing) rendered as `format`.
pub fn export_issue(
    config: &Config,
    store: &Store,
    number: &str,
    format: ExportFormat,
) -> Result<Vec<u8>, AssembleError> {
    render(&issue_doc(config, store, number)?, format)
}

/// The default file name of an export: `kuaibao-202509.docx`.
pub fn export_file_name(number: &str, format: ExportFormat) -> String {
    format!("kuaibao-{number}.{}", format.extension())
}

fn parse_time(s: &str) -> Option<DateTime<chrono::FixedOffset>> {
    DateTime::parse_from_rfc3339(s).ok()
}

/// A published issue laid out for the feed and the server; `None` for a
/// draft.
fn published(
    config: &Config,
    store: &Store,
    info: &IssueInfo,
) -> Result<Option<PublishedIssue>, StoreError> {
    if info.status != IssueStatus::Published {
        return Ok(None);
    }
    let detail = store.issue(&info.number, &section_ids(config))?;
    let doc = issue_doc(config, store, &info.number)?;
    let published = info
        .published_at
        .as_deref()
        .and_then(parse_time)
        .or_else(|| parse_time(&info.updated_at))
        .unwrap_or_else(crate::time::now);
    // An article corrected at its outlet after publication changes what
    // the issue shows, so the entry is as new as its newest article.
    let updated = detail
        .entries
        .iter()
        .filter_map(|e| parse_time(&e.updated_at))
        .chain(parse_time(&info.updated_at))
        .max()
        .map_or(published, |u| u.max(published));
    Ok(Some(PublishedIssue {
        doc,
        published,
        updated,
    }))
}

/// Every published issue, newest number first.
pub fn published_issues(config: &Config, store: &Store) -> Result<Vec<PublishedIssue>, StoreError> {
    let mut out = Vec::new();
    for info in store.issues()? {
        if let Some(p) = published(config, store, &info)? {
            out.push(p);
        }
    }
    Ok(out)
}

/// Issue `number` if it is published; `None` for a draft or an unknown
/// number (neither is served).
pub fn published_issue(
    config: &Config,
    store: &Store,
    number: &str,
) -> Result<Option<PublishedIssue>, StoreError> {
    let info = match store.issue(number, &[]) {
        Ok(detail) => detail.info,
        Err(StoreError::NoSuchIssue(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    published(config, store, &info)
}

/// `issue list` as a table.
pub fn issues_table(issues: &[IssueInfo]) -> String {
    let rows: Vec<Vec<String>> = issues
        .iter()
        .map(|i| {
            vec![
                i.number.clone(),
                i.date.to_string(),
                i.status.as_str().into(),
                i.stories.to_string(),
                i.published_at
                    .as_deref()
                    .map_or("-".into(), |p| p.get(..16).unwrap_or(p).replace('T', " ")),
            ]
        })
        .collect();
    crate::report::table(&["NUMBER", "DATE", "STATUS", "STORIES", "PUBLISHED"], &rows)
}

/// An issue as `issue show` prints it: a heading line, then its table of
/// contents with each story's position and id, the section named on its
/// first story. A story that is no longer approved is flagged: the issue
/// cannot be published with it.
pub fn contents_text(config: &Config, detail: &IssueDetail) -> String {
    let info = &detail.info;
    let mut out = format!(
        "第 {} 期  {}  {}  {} stories\n",
        info.number,
        info.date,
        info.status.as_str(),
        detail.entries.len()
    );
    if detail.entries.is_empty() {
        out.push_str(
            "\n(no stories: add approved ones with `kuaibao issue edit NUMBER --add STORY`)\n",
        );
        return out;
    }
    let mut rows = Vec::new();
    let mut last_section: Option<Option<&str>> = None;
    for e in &detail.entries {
        let section = e.section.as_deref();
        let name = if last_section == Some(section) {
            String::new()
        } else {
            section
                .and_then(|id| config.section(id))
                .map_or_else(|| UNSECTIONED_NAME.to_string(), |s| s.name.clone())
        };
        last_section = Some(section);
        let mut title = crate::report::truncate(&e.title, 48);
        if e.status != crate::store::Status::Approved {
            title.push_str(&format!("  [{}]", e.status.as_str()));
        }
        rows.push(vec![
            e.position.to_string(),
            e.story_id.to_string(),
            name,
            title,
            crate::report::truncate(&e.origin, 20),
            e.published
                .as_deref()
                .map_or("-".into(), |p| p.get(..10).unwrap_or(p).to_string()),
        ]);
    }
    out.push('\n');
    out.push_str(&crate::report::table(
        &["POS", "STORY", "SECTION", "TITLE", "来源", "DATE"],
        &rows,
    ));
    out
}

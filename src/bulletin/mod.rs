//! Bulletin, layer 5 (renderers, below publish): lays out one issue (期) of
//! 信息快报. Where the feeds carry articles one at a time, an issue gathers
//! an editor's picks ([`crate::assemble`] composes it, [`crate::publish`]
//! serves its HTML on the issue pages) and this module lays it out for
//! print and circulation, the way
//! the printed bulletin looks: masthead, 目录, then each section's articles,
//! each ending with `来源：<outlet>`.
//!
//! It is pure rendering: an [`IssueDoc`] in, a document out, no I/O. One
//! file per output format — [`to_text`] (the plain layout of the printed
//! issue), [`to_markdown`], [`to_html`] (screen and A4 print) and [`to_docx`]
//! (the Word file the society circulates) — so that the formats agree on
//! order and wording, they all read the issue through the helpers here.

mod docx;
mod html;
mod markdown;
mod paragraphs;
mod text;

pub use docx::to_docx;
pub use html::{to_html, to_html_fragment, to_html_page};
pub use markdown::to_markdown;
pub use paragraphs::paragraphs_from_html;
pub use text::to_text;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// One issue (期) of the bulletin, as an editor assembled it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssueDoc {
    /// The society that hosts the bulletin, e.g. `南京人力资源和社会保障学会`.
    pub society: String,
    /// The issue number as printed, e.g. `202509`.
    pub number: String,
    /// The issue date.
    pub date: NaiveDate,
    /// Sections in print order; empty ones are left out of every rendering.
    pub sections: Vec<IssueSection>,
}

/// One section of an issue (最新关注, 各地动态, …).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssueSection {
    /// The section's stable id from `sections.toml`, e.g. `focus`.
    pub id: String,
    /// What readers see, e.g. `最新关注`.
    pub name: String,
    /// Articles in print order.
    pub articles: Vec<IssueArticle>,
}

/// One article as the bulletin prints it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssueArticle {
    /// The title as printed (regional ones as `地区：…`).
    pub title: String,
    /// Plain-text paragraphs; see [`paragraphs_from_html`] for article HTML.
    pub paragraphs: Vec<String>,
    /// The outlet credited in the closing `来源：` line.
    pub origin: String,
    /// Where the article was published; linked where the format allows.
    pub url: Option<String>,
}

/// What can go wrong while exporting an issue.
#[derive(Debug, thiserror::Error)]
pub enum BulletinError {
    /// Packing the Word document (a zip archive) failed.
    #[error("could not write the .docx package")]
    Docx(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The date as the bulletin prints it: `2025 年 6 月 20 日`, with spaces
/// around the numbers and no leading zeros.
pub fn date_line(date: NaiveDate) -> String {
    format!("{} 年 {} 月 {} 日", date.year(), date.month(), date.day())
}

/// The big word of the masthead.
pub(crate) const MASTHEAD: &str = "快报";
/// The heading of the table of contents.
pub(crate) const TOC_HEADING: &str = "目录";

impl IssueDoc {
    /// The line above the masthead: `南京人力资源和社会保障学会信息`.
    pub fn society_line(&self) -> String {
        format!("{}信息", one_line(&self.society))
    }

    /// `(第 202509 期)`, ASCII parentheses as the printed issue has them.
    pub fn number_line(&self) -> String {
        format!("(第 {} 期)", one_line(&self.number))
    }

    /// `南京人力资源和社会保障学会主办`.
    pub fn host_line(&self) -> String {
        format!("{}主办", one_line(&self.society))
    }

    /// The title of the whole issue, for a document title or file metadata:
    /// `南京人力资源和社会保障学会信息快报 第 202509 期`.
    pub fn issue_title(&self) -> String {
        format!(
            "{}{MASTHEAD} 第 {} 期",
            self.society_line(),
            one_line(&self.number)
        )
    }

    /// The sections that get printed: those with at least one article. An
    /// empty section would leave a bare heading in 目录 and body.
    pub fn printed_sections(&self) -> impl Iterator<Item = &IssueSection> {
        self.sections.iter().filter(|s| !s.articles.is_empty())
    }
}

impl IssueArticle {
    /// The `来源：<outlet>` line that closes the article.
    pub fn origin_line(&self) -> String {
        format!("来源：{}", one_line(&self.origin))
    }

    /// The paragraphs that get printed, each on one line: a stray newline
    /// inside one would break the plain and Markdown layouts into blocks the
    /// reader would take for separate paragraphs, and a blank one would print
    /// as a gap.
    pub(crate) fn printed_paragraphs(&self) -> impl Iterator<Item = String> + '_ {
        self.paragraphs
            .iter()
            .map(|p| one_line(p))
            .filter(|p| !p.is_empty())
    }
}

/// `text` as one printed line: line breaks become spaces and the ends are
/// trimmed of every kind of whitespace (including the full-width spaces that
/// editors type as a manual indent, which every format here adds itself).
/// Inner spacing is the editor's and is kept.
pub(crate) fn one_line(text: &str) -> String {
    let joined: String = text
        .chars()
        .map(|c| if matches!(c, '\n' | '\r') { ' ' } else { c })
        .collect();
    joined.trim_matches(crate::text::is_space).to_string()
}

/// `url` when it is an absolute http(s) URL: a `javascript:` or relative one
/// must not become a link in a document that is mailed around.
pub(crate) fn web_url(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> IssueDoc {
        IssueDoc {
            society: "南京人力资源和社会保障学会".into(),
            number: "202509".into(),
            date: NaiveDate::from_ymd_opt(2025, 6, 20).expect("valid date"),
            sections: vec![
                IssueSection {
                    id: "focus".into(),
                    name: "最新关注".into(),
                    articles: vec![],
                },
                IssueSection {
                    id: "abroad".into(),
                    name: "他山之石".into(),
                    articles: vec![IssueArticle {
                        title: "标题".into(),
                        paragraphs: vec!["\u{3000}\u{3000}第一段\n续".into(), " ".into()],
                        origin: "新华社".into(),
                        url: None,
                    }],
                },
            ],
        }
    }

    #[test]
    fn only_absolute_web_urls_become_links() {
        assert_eq!(
            web_url(" https://www.mohrss.gov.cn/a.html ").as_deref(),
            Some("https://www.mohrss.gov.cn/a.html")
        );
        assert_eq!(web_url("javascript:alert(1)"), None);
        assert_eq!(web_url("/a.html"), None);
    }

    #[test]
    fn date_line_spaces_the_numbers_without_leading_zeros() {
        let d = NaiveDate::from_ymd_opt(2025, 6, 20).expect("valid date");
        assert_eq!(date_line(d), "2025 年 6 月 20 日");
        let d = NaiveDate::from_ymd_opt(2025, 12, 1).expect("valid date");
        assert_eq!(date_line(d), "2025 年 12 月 1 日");
    }

    #[test]
    fn header_lines_read_as_the_printed_issue() {
        let d = doc();
        assert_eq!(d.society_line(), "南京人力资源和社会保障学会信息");
        assert_eq!(d.number_line(), "(第 202509 期)");
        assert_eq!(d.host_line(), "南京人力资源和社会保障学会主办");
        assert_eq!(
            d.issue_title(),
            "南京人力资源和社会保障学会信息快报 第 202509 期"
        );
    }

    #[test]
    fn empty_sections_and_blank_paragraphs_are_not_printed() {
        let d = doc();
        let names: Vec<&str> = d.printed_sections().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["他山之石"]);
        let a = &d.sections[1].articles[0];
        let paragraphs: Vec<String> = a.printed_paragraphs().collect();
        assert_eq!(paragraphs, ["第一段 续"]);
        assert_eq!(a.origin_line(), "来源：新华社");
    }
}

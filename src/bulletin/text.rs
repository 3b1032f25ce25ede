//! Plain-text export of an issue: the bulletin's simplest output, laid out
//! like the text of the printed 信息快报 (masthead, 目录, then the articles),
//! one block per line and a blank line between blocks. It is what an editor
//! pastes into a mail or a WeChat message, and what the other formats are
//! checked against.

use super::{IssueDoc, MASTHEAD, TOC_HEADING, date_line, one_line};

/// The issue as plain text: every block (header line, section name, title,
/// paragraph, `来源：` line) on a line of its own, blocks separated by one
/// blank line as in the printed issue's text, ending with a newline.
pub fn to_text(doc: &IssueDoc) -> String {
    let mut blocks: Vec<String> = vec![
        doc.society_line(),
        MASTHEAD.to_string(),
        doc.number_line(),
        doc.host_line(),
        date_line(doc.date),
        TOC_HEADING.to_string(),
    ];
    for section in doc.printed_sections() {
        blocks.push(one_line(&section.name));
        blocks.extend(section.articles.iter().map(|a| one_line(&a.title)));
    }
    for section in doc.printed_sections() {
        blocks.push(one_line(&section.name));
        for article in &section.articles {
            blocks.push(one_line(&article.title));
            blocks.extend(article.printed_paragraphs());
            blocks.push(article.origin_line());
        }
    }
    let mut out = blocks.join("\n\n");
    out.push('\n');
    out
}

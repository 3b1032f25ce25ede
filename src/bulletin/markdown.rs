//! Markdown export of an issue: the bulletin's output for places that
//! render Markdown (a repository, a wiki, a chat), with the printed
//! bulletin's structure kept as headings: the masthead, `## 目录`, one `##`
//! per section and one `###` per article, each article ending with its
//! `来源：` line.

use super::{IssueDoc, MASTHEAD, TOC_HEADING, date_line, one_line};

/// The issue as CommonMark. Text is escaped so that a title or paragraph
/// can never turn into markup (a `*` in a title stays a `*`).
pub fn to_markdown(doc: &IssueDoc) -> String {
    let mut blocks: Vec<String> = vec![
        escape(&doc.society_line()),
        format!("# {MASTHEAD}"),
        escape(&doc.number_line()),
        escape(&doc.host_line()),
        escape(&date_line(doc.date)),
        // A thematic break, the printed issue's rule under the masthead.
        "---".to_string(),
        format!("## {TOC_HEADING}"),
    ];
    for section in doc.printed_sections() {
        blocks.push(format!("**{}**", escape(&one_line(&section.name))));
        let list: Vec<String> = section
            .articles
            .iter()
            .map(|a| format!("- {}", escape(&one_line(&a.title))))
            .collect();
        blocks.push(list.join("\n"));
    }
    for section in doc.printed_sections() {
        blocks.push(format!("## {}", escape(&one_line(&section.name))));
        for article in &section.articles {
            blocks.push(format!("### {}", escape(&one_line(&article.title))));
            blocks.extend(article.printed_paragraphs().map(|p| escape(&p)));
            blocks.push(origin_line(&article.origin, article.url.as_deref()));
        }
    }
    let mut out = blocks.join("\n\n");
    out.push('\n');
    out
}

/// `来源：<outlet>`, the outlet linked to the article when its URL is known.
fn origin_line(origin: &str, url: Option<&str>) -> String {
    let origin = escape(&one_line(origin));
    match url.map(str::trim).filter(|u| !u.is_empty()) {
        // `<…>` lets the destination hold spaces and parentheses; the
        // characters that would still end it early are percent-encoded.
        Some(url) => {
            let dest = url.replace('<', "%3C").replace('>', "%3E");
            format!("来源：[{origin}](<{dest}>)")
        }
        None => format!("来源：{origin}"),
    }
}

/// Backslash-escapes what CommonMark would read as markup: inline
/// punctuation anywhere, and what starts a heading, list, quote or break at
/// the beginning of a line. Chinese punctuation is full-width and needs none.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '&' | '|' | '~' | '!'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    // `- item`, `+ item`, `= ` setext underline, `1. item` / `1) item`.
    if out.starts_with(['-', '+', '=']) {
        out.insert(0, '\\');
    } else {
        let digits = out.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 && out[digits..].starts_with(['.', ')']) {
            out.insert(digits, '\\');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_are_escaped_and_chinese_text_is_left_alone() {
        assert_eq!(escape("政策“组合拳”"), "政策“组合拳”");
        assert_eq!(escape("a*b_<c>"), "a\\*b\\_\\<c\\>");
        assert_eq!(escape("# 标题"), "\\# 标题");
        assert_eq!(escape("- 一项"), "\\- 一项");
        assert_eq!(escape("2025. 年"), "2025\\. 年");
        assert_eq!(escape("2025 年"), "2025 年");
    }

    #[test]
    fn origin_links_to_the_article_when_its_url_is_known() {
        assert_eq!(origin_line("新华社", None), "来源：新华社");
        assert_eq!(
            origin_line("新华社", Some("https://example.org/a b>")),
            "来源：[新华社](<https://example.org/a b%3E>)"
        );
    }
}

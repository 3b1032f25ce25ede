//! The bulletin exporter, the last stage: the demo's sample articles make up
//! 信息快报 第 202509 期 again, and every export format must lay it out as the
//! printed issue does (tests/bulletin/bulletin-202509.txt, the text of the
//! real issue): masthead, 目录, then each section's articles in order, each
//! ending with its `来源：` line.

use crate::common;

use std::io::Read;
use std::path::Path;
use std::process::Command;

use chrono::NaiveDate;
use kuaibao::bulletin::{
    IssueArticle, IssueDoc, IssueSection, date_line, paragraphs_from_html, to_docx, to_html,
    to_markdown, to_text,
};
use kuaibao::demo::sample_articles;

/// The printed issue's text, as extracted from its PDF.
const PRINTED: &str = include_str!("bulletin/bulletin-202509.txt");

/// Section ids and names as config/sections.toml has them, in print order.
const SECTIONS: [(&str, &str); 4] = [
    ("focus", "最新关注"),
    ("regional", "各地动态"),
    ("opinion", "一家之言"),
    ("abroad", "他山之石"),
];

/// 第 202509 期 from the demo's sample articles, filed by section.
fn sample_issue() -> IssueDoc {
    let articles = sample_articles();
    let sections = SECTIONS
        .iter()
        .map(|(id, name)| IssueSection {
            id: id.to_string(),
            name: name.to_string(),
            articles: articles
                .iter()
                .filter(|a| a.section == *id)
                .map(|a| IssueArticle {
                    title: a.title.clone(),
                    paragraphs: a.paragraphs.clone(),
                    origin: a.origin.clone(),
                    url: None,
                })
                .collect(),
        })
        .collect();
    IssueDoc {
        society: "南京人力资源和社会保障学会".into(),
        number: "202509".into(),
        date: NaiveDate::from_ymd_opt(2025, 6, 20).expect("valid date"),
        sections,
    }
}

/// `(section name, title, 来源 line)` of every article, in print order.
fn articles_in_order(doc: &IssueDoc) -> Vec<(String, String, String)> {
    doc.sections
        .iter()
        .flat_map(|s| {
            s.articles.iter().map(|a| {
                (
                    s.name.clone(),
                    a.title.clone(),
                    format!("来源：{}", a.origin),
                )
            })
        })
        .collect()
}

/// Where each needle is found in `haystack`, searching each one after the
/// previous one's start; panics naming the first needle missing or out of
/// order.
fn positions_in_order(haystack: &str, needles: &[String]) -> Vec<usize> {
    let mut from = 0;
    needles
        .iter()
        .map(|needle| {
            let at = haystack[from..]
                .find(needle.as_str())
                .map(|i| from + i)
                .unwrap_or_else(|| panic!("{needle:?} is missing or out of order"));
            // Past this needle's start, not its end: needles framed by
            // line breaks share the one between them.
            from = at + needle.chars().next().map_or(0, char::len_utf8);
            at
        })
        .collect()
}

fn non_empty_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn the_sample_issue_has_ten_articles_in_four_sections() {
    let doc = sample_issue();
    let counts: Vec<usize> = doc.sections.iter().map(|s| s.articles.len()).collect();
    assert_eq!(counts, [2, 5, 2, 1]);
    assert_eq!(date_line(doc.date), "2025 年 6 月 20 日");
}

// --- plain text -----------------------------------------------------------

#[test]
fn text_export_opens_with_the_masthead_and_table_of_contents_of_the_printed_issue() {
    let printed = non_empty_lines(PRINTED);
    // The printed 目录 ends where the body starts: at the first article's
    // title, printed a second time.
    let first_title = &printed[printed.iter().position(|l| l == "目录").expect("目录") + 2];
    let body_start = printed
        .iter()
        .enumerate()
        .filter(|(_, l)| *l == first_title)
        .nth(1)
        .map(|(i, _)| i)
        .expect("the first title is printed twice");
    let printed_toc = &printed[..body_start];
    assert_eq!(printed_toc[0], "南京人力资源和社会保障学会信息");
    // 5 masthead lines, 目录, 4 section names and 10 titles.
    assert_eq!(printed_toc.len(), 20, "the printed 目录 part as read");

    let exported = non_empty_lines(&to_text(&sample_issue()));
    assert_eq!(&exported[..printed_toc.len()], printed_toc);
}

#[test]
fn text_export_holds_every_line_of_the_printed_issue_in_order() {
    let exported = to_text(&sample_issue());
    // The PDF's text breaks long paragraphs where the page did; each piece
    // is still found, in order, inside the joined paragraph.
    positions_in_order(&exported, &non_empty_lines(PRINTED));
}

#[test]
fn text_export_separates_blocks_by_one_blank_line_as_the_printed_issue() {
    let exported = to_text(&sample_issue());
    assert!(exported.starts_with("南京人力资源和社会保障学会信息\n\n快报\n\n(第 202509 期)\n\n"));
    assert!(exported.contains("\n\n2025 年 6 月 20 日\n\n目录\n\n最新关注\n\n"));
    assert!(exported.ends_with("\n\n来源：中国新闻网\n"));
    assert!(
        !exported.contains("\n\n\n"),
        "never two blank lines in a row"
    );
    assert!(PRINTED.contains("\n\n目录\n\n最新关注\n\n"));
}

// --- Markdown -------------------------------------------------------------

#[test]
fn markdown_export_lists_every_title_in_the_contents_and_the_body_in_section_order() {
    let doc = sample_issue();
    let md = to_markdown(&doc);
    let toc_at = md.find("\n## 目录\n").expect("## 目录");
    let body_at = md.find("\n## 最新关注\n").expect("## 最新关注 in the body");
    assert!(toc_at < body_at);
    for line in [
        "南京人力资源和社会保障学会信息",
        "# 快报",
        "(第 202509 期)",
        "南京人力资源和社会保障学会主办",
        "2025 年 6 月 20 日",
    ] {
        assert!(md[..toc_at].lines().any(|l| l == line), "{line}");
    }

    let (toc, body) = (&md[toc_at..body_at], &md[body_at..]);
    let mut toc_needles = Vec::new();
    let mut body_needles = Vec::new();
    let mut last_section = String::new();
    for (section, title, _) in articles_in_order(&doc) {
        if section != last_section {
            toc_needles.push(format!("\n**{section}**\n"));
            body_needles.push(format!("\n## {section}\n"));
            last_section = section;
        }
        toc_needles.push(format!("\n- {title}\n"));
        body_needles.push(format!("\n### {title}\n"));
    }
    positions_in_order(toc, &toc_needles);
    positions_in_order(body, &body_needles);
}

#[test]
fn markdown_export_ends_every_article_with_its_source_line() {
    let doc = sample_issue();
    let md = to_markdown(&doc);
    let blocks: Vec<&str> = md.split("\n\n").map(str::trim).collect();
    for (_, title, origin_line) in articles_in_order(&doc) {
        let start = blocks
            .iter()
            .position(|b| *b == format!("### {title}"))
            .expect("the article's heading");
        let end = blocks[start + 1..]
            .iter()
            .position(|b| b.starts_with('#'))
            .map_or(blocks.len(), |i| start + 1 + i);
        assert_eq!(blocks[end - 1], origin_line, "{title}");
        assert!(end - start > 2, "{title} has paragraphs");
    }
}

// --- HTML -----------------------------------------------------------------

#[test]
fn html_export_is_a_chinese_html5_document_with_a4_print_rules() {
    let html = to_html(&sample_issue());
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"zh-CN\">"));
    assert!(html.contains("<meta charset=\"utf-8\">"));
    assert!(html.contains("@page { size: A4;"));
    assert!(html.contains("@media print"));
    assert!(
        html.contains("break-before: page"),
        "the body starts a page"
    );
    assert!(html.contains("\"SimSun\"") && html.contains("\"SimHei\""));
    assert!(html.contains("\"Noto Serif CJK SC\"") && html.contains("\"Noto Sans CJK SC\""));
    assert!(html.contains("<h1>快报</h1>"));
    assert!(html.contains("<time datetime=\"2025-06-20\">2025 年 6 月 20 日</time>"));
}

#[test]
fn html_export_holds_titles_and_source_lines_in_order_and_links_contents_to_them() {
    let doc = sample_issue();
    let html = to_html(&doc);
    let body_at = html.find("<div class=\"content\">").expect("body");
    let (toc, body) = html.split_at(body_at);
    let mut toc_needles = Vec::new();
    let mut body_needles = Vec::new();
    let mut last_section = String::new();
    for (section, title, origin_line) in articles_in_order(&doc) {
        if section != last_section {
            toc_needles.push(format!(">{section}</a>"));
            body_needles.push(format!("<h2>{section}</h2>"));
            last_section = section;
        }
        toc_needles.push(format!(">{title}</a>"));
        body_needles.push(format!("<h3>{title}</h3>"));
        body_needles.push(format!("<p class=\"origin\">{origin_line}</p>"));
    }
    positions_in_order(toc, &toc_needles);
    positions_in_order(body, &body_needles);

    // Every 目录 link has its target.
    for href in toc.split("href=\"#").skip(1) {
        let id = &href[..href.find('"').expect("closing quote")];
        assert!(
            body.contains(&format!(" id=\"{id}\"")),
            "#{id} has no target"
        );
    }
}

#[test]
fn html_export_escapes_text_and_links_only_web_urls() {
    let mut doc = sample_issue();
    doc.sections[0].articles[0].title = "<script>alert(1)</script> A&B".into();
    doc.sections[0].articles[0].url = Some("https://www.mohrss.gov.cn/a?x=1&y=2".into());
    doc.sections[0].articles[1].url = Some("javascript:alert(1)".into());
    let html = to_html(&doc);
    assert!(!html.contains("<script>"));
    // Once in 目录 and once as the heading, escaped both times.
    assert_eq!(
        html.matches("&lt;script&gt;alert(1)&lt;/script&gt; A&amp;B")
            .count(),
        2
    );
    assert!(html.contains("来源：<a href=\"https://www.mohrss.gov.cn/a?x=1&amp;y=2\">"));
    assert!(!html.contains("javascript:"));
}

// --- Word -----------------------------------------------------------------

/// `word/document.xml` of a .docx.
fn document_xml(docx: &[u8]) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(docx)).expect("a zip archive");
    let mut xml = String::new();
    archive
        .by_name("word/document.xml")
        .expect("word/document.xml")
        .read_to_string(&mut xml)
        .expect("UTF-8 XML");
    xml
}

/// The text of each paragraph (`w:p`) of a WordprocessingML body: its text
/// runs (`w:t`) concatenated, tags stripped, entities decoded.
fn paragraph_texts(xml: &str) -> Vec<String> {
    // `<w:p/>` is an empty paragraph; `<w:pPr>` is not a paragraph.
    let paragraph = regex::Regex::new(r"(?s)<w:p(?:\s[^>]*?)?(?:/>|>(.*?)</w:p>)").expect("regex");
    let run_text = regex::Regex::new(r"(?s)<w:t(?:\s[^>]*)?>(.*?)</w:t>").expect("regex");
    paragraph
        .captures_iter(xml)
        .map(|p| {
            let inner = p.get(1).map_or("", |m| m.as_str());
            run_text
                .captures_iter(inner)
                .map(|t| unescape_xml(&t[1]))
                .collect()
        })
        .collect()
}

fn unescape_xml(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[test]
fn docx_export_opens_and_holds_every_title_and_source_line_in_order() {
    let doc = sample_issue();
    let bytes = to_docx(&doc).expect("docx");
    let xml = document_xml(&bytes);
    let paragraphs = paragraph_texts(&xml);
    let text = paragraphs.join("\n");

    assert_eq!(
        &paragraphs[..6],
        [
            "南京人力资源和社会保障学会信息",
            "快报",
            "(第 202509 期)",
            "南京人力资源和社会保障学会主办",
            "2025 年 6 月 20 日",
            "",
        ],
        "the masthead, then the rule"
    );

    let toc_at = paragraphs.iter().position(|p| p == "目录").expect("目录");
    let mut needles = Vec::new();
    let mut last_section = String::new();
    for (section, title, _) in articles_in_order(&doc) {
        if section != last_section {
            needles.push(section.clone());
            last_section = section;
        }
        needles.push(title);
    }
    let toc: Vec<String> = paragraphs[toc_at + 1..toc_at + 1 + needles.len()].to_vec();
    assert_eq!(
        toc, needles,
        "目录 lists sections and titles, one a paragraph"
    );

    let body = paragraphs[toc_at + 1 + needles.len()..].join("\n");
    let mut body_needles = Vec::new();
    let mut last_section = String::new();
    for (section, title, origin_line) in articles_in_order(&doc) {
        if section != last_section {
            body_needles.push(format!("\n{section}\n"));
            last_section = section;
        }
        body_needles.push(format!("\n{title}\n"));
        body_needles.push(format!("\n{origin_line}\n"));
    }
    positions_in_order(&format!("\n{body}\n"), &body_needles);
    assert!(text.ends_with("来源：中国新闻网"));
}

#[test]
fn docx_export_is_a4_with_chinese_fonts_indented_paragraphs_and_the_body_on_a_new_page() {
    let xml = document_xml(&to_docx(&sample_issue()).expect("docx"));
    assert!(xml.contains(r#"<w:pgSz w:w="11906" w:h="16838""#), "A4");
    assert!(xml.contains(r#"w:eastAsia="宋体""#));
    assert!(xml.contains(r#"w:eastAsia="黑体""#));
    assert!(xml.contains(r#"w:firstLine="480""#), "two-character indent");
    assert_eq!(xml.matches("<w:pageBreakBefore").count(), 1);
    assert!(
        xml.contains(r#"<w:jc w:val="center" />"#) || xml.contains(r#"<w:jc w:val="center"/>"#)
    );
}

#[test]
fn docx_export_escapes_markup_in_text() {
    let mut doc = sample_issue();
    doc.sections[0].articles[0].title = "A<B & \"C\"".into();
    let xml = document_xml(&to_docx(&doc).expect("docx"));
    assert!(!xml.contains("A<B"));
    let paragraphs = paragraph_texts(&xml);
    assert_eq!(paragraphs.iter().filter(|p| *p == "A<B & \"C\"").count(), 2);
}

/// `soffice` on PATH, if any.
#[test]
fn docx_export_converts_to_pdf_with_libreoffice_when_it_is_installed() {
    let bytes = to_docx(&sample_issue()).expect("docx");
    let soffice = common::on_path("soffice");
    let Some(soffice) = soffice else {
        common::outside_program(
            "docx_export_converts_to_pdf_with_libreoffice_when_it_is_installed",
            false,
            "apt-get install libreoffice-writer-nogui",
        );
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("bulletin-202509.docx");
    std::fs::write(&input, &bytes).expect("write docx");
    // A profile of its own, so that a running LibreOffice or a locked
    // profile in $HOME cannot make the conversion fail or hang.
    let profile = format!("file://{}", dir.path().join("profile").display());
    let status = Command::new(soffice)
        .arg(format!("-env:UserInstallation={profile}"))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(dir.path())
        .arg(&input)
        .status()
        .expect("run soffice");
    assert!(status.success(), "soffice exited with {status}");
    let pdf: &Path = &dir.path().join("bulletin-202509.pdf");
    let size = std::fs::metadata(pdf).expect("the PDF exists").len();
    assert!(size > 1000, "the PDF is {size} bytes");
}

// --- all formats ----------------------------------------------------------

#[test]
fn sections_without_articles_appear_in_no_format() {
    let mut doc = sample_issue();
    doc.sections.insert(
        1,
        IssueSection {
            id: "empty".into(),
            name: "空栏目".into(),
            articles: vec![],
        },
    );
    assert!(!to_text(&doc).contains("空栏目"));
    assert!(!to_markdown(&doc).contains("空栏目"));
    assert!(!to_html(&doc).contains("空栏目"));
    let xml = document_xml(&to_docx(&doc).expect("docx"));
    assert!(!xml.contains("空栏目"));
}

#[test]
fn article_html_becomes_plain_paragraphs() {
    assert_eq!(
        paragraphs_from_html("<p>a</p><p>b<br>c</p>"),
        ["a", "b", "c"]
    );
    assert_eq!(
        paragraphs_from_html(
            "<p>\u{3000}\u{3000}第一段</p><p>&nbsp;</p><p> </p><div><h3>二、小标题</h3>正文</div>"
        ),
        ["第一段", "二、小标题", "正文"]
    );
    assert_eq!(
        paragraphs_from_html(
            "<table><tr><td>地区</td><td>人数</td></tr><tr><td>江苏</td><td>120</td></tr></table>"
        ),
        ["地区\u{3000}人数", "江苏\u{3000}120"]
    );
}

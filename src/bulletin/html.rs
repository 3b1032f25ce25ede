//! Renderer (bulletin): the HTML export of an issue, for the screen and for
//! print, as a maud template (all text escaped; an article's URL a link
//! only when it is an absolute http(s) URL, [`web_url`]: the file is mailed
//! and archived, where a relative link leads nowhere). One standalone HTML5 file (no external assets, so it can be mailed
//! or archived as is) that looks like the printed 信息快报 — centred masthead
//! with a red 快报, issue number, host line, date and a red rule; 目录 on the
//! first page, linked to the articles; the articles from a new page — and
//! prints on A4 from any browser.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{IssueArticle, IssueDoc, MASTHEAD, TOC_HEADING, date_line, one_line, web_url};

/// The embedded stylesheet (a static asset: inserted as is, the only
/// unescaped markup of the export). Serif (宋体) for text and sans (黑体) for
/// headings, as Chinese print does; the font stacks name what Windows, macOS
/// and Linux ship so that no web font is needed.
const STYLE: &str = r#"
:root {
  --ink: #1a1a1a;
  --red: #c00000;
  --muted: #555;
  --serif: "Songti SC", "STSong", "SimSun", "宋体", "Noto Serif CJK SC", "Source Han Serif SC", serif;
  --sans: "PingFang SC", "Heiti SC", "SimHei", "黑体", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif;
}
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0;
  background: #f3f1ec;
  color: var(--ink);
  font-family: var(--serif);
  font-size: 17px;
  line-height: 1.8;
}
.issue {
  box-sizing: border-box;
  max-width: 46rem;
  margin: 2rem auto;
  padding: 3rem 3.5rem;
  background: #fff;
  box-shadow: 0 1px 4px rgba(0, 0, 0, .12);
}
h1, h2, h3, .toc-section { font-family: var(--sans); font-weight: bold; }
.masthead { text-align: center; }
.masthead p { margin: .25rem 0; }
.masthead .society { font-family: var(--sans); font-size: 1.35rem; letter-spacing: .1em; color: var(--red); }
.masthead h1 {
  margin: .4rem 0 .6rem;
  font-size: 4.5rem;
  line-height: 1.2;
  letter-spacing: .5em;
  /* letter-spacing also follows the last character; this keeps 快报 centred. */
  text-indent: .5em;
  color: var(--red);
}
.masthead .number { font-size: 1.1rem; }
.masthead .host, .masthead .date { font-size: 1rem; }
.masthead .rule {
  height: 0;
  margin: 1rem 0 0;
  border: 0;
  border-top: 3px solid var(--red);
  border-bottom: 1px solid var(--red);
  padding-top: 2px;
}
.toc h2 { text-align: center; font-size: 1.5rem; letter-spacing: 1em; text-indent: 1em; margin: 2rem 0 1rem; }
.toc ol { list-style: none; margin: 0; padding: 0; }
.toc .toc-section { margin: 1rem 0 .3rem; }
.toc ol ol { padding-left: 2em; }
.toc ol ol li { margin: .15rem 0; }
.toc a { color: inherit; text-decoration: none; }
.toc a:hover, .toc a:focus { color: var(--red); text-decoration: underline; }
.content { margin-top: 3rem; }
.section > h2 {
  margin: 2.5rem 0 1rem;
  padding-bottom: .2rem;
  border-bottom: 2px solid var(--red);
  color: var(--red);
  font-size: 1.4rem;
}
.article h3 {
  margin: 2rem 0 1rem;
  text-align: center;
  font-size: 1.2rem;
  line-height: 1.5;
  break-after: avoid;
  page-break-after: avoid;
  break-inside: avoid;
  page-break-inside: avoid;
}
.article p { margin: 0 0 .6em; text-indent: 2em; text-align: justify; }
.article p.origin { text-indent: 0; text-align: right; color: var(--muted); }
.article p.origin a { color: inherit; }
@media (max-width: 640px) {
  body { font-size: 16px; background: #fff; }
  .issue { margin: 0; padding: 1.25rem 1rem; box-shadow: none; }
  .masthead h1 { font-size: 3.2rem; }
  .masthead .society { font-size: 1.1rem; }
}
@page { size: A4; margin: 25mm 20mm 22mm; }
@media print {
  body { background: none; font-size: 12pt; line-height: 1.7; }
  .issue { max-width: none; margin: 0; padding: 0; box-shadow: none; }
  .masthead h1 { font-size: 48pt; }
  /* 目录 stays on the first page with the masthead; the articles start on a new one. */
  .content { margin-top: 0; break-before: page; page-break-before: always; }
  .section > h2 { break-after: avoid; page-break-after: avoid; }
  .article p { orphans: 2; widows: 2; }
  .article p.origin { break-before: avoid; page-break-before: avoid; }
  a { color: inherit; text-decoration: none; }
}
"#;

/// The issue as a standalone HTML5 document. All text is escaped; an
/// article's URL becomes a link on its `来源：` line only when it is http(s).
pub fn to_html(doc: &IssueDoc) -> String {
    to_html_page(doc, None).into_string()
}

/// [`to_html`] as markup, its stylesheet carrying `style_nonce` when given
/// (a page served under a nonce-based Content-Security-Policy, such as the
/// desk's preview).
pub fn to_html_page(doc: &IssueDoc, style_nonce: Option<&str>) -> Markup {
    html! {
        (DOCTYPE) "\n"
        html lang="zh-CN" {
            "\n"
            head {
                "\n" meta charset="utf-8";
                "\n" meta name="viewport" content="width=device-width, initial-scale=1";
                "\n" title { (doc.issue_title()) }
                "\n" style nonce=[style_nonce] { (PreEscaped(STYLE)) }
                "\n"
            }
            "\n"
            body { "\n" (fragment(doc)) }
            "\n"
        }
        "\n"
    }
}

/// The issue's body alone, the `<main class="issue">` element of
/// [`to_html`] without the page around it or its stylesheet: for places that
/// embed an issue in their own page, such as the content of a feed entry.
/// Unstyled, it still reads in order: headings, 目录 as a list, paragraphs.
pub fn to_html_fragment(doc: &IssueDoc) -> String {
    fragment(doc).into_string()
}

fn fragment(doc: &IssueDoc) -> Markup {
    html! {
        main.issue {
            "\n"
            header.masthead {
                "\n" p.society { (doc.society_line()) }
                "\n" h1 { (MASTHEAD) }
                "\n" p.number { (doc.number_line()) }
                "\n" p.host { (doc.host_line()) }
                "\n" p.date { time datetime=(doc.date.format("%Y-%m-%d")) { (date_line(doc.date)) } }
                "\n" hr.rule;
                "\n"
            }
            "\n"
            nav.toc aria-labelledby="toc" {
                "\n" h2 id="toc" { (TOC_HEADING) } "\n"
                ol {
                    "\n"
                    @for (s, section) in doc.printed_sections().enumerate() {
                        li {
                            div.toc-section { a href={ "#" (section_anchor(s)) } { (one_line(&section.name)) } }
                            "\n"
                            ol {
                                "\n"
                                @for (a, article) in section.articles.iter().enumerate() {
                                    li { a href={ "#" (article_anchor(s, a)) } { (one_line(&article.title)) } }
                                    "\n"
                                }
                            }
                        }
                        "\n"
                    }
                }
                "\n"
            }
            "\n"
            div.content {
                "\n"
                @for (s, section) in doc.printed_sections().enumerate() {
                    section.section id=(section_anchor(s)) {
                        "\n" h2 { (one_line(&section.name)) } "\n"
                        @for (a, article) in section.articles.iter().enumerate() {
                            (article_html(article, &article_anchor(s, a)))
                        }
                    }
                    "\n"
                }
            }
            "\n"
        }
        "\n"
    }
}

fn article_html(article: &IssueArticle, anchor: &str) -> Markup {
    let origin = one_line(&article.origin);
    html! {
        article.article id=(anchor) {
            "\n" h3 { (one_line(&article.title)) } "\n"
            @for paragraph in article.printed_paragraphs() {
                p { (paragraph) } "\n"
            }
            p.origin {
                "来源："
                @match article.url.as_deref().and_then(web_url) {
                    Some(href) => a href=(href) { (origin) },
                    None => (origin),
                }
            }
            "\n"
        }
        "\n"
    }
}

/// Anchors by position, not by section id or title: those may hold anything,
/// positions are always valid and unique `id`s.
fn section_anchor(s: usize) -> String {
    format!("s{}", s + 1)
}

fn article_anchor(s: usize, a: usize) -> String {
    format!("s{}-a{}", s + 1, a + 1)
}

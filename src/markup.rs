//! Markup, layer 1 (shared helpers): makes untrusted HTML and XML safe to
//! hand to a tree parser, walks the parsed tree without recursion, and
//! reads its text ([`text_blocks`], the one HTML→text walk of the crate).
//!
//! html5ever builds any tree it is given, and the tree builder's scope
//! checks make its cost grow with the square of the nesting; every walk
//! over a parsed tree, ours or a library's, is at risk of recursing once per
//! level. So before a page from an outlet is parsed, one linear scan over
//! its text (no tree, no recursion) counts its elements and its nesting:
//! elements nested deeper than `max_depth` lose their tags (their text stays,
//! in order), and a page of more than `max_elements` elements is refused.
//! The scan follows the HTML rules that matter for nesting (void elements,
//! raw-text elements, comments, the end tags a new `<p>`, `<li>`, `<td>`…
//! implies), so an ordinary page comes back unchanged, borrowed, at the cost
//! of one pass.
//!
//! Feeds go through the same scan in XML mode, which can also cut a feed
//! after its first N entries and close what was open, so that a feed of
//! 200,000 entries is never materialized.
//!
//! Text comes out block by block ([`BLOCK_TAGS`], table rows one block with
//! their cells side by side, [`SKIPPED_TAGS`] left out); the stages read it
//! as lines ([`html_to_text`]: normalize's content text), as one line
//! ([`inline_text`]: titles and summaries) or as paragraphs (the bulletin).

use std::borrow::Cow;

/// How much structure one document may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Nesting kept; tags deeper than this are dropped, their text kept.
    pub max_depth: usize,
    /// Elements (start tags) in one document; more is refused.
    pub max_elements: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: 256,
            max_elements: 100_000,
        }
    }
}

impl Limits {
    /// For rendering what is already stored: the same nesting bound, no
    /// element bound (stored text was bounded when it arrived, and a
    /// rendered issue must not lose an article).
    pub fn for_rendering() -> Limits {
        Limits {
            max_depth: Limits::default().max_depth,
            max_elements: usize::MAX,
        }
    }
}

/// A document beyond the limits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TooComplex {
    #[error("page has more than {limit} elements (poll.max_elements)")]
    TooManyElements { limit: usize },
}

/// What a bounded document became.
#[derive(Debug)]
pub struct Bounded<'a> {
    pub text: Cow<'a, str>,
    /// Start tags dropped for being nested too deep.
    pub flattened: usize,
    /// Entries dropped by [`bound_feed`]'s cut.
    pub entries_cut: bool,
}

/// `html` with tags nested deeper than `limits.max_depth` removed, or an
/// error when it has more than `limits.max_elements` elements.
pub fn bound_html(html: &str, limits: Limits) -> Result<Bounded<'_>, TooComplex> {
    scan(html, limits, Mode::Html, None)
}

/// A feed document bounded like [`bound_html`] (XML rules: no void or
/// raw-text elements, CDATA sections skipped), cut before its
/// `max_entries + 1`-th `<item>`/`<entry>` with every open element closed.
pub fn bound_feed(
    xml: &str,
    limits: Limits,
    max_entries: usize,
) -> Result<Bounded<'_>, TooComplex> {
    scan(xml, limits, Mode::Xml, Some(max_entries))
}

/// [`bound_html`] for stored content being rendered: never refused, only
/// flattened.
pub fn flatten_for_rendering(html: &str) -> Cow<'_, str> {
    match scan(html, Limits::for_rendering(), Mode::Html, None) {
        Ok(b) => b.text,
        // Unreachable with no element bound; the text as is is still better
        // than nothing, and every walk over it is iterative.
        Err(_) => Cow::Borrowed(html),
    }
}

/// One step of [`walk`]: a text node, or an element opening or closing.
pub enum Step<'a> {
    Text(&'a str),
    Open(
        ego_tree::NodeRef<'a, scraper::Node>,
        &'a scraper::node::Element,
    ),
    Close(&'a scraper::node::Element),
}

/// Visits what is under `root` in document order, by the tree's open and
/// close edges rather than by recursion, whatever the depth. `visit`
/// answers each `Open` with whether to go inside; an element not entered
/// gets no `Close`.
pub fn walk<'a>(
    root: ego_tree::NodeRef<'a, scraper::Node>,
    mut visit: impl FnMut(Step<'a>) -> bool,
) {
    use ego_tree::iter::Edge;
    let mut skipping: Option<ego_tree::NodeId> = None;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) if skipping.is_none() && node.id() != root.id() => {
                match node.value() {
                    scraper::Node::Text(t) => {
                        visit(Step::Text(t));
                    }
                    scraper::Node::Element(e) if !visit(Step::Open(node, e)) => {
                        skipping = Some(node.id());
                    }
                    _ => {}
                }
            }
            Edge::Close(node) if node.id() != root.id() => {
                if skipping == Some(node.id()) {
                    skipping = None;
                } else if skipping.is_none()
                    && let scraper::Node::Element(e) = node.value()
                {
                    visit(Step::Close(e));
                }
            }
            _ => {}
        }
    }
}

/// Elements that end a block of text (a line, or a paragraph of an issue).
/// Headings and list items are blocks of their own; `br` too, because
/// Chinese CMSs often separate paragraphs with `<br>` inside one `<p>`.
pub const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "section",
    "article",
    "header",
    "footer",
    "figure",
    "figcaption",
    "center",
    "address",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "caption",
    "tr",
];

/// Elements whose text is never part of the text.
pub const SKIPPED_TAGS: &[&str] = &["script", "style", "noscript", "template", "head", "title"];

/// What goes between the cells of a table row: the full-width space, which
/// reads as a column gap in Chinese text where an ASCII space would look
/// like a typo.
pub const CELL_SEPARATOR: &str = "\u{3000}";

/// One block of text: raw (whitespace as the source had it, entities
/// decoded), possibly blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// The text of a block element or of a `<br>`-separated line.
    Text(String),
    /// A table row: the text of each `td`/`th`, in order.
    Row(Vec<String>),
}

impl Block {
    /// The block on one line: whitespace collapsed, a row's non-empty cells
    /// joined by [`CELL_SEPARATOR`], each cell's text through `clean`.
    pub fn line_with(&self, clean: impl Fn(&str) -> String) -> String {
        match self {
            Block::Text(t) => clean(t),
            Block::Row(cells) => {
                let cells: Vec<String> = cells
                    .iter()
                    .map(|c| clean(c))
                    .filter(|c| !c.is_empty())
                    .collect();
                cells.join(CELL_SEPARATOR)
            }
        }
    }
}

/// The text of an HTML fragment, block by block: one [`Block::Text`] per
/// block element ([`BLOCK_TAGS`]) or `<br>`-separated line, one
/// [`Block::Row`] per table row. Entities are decoded, tags and
/// [`SKIPPED_TAGS`] dropped, whitespace left as it was: what to make of it
/// is the reader's choice ([`html_to_text`], [`inline_text`], the
/// bulletin's paragraphs). Deep trees cost no stack.
pub fn text_blocks(html: &str) -> Vec<Block> {
    // Stored articles may predate the bounds on what outlets send; the walk
    // below is iterative anyway, the flattening keeps parsing linear.
    let fragment = scraper::Html::parse_fragment(&flatten_for_rendering(html));
    let mut blocks = Vec::new();
    let mut current = String::new();
    let end_block = |current: &mut String, blocks: &mut Vec<Block>| {
        if !current.is_empty() {
            blocks.push(Block::Text(std::mem::take(current)));
        }
    };
    walk(*fragment.root_element(), |step| {
        match step {
            Step::Text(t) => current.push_str(t),
            Step::Open(node, e) => {
                let name = e.name();
                if SKIPPED_TAGS.contains(&name) {
                    return false;
                }
                if name == "tr" {
                    end_block(&mut current, &mut blocks);
                    blocks.push(Block::Row(row_cells(node)));
                    return false;
                }
                if BLOCK_TAGS.contains(&name) {
                    end_block(&mut current, &mut blocks);
                }
            }
            Step::Close(e) => {
                if BLOCK_TAGS.contains(&e.name()) {
                    end_block(&mut current, &mut blocks);
                }
            }
        }
        true
    });
    end_block(&mut current, &mut blocks);
    blocks
}

/// Plain text of an HTML fragment, one line per block and per line break
/// of its source, each line whitespace-collapsed, empty lines dropped.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut push = |line: String| {
        if !line.is_empty() {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&line);
        }
    };
    for block in text_blocks(html) {
        match &block {
            Block::Text(t) => t.lines().for_each(|l| push(crate::text::collapse_ws(l))),
            Block::Row(_) => push(block.line_with(crate::text::collapse_ws)),
        }
    }
    out
}

/// Plain text of an HTML fragment on one line: all its text, blocks not
/// separated (Chinese has no spaces between words, so `人社<b>部</b>` must
/// not gain one), whitespace collapsed.
pub fn inline_text(html: &str) -> String {
    let mut all = String::with_capacity(html.len());
    for block in text_blocks(html) {
        match block {
            Block::Text(t) => all.push_str(&t),
            Block::Row(cells) => cells.iter().for_each(|c| all.push_str(c)),
        }
    }
    crate::text::collapse_ws(&all)
}

/// The raw text of each cell of a table row.
fn row_cells(row: ego_tree::NodeRef<'_, scraper::Node>) -> Vec<String> {
    row.children()
        .filter(
            |c| matches!(c.value(), scraper::Node::Element(e) if matches!(e.name(), "td" | "th")),
        )
        .map(cell_text)
        .collect()
}

/// All text under a cell, with a space where a block or `<br>` ends so that
/// two paragraphs inside one table cell do not run together.
fn cell_text(node: ego_tree::NodeRef<'_, scraper::Node>) -> String {
    let mut out = String::new();
    walk(node, |step| {
        match step {
            Step::Text(t) => out.push_str(t),
            Step::Open(_, e) => return !SKIPPED_TAGS.contains(&e.name()),
            Step::Close(e) => {
                if BLOCK_TAGS.contains(&e.name()) {
                    out.push(' ');
                }
            }
        }
        true
    });
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Html,
    Xml,
}

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "keygen", "frame", "basefont", "bgsound",
];

/// Elements whose content is text up to their end tag.
const RAW_TEXT: &[&str] = &[
    "script",
    "style",
    "textarea",
    "title",
    "xmp",
    "iframe",
    "noembed",
    "noframes",
    "plaintext",
];

/// Start tags that close an open `<p>` (HTML's "close a p element").
const CLOSES_P: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "center",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "li",
    "dd",
    "dt",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "ul",
];

/// For a start tag that implies the end of an open sibling: the names it
/// closes and the names that bound the search (an enclosing list, table…).
fn implied_end(name: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    Some(match name {
        // As HTML's tree builder: a `<div>` between does not stop the search.
        "li" => (&["li"], &["ul", "ol", "menu", "table"]),
        "dt" | "dd" => (&["dt", "dd"], &["dl", "table"]),
        "tr" => (&["tr", "td", "th"], &["table", "tbody", "thead", "tfoot"]),
        "td" | "th" => (&["td", "th"], &["tr", "table"]),
        "tbody" | "thead" | "tfoot" => (&["tbody", "thead", "tfoot", "tr", "td", "th"], &["table"]),
        "option" => (&["option"], &["select", "datalist"]),
        _ => return None,
    })
}

/// How far down the stack a `<p>` is looked for: a `<p>` left open under
/// more than a few inline elements is not what the new block closes.
const P_SEARCH: usize = 8;

fn scan<'a>(
    src: &'a str,
    limits: Limits,
    mode: Mode,
    max_entries: Option<usize>,
) -> Result<Bounded<'a>, TooComplex> {
    let bytes = src.as_bytes();
    // Names borrowed from `src` (lowercased copies only for the rare
    // uppercase tag): the scan allocates nothing per tag.
    let mut stack: Vec<Cow<'a, str>> = Vec::new();
    // Start tags dropped per name, so their end tags are dropped too.
    let mut dropped: std::collections::HashMap<Cow<'a, str>, usize> =
        std::collections::HashMap::new();
    let mut out: Option<String> = None;
    // Where the text not yet copied to `out` starts.
    let mut copied = 0;
    let mut elements = 0usize;
    let mut entries = 0usize;
    let mut flattened = 0usize;
    let mut i = 0;
    while let Some(off) = memchr(b'<', &bytes[i..]) {
        let lt = i + off;
        let rest = &bytes[lt..];
        // Comments, CDATA (XML), doctypes and processing instructions.
        if rest.starts_with(b"<!--") {
            i = find(bytes, lt + 4, b"-->").map_or(bytes.len(), |e| e + 3);
            continue;
        }
        if mode == Mode::Xml && rest.starts_with(b"<![CDATA[") {
            i = find(bytes, lt + 9, b"]]>").map_or(bytes.len(), |e| e + 3);
            continue;
        }
        if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
            i = memchr(b'>', &bytes[lt..]).map_or(bytes.len(), |e| lt + e + 1);
            continue;
        }
        let end_tag = rest.get(1) == Some(&b'/');
        let name_at = lt + if end_tag { 2 } else { 1 };
        let name_len = bytes[name_at..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'))
            .count();
        if name_len == 0 || !bytes[name_at].is_ascii_alphabetic() {
            // A `<` that starts no tag is text.
            i = lt + 1;
            continue;
        }
        let raw_name = &src[name_at..name_at + name_len];
        let name: Cow<'a, str> =
            if mode == Mode::Html && raw_name.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(raw_name.to_ascii_lowercase())
            } else {
                Cow::Borrowed(raw_name)
            };
        let close = tag_end(bytes, name_at + name_len);
        let self_closing = close >= 2 && bytes[close - 2] == b'/' && !end_tag;
        let tag_end_at = close.min(bytes.len());
        let mut drop_tag = false;

        if end_tag {
            if let Some(n) = dropped.get_mut(name.as_ref()).filter(|n| **n > 0) {
                *n -= 1;
                drop_tag = true;
            } else if let Some(pos) = stack.iter().rposition(|open| *open == name) {
                stack.truncate(pos);
            }
        } else {
            elements += 1;
            if elements > limits.max_elements {
                return Err(TooComplex::TooManyElements {
                    limit: limits.max_elements,
                });
            }
            let local = name.rsplit(':').next().unwrap_or(&name);
            if let Some(max) = max_entries
                && (local == "item" || local == "entry")
            {
                entries += 1;
                if entries > max {
                    let mut cut = out.take().unwrap_or_default();
                    cut.push_str(&src[copied..lt]);
                    for open in stack.iter().rev() {
                        cut.push_str("</");
                        cut.push_str(open);
                        cut.push('>');
                    }
                    return Ok(Bounded {
                        text: Cow::Owned(cut),
                        flattened,
                        entries_cut: true,
                    });
                }
            }
            if mode == Mode::Html {
                close_implied(&mut stack, &name);
            }
            let void = self_closing || (mode == Mode::Html && VOID.contains(&name.as_ref()));
            if !void {
                if stack.len() >= limits.max_depth {
                    *dropped.entry(name.clone()).or_default() += 1;
                    flattened += 1;
                    drop_tag = true;
                } else {
                    stack.push(name.clone());
                }
            }
        }
        if drop_tag {
            let o = out.get_or_insert_with(|| String::with_capacity(src.len()));
            o.push_str(&src[copied..lt]);
            copied = tag_end_at;
        }
        i = tag_end_at;
        if !end_tag && mode == Mode::Html && RAW_TEXT.contains(&name.as_ref()) && !self_closing {
            // Its content is text up to `</name`; a missing end tag runs
            // to the end, as the parser reads it.
            i = find_end_tag(bytes, i, name.as_bytes()).unwrap_or(bytes.len());
        }
    }
    let text = match out {
        None => Cow::Borrowed(src),
        Some(mut o) => {
            o.push_str(&src[copied..]);
            Cow::Owned(o)
        }
    };
    Ok(Bounded {
        text,
        flattened,
        entries_cut: false,
    })
}

/// Pops what a new `name` start tag implicitly ends.
fn close_implied(stack: &mut Vec<Cow<'_, str>>, name: &str) {
    if CLOSES_P.contains(&name)
        && let Some(pos) = stack
            .iter()
            .rev()
            .take(P_SEARCH)
            .position(|open| open.as_ref() == "p")
    {
        stack.truncate(stack.len() - 1 - pos);
    }
    if let Some((closes, bounds)) = implied_end(name) {
        for pos in (0..stack.len()).rev() {
            let open = stack[pos].as_ref();
            if bounds.contains(&open) {
                break;
            }
            if closes.contains(&open) {
                stack.truncate(pos);
                break;
            }
        }
    }
}

/// The index just past the `>` that ends a tag whose name ends at `from`,
/// skipping quoted attribute values; the end of input if there is none.
fn tag_end(bytes: &[u8], from: usize) -> usize {
    let mut quote: Option<u8> = None;
    for (k, &b) in bytes[from..].iter().enumerate() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return from + k + 1,
            None => {}
        }
    }
    bytes.len()
}

/// Where `</name` (any case) starts at or after `from`.
fn find_end_tag(bytes: &[u8], from: usize, name: &[u8]) -> Option<usize> {
    let mut at = from;
    while let Some(off) = find(bytes, at, b"</") {
        let after = &bytes[off + 2..];
        if after.len() >= name.len() && after[..name.len()].eq_ignore_ascii_case(name) {
            return Some(off);
        }
        at = off + 2;
    }
    None
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from >= bytes.len() {
        return None;
    }
    bytes[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_depth: usize) -> Limits {
        Limits {
            max_depth,
            max_elements: 1000,
        }
    }

    #[test]
    fn text_comes_out_by_blocks_lines_or_one_line() {
        let html = "<div><p>第一段&nbsp;内容</p><p>第二段</p>第三<br>行</div>";
        assert_eq!(html_to_text(html), "第一段 内容\n第二段\n第三\n行");
        assert_eq!(inline_text("<p>a &amp; b</p>\n<p> c</p>"), "a & b c");
        assert_eq!(inline_text("人社<b>部</b><script>x()</script>"), "人社部");
        let table = "<table><tr><th>地区</th><th>人数</th></tr><tr><td><p>江苏</p></td><td></td><td>120</td></tr></table>";
        assert_eq!(html_to_text(table), "地区\u{3000}人数\n江苏\u{3000}120");
        assert_eq!(html_to_text("<p>稳岗\n  促就业</p>"), "稳岗\n促就业");
    }

    #[test]
    fn an_ordinary_page_comes_back_borrowed_and_unchanged() {
        let page = r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>a<b</title>
            <script>if (a < b && "</div>") {}</script></head><body><div class="x">
            <p>一<p>二<br><img src="a.png"><ul><li>甲<li>乙</ul><table><tr><td>1<td>2<tr><td>3</table>
            <!-- <div><div><div> --></div></body></html>"#;
        let b = bound_html(page, limits(8)).expect("bounded");
        assert!(matches!(b.text, Cow::Borrowed(_)), "{}", b.text);
        assert_eq!(b.flattened, 0);
    }

    #[test]
    fn unclosed_paragraphs_and_list_items_do_not_count_as_nesting() {
        let page = "<div>".to_string() + &"<p>段落".repeat(500) + &"<li>项".repeat(500) + "</div>";
        let b = bound_html(
            &page,
            Limits {
                max_depth: 4,
                max_elements: 10_000,
            },
        )
        .expect("bounded");
        assert_eq!(b.flattened, 0);
    }

    #[test]
    fn tags_nested_deeper_than_the_limit_are_dropped_and_their_text_kept() {
        let page = "<div>".repeat(10) + "正文" + &"</div>".repeat(10) + "<p>后</p>";
        let b = bound_html(&page, limits(3)).expect("bounded");
        assert_eq!(b.flattened, 7);
        assert_eq!(
            b.text,
            "<div><div><div>正文</div></div></div><p>后</p>".to_string()
        );
    }

    #[test]
    fn a_document_of_too_many_elements_is_refused() {
        let page = "<b></b>".repeat(1001);
        assert_eq!(
            bound_html(&page, limits(8)).map(|_| ()),
            Err(TooComplex::TooManyElements { limit: 1000 })
        );
    }

    #[test]
    fn deep_nesting_is_flattened_in_linear_time() {
        let page = "<div>".repeat(200_000) + "字" + &"</div>".repeat(200_000);
        let started = std::time::Instant::now();
        let b = bound_html(
            &page,
            Limits {
                max_depth: 256,
                max_elements: 1_000_000,
            },
        )
        .expect("bounded");
        assert_eq!(b.flattened, 200_000 - 256);
        assert_eq!(b.text.matches("<div>").count(), 256);
        assert_eq!(b.text.matches("</div>").count(), 256);
        // Generous: quadratic behaviour would take minutes.
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn a_feed_is_cut_after_its_entries_with_open_elements_closed() {
        let feed = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>"#
            .to_string()
            + &r#"<item><title>x</title><description><![CDATA[<div><item>]]></description></item>"#
                .repeat(5)
            + "</channel></rss>";
        let b = bound_feed(&feed, limits(16), 2).expect("bounded");
        assert!(b.entries_cut);
        assert_eq!(b.text.matches("<item><title>").count(), 2);
        assert!(b.text.ends_with("</channel></rss>"), "{}", b.text);
        let parsed = feed_rs::parser::parse(b.text.as_bytes()).expect("still a feed");
        assert_eq!(parsed.entries.len(), 2);
    }

    #[test]
    fn xml_keeps_self_closing_elements_and_cdata_out_of_the_count() {
        let feed = "<rss><channel><item><link/><description><![CDATA[".to_string()
            + &"<div>".repeat(100)
            + "]]></description></item></channel></rss>";
        let b = bound_feed(&feed, limits(5), 10).expect("bounded");
        assert_eq!(b.flattened, 0);
        assert!(!b.entries_cut);
    }
}

//! Word export of an issue: the bulletin's output in the form the society
//! edits and circulates, an A4 `.docx` laid out like the printed 信息快报 —
//! centred masthead with a large red 快报 and a red rule, 目录 linked to the
//! articles, then the articles from a new page: section headings, centred
//! bold titles, paragraphs indented two characters as Chinese documents are,
//! and `来源：…` at the end of each.
//!
//! Fonts are set on every run, East Asian slot included (宋体 for text, 黑体
//! for headings), because Word otherwise falls back to the Latin theme font's
//! East Asian partner, which differs between Word versions and LibreOffice.

use std::io::Cursor;

use docx_rs::{
    AlignmentType, BorderType, Docx, Hyperlink, HyperlinkType, LineSpacing, LineSpacingType,
    PageMargin, Paragraph, ParagraphBorder, ParagraphBorderPosition, ParagraphBorders, Run,
    RunFonts, SpecialIndentType, Style, StyleType,
};

use super::{
    BulletinError, IssueArticle, IssueDoc, MASTHEAD, TOC_HEADING, date_line, one_line, web_url,
};

/// A4 in twentieths of a point (twips).
const A4_WIDTH: u32 = 11_906;
const A4_HEIGHT: u32 = 16_838;
/// Word's default margins for Chinese documents: 2.54 cm top and bottom,
/// 3.17 cm left and right.
const MARGIN_TOP_BOTTOM: i32 = 1_440;
const MARGIN_LEFT_RIGHT: i32 = 1_800;

/// Font sizes in half-points, by their Chinese names.
const SIZE_CHU: usize = 84; // 初号, 42 pt: 快报
const SIZE_XIAO_ER: usize = 36; // 小二, 18 pt: society line
const SIZE_SAN: usize = 32; // 三号, 16 pt: 目录 and section headings
const SIZE_SI: usize = 28; // 四号, 14 pt: issue number, article titles
const SIZE_XIAO_SI: usize = 24; // 小四, 12 pt: text

/// Two characters of text, the first-line indent of a Chinese paragraph:
/// 2 × 12 pt in twips. (`w:firstLineChars` would say "2 characters"
/// directly, but docx-rs does not write it.)
const FIRST_LINE_INDENT: i32 = 2 * (SIZE_XIAO_SI as i32) * 10;

const SONG: &str = "宋体";
const HEI: &str = "黑体";
/// Latin partners for digits and Latin text inside Chinese paragraphs.
const SERIF_LATIN: &str = "Times New Roman";
const SANS_LATIN: &str = "Arial";
const RED: &str = "C00000";

/// The issue as a Word document (`.docx` bytes), page size A4.
pub fn to_docx(doc: &IssueDoc) -> Result<Vec<u8>, BulletinError> {
    // Created/modified from the issue date, not the clock: the file's
    // properties date the issue, whenever it was exported.
    let stamp = format!("{}T00:00:00Z", doc.date.format("%Y-%m-%d"));
    let mut docx = Docx::new()
        .page_size(A4_WIDTH, A4_HEIGHT)
        .page_margin(
            PageMargin::new()
                .top(MARGIN_TOP_BOTTOM)
                .bottom(MARGIN_TOP_BOTTOM)
                .left(MARGIN_LEFT_RIGHT)
                .right(MARGIN_LEFT_RIGHT)
                .header(851)
                .footer(992),
        )
        .default_fonts(song())
        .default_size(SIZE_XIAO_SI)
        .created_at(&stamp)
        .updated_at(&stamp)
        .add_style(heading_style("Heading1", "heading 1", 0, SIZE_SAN))
        .add_style(heading_style("Heading2", "heading 2", 1, SIZE_SI));

    for p in masthead(doc) {
        docx = docx.add_paragraph(p);
    }
    for p in contents(doc) {
        docx = docx.add_paragraph(p);
    }
    for p in body(doc) {
        docx = docx.add_paragraph(p);
    }

    let mut buffer = Cursor::new(Vec::new());
    docx.pack(&mut buffer)
        .map_err(|e| BulletinError::Docx(Box::new(e)))?;
    Ok(buffer.into_inner())
}

fn song() -> RunFonts {
    RunFonts::new()
        .ascii(SERIF_LATIN)
        .hi_ansi(SERIF_LATIN)
        .cs(SERIF_LATIN)
        .east_asia(SONG)
}

fn hei() -> RunFonts {
    RunFonts::new()
        .ascii(SANS_LATIN)
        .hi_ansi(SANS_LATIN)
        .cs(SANS_LATIN)
        .east_asia(HEI)
}

/// Word's own heading styles (ids `Heading1`/`Heading2`), so that the
/// navigation pane and an inserted table of contents see the sections and
/// articles; the look is also set on the runs, which is what renders.
fn heading_style(id: &str, name: &str, level: usize, size: usize) -> Style {
    Style::new(id, StyleType::Paragraph)
        .name(name)
        .based_on("Normal")
        .next("Normal")
        .outline_lvl(level)
        .fonts(hei())
        .size(size)
        .bold()
}

/// A run of text in the body face, with characters Word cannot store removed.
fn text(s: &str) -> Run {
    Run::new()
        .add_text(xml_safe(s))
        .fonts(song())
        .size(SIZE_XIAO_SI)
}

/// A run of text in the heading face.
fn heading_text(s: &str, size: usize) -> Run {
    Run::new()
        .add_text(xml_safe(s))
        .fonts(hei())
        .size(size)
        .bold()
}

fn centred(run: Run) -> Paragraph {
    Paragraph::new().add_run(run).align(AlignmentType::Center)
}

/// Space before and after a paragraph, in twips; line spacing as a multiple
/// of a single line, in 240ths. The `auto` rule is spelled out: without it
/// LibreOffice reads `line` as an exact height, and 快报 overlaps the lines
/// around it.
fn spacing(before: u32, after: u32, line: i32) -> LineSpacing {
    LineSpacing::new()
        .before(before)
        .after(after)
        .line(line)
        .line_rule(LineSpacingType::Auto)
}

/// `paragraph` with a red rule under it and no other border (docx-rs's
/// default border set would box it in).
fn ruled(mut paragraph: Paragraph, kind: BorderType, size: usize) -> Paragraph {
    paragraph.property = paragraph.property.set_borders(
        ParagraphBorders::with_empty().set(
            ParagraphBorder::new(ParagraphBorderPosition::Bottom)
                .val(kind)
                .size(size)
                .space(1)
                .color(RED),
        ),
    );
    paragraph
}

fn masthead(doc: &IssueDoc) -> Vec<Paragraph> {
    // A thick-over-thin red rule under the masthead, as on 红头 documents.
    let rule = ruled(
        Paragraph::new().line_spacing(spacing(0, 240, 240)),
        BorderType::ThickThinSmallGap,
        24,
    );
    vec![
        centred(heading_text(&doc.society_line(), SIZE_XIAO_ER).color(RED))
            .line_spacing(spacing(480, 120, 240)),
        centred(
            heading_text(MASTHEAD, SIZE_CHU)
                .color(RED)
                .character_spacing(200),
        )
        .line_spacing(spacing(120, 120, 240)),
        centred(text(&doc.number_line()).size(SIZE_SI)).line_spacing(spacing(120, 120, 240)),
        centred(text(&doc.host_line()).size(SIZE_SI)).line_spacing(spacing(240, 0, 240)),
        centred(text(&date_line(doc.date)).size(SIZE_SI)).line_spacing(spacing(0, 120, 240)),
        rule,
    ]
}

/// `s1_a1`-style bookmark names: positions, because titles may hold
/// anything and Word wants names of letters, digits and `_` up to 40 long.
fn bookmark(s: usize, a: usize) -> String {
    format!("s{}_a{}", s + 1, a + 1)
}

fn contents(doc: &IssueDoc) -> Vec<Paragraph> {
    let mut out = vec![
        centred(heading_text(TOC_HEADING, SIZE_SAN).character_spacing(240))
            .line_spacing(spacing(240, 240, 240)),
    ];
    for (s, section) in doc.printed_sections().enumerate() {
        out.push(
            Paragraph::new()
                .add_run(heading_text(&one_line(&section.name), SIZE_SI))
                .keep_next(true)
                .line_spacing(spacing(160, 60, 300)),
        );
        for (a, article) in section.articles.iter().enumerate() {
            // Each title links to its article, like the HTML 目录.
            let link = Hyperlink::new(bookmark(s, a), HyperlinkType::Anchor)
                .add_run(text(&one_line(&article.title)));
            out.push(
                Paragraph::new()
                    .add_hyperlink(link)
                    .indent(Some(FIRST_LINE_INDENT), None, None, None)
                    .line_spacing(spacing(0, 60, 300)),
            );
        }
    }
    out
}

fn body(doc: &IssueDoc) -> Vec<Paragraph> {
    let mut out = Vec::new();
    let mut bookmark_id = 0;
    for (s, section) in doc.printed_sections().enumerate() {
        let heading = Paragraph::new()
            .style("Heading1")
            .add_run(heading_text(&one_line(&section.name), SIZE_SAN).color(RED))
            .keep_next(true)
            .line_spacing(spacing(360, 240, 240))
            // 目录 keeps the first page with the masthead; articles start
            // on the next one, as in the printed issue.
            .page_break_before(s == 0);
        out.push(ruled(heading, BorderType::Single, 12));
        for (a, article) in section.articles.iter().enumerate() {
            bookmark_id += 1;
            out.extend(article_paragraphs(article, bookmark_id, &bookmark(s, a)));
        }
    }
    out
}

fn article_paragraphs(article: &IssueArticle, id: usize, name: &str) -> Vec<Paragraph> {
    let mut out = vec![
        Paragraph::new()
            .style("Heading2")
            .add_bookmark_start(id, name)
            .add_run(heading_text(&one_line(&article.title), SIZE_SI))
            .add_bookmark_end(id)
            .align(AlignmentType::Center)
            // A title never ends a page or breaks across one.
            .keep_next(true)
            .keep_lines(true)
            .line_spacing(spacing(360, 240, 276)),
    ];
    for paragraph in article.printed_paragraphs() {
        out.push(
            Paragraph::new()
                .add_run(text(&paragraph))
                .align(AlignmentType::Both)
                .indent(
                    None,
                    Some(SpecialIndentType::FirstLine(FIRST_LINE_INDENT)),
                    None,
                    None,
                )
                .line_spacing(spacing(0, 0, 360)),
        );
    }
    let origin = one_line(&article.origin);
    let mut source = Paragraph::new()
        .align(AlignmentType::Right)
        .line_spacing(spacing(120, 240, 360))
        .add_run(text("来源："));
    source = match article.url.as_deref().and_then(web_url) {
        Some(url) => source
            .add_hyperlink(Hyperlink::new(url, HyperlinkType::External).add_run(text(&origin))),
        None => source.add_run(text(&origin)),
    };
    out.push(source);
    out
}

/// `s` without the characters XML 1.0 forbids (control characters other
/// than tab, newline and carriage return; U+FFFE and U+FFFF): Word refuses
/// to open a document holding one, and scraped text sometimes does.
fn xml_safe(s: &str) -> String {
    s.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{fffe}' | '\u{ffff}'))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_word_cannot_store_are_dropped() {
        assert_eq!(xml_safe("a\u{0}b\u{1b}c\td\u{ffff}"), "abc\td");
    }

    #[test]
    fn the_first_line_indent_is_two_characters_of_text() {
        // 12 pt text: two characters are 24 pt, 480 twips.
        assert_eq!(FIRST_LINE_INDENT, 480);
    }
}

//! Article HTML → the plain paragraphs an issue prints. The stored content is
//! sanitized HTML (see [`crate::normalize::sanitize_html`]); the bulletin
//! wants plain text paragraphs so that every export format can lay them out
//! its own way (first-line indent, justified text). The HTML is read by the
//! crate's one text walk, [`crate::markup::text_blocks`]; what is the
//! bulletin's own is the typography of a printed Chinese page ([`clean`]).

/// Plain-text paragraphs of sanitized article HTML: one per block element
/// (`p`, `div`, `h2`–`h4`, `li`, …) or `<br>`-separated line, one per table
/// row with its cells side by side (the blocks of
/// [`crate::markup::text_blocks`]); whitespace collapsed, empty paragraphs
/// dropped.
///
/// ```
/// use kuaibao::bulletin::paragraphs_from_html;
/// assert_eq!(paragraphs_from_html("<p>a</p><p>b<br>c</p><p>&nbsp;</p>"), ["a", "b", "c"]);
/// ```
pub fn paragraphs_from_html(html: &str) -> Vec<String> {
    crate::markup::text_blocks(html)
        .iter()
        .map(|block| block.line_with(clean))
        .filter(|p| !p.is_empty())
        .collect()
}

/// Whitespace collapsed and trimmed; then a space left between two Chinese
/// characters is removed, because there it is only the line break of the
/// page's source (`稳岗\n  促就业`), and Chinese is written without spaces. A
/// space next to a digit or a Latin letter (`2024 年 7 月`) is kept.
fn clean(raw: &str) -> String {
    let collapsed = crate::text::collapse_ws(raw);
    let chars: Vec<char> = collapsed.chars().collect();
    let mut out = String::with_capacity(collapsed.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let before = i.checked_sub(1).and_then(|j| chars.get(j));
            let after = chars.get(i + 1);
            if let (Some(&b), Some(&a)) = (before, after)
                && is_cjk(b)
                && is_cjk(a)
            {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Chinese characters and the punctuation set with them, curly quotes,
/// dashes and ellipses included: Chinese text uses those too, and a space
/// between them and a character is as much a source line break.
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{b7}' | '\u{2014}' | '\u{2018}'..='\u{201d}' | '\u{2026}' // · — ‘’“” …
        |         '\u{3001}'..='\u{303f}' // CJK punctuation: 、。《》「」【】
        | '\u{3400}'..='\u{4dbf}' // Extension A
        | '\u{4e00}'..='\u{9fff}' // Unified Ideographs
        | '\u{f900}'..='\u{faff}' // Compatibility Ideographs
        | '\u{ff01}'..='\u{ff60}' // full-width forms: ，：；（）！？
        | '\u{20000}'..='\u{2ffff}' // Extensions B and later
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_articles_nested_a_hundred_thousand_deep_render_on_a_small_stack() {
        let html =
            "<div>".repeat(100_000) + "<p>正文</p>" + &"</div>".repeat(100_000) + "<p>后记</p>";
        // 256 KiB: a recursion per level would need hundreds of MiB.
        let paragraphs = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || paragraphs_from_html(&html))
            .expect("thread")
            .join()
            .expect("no stack overflow");
        assert_eq!(paragraphs, ["正文", "后记"]);
    }

    #[test]
    fn paragraphs_and_br_lines_become_paragraphs_and_empty_ones_are_dropped() {
        assert_eq!(
            paragraphs_from_html("<p>a</p><p>b<br>c</p><p> </p><p>&nbsp;</p><br><br>"),
            ["a", "b", "c"]
        );
    }

    #[test]
    fn nested_blocks_headings_and_list_items_are_paragraphs_of_their_own() {
        let html = "<div><h3>一、总体要求</h3><div><p>正文<b>加粗</b>部分</p></div>\
                    <ul><li>第一项</li><li>第二项</li></ul>尾声</div>";
        assert_eq!(
            paragraphs_from_html(html),
            ["一、总体要求", "正文加粗部分", "第一项", "第二项", "尾声"]
        );
    }

    #[test]
    fn source_line_breaks_between_chinese_characters_leave_no_space() {
        let html = "<p>\u{3000}\u{3000}人社部门推出一系列政策\n      “组合拳”，稳岗\n  促就业，\
                    2024 年 7 月 5 日至 2025 年</p>";
        assert_eq!(
            paragraphs_from_html(html),
            ["人社部门推出一系列政策“组合拳”，稳岗促就业，2024 年 7 月 5 日至 2025 年"]
        );
    }

    #[test]
    fn table_rows_are_flattened_to_one_line_each() {
        let html = "<p>附表：</p><table><thead><tr><th>地区</th><th>人数</th></tr></thead>\
                    <tbody><tr><td><p>江苏</p></td><td></td><td>120</td></tr></tbody></table>";
        assert_eq!(
            paragraphs_from_html(html),
            ["附表：", "地区\u{3000}人数", "江苏\u{3000}120"]
        );
    }

    #[test]
    fn scripts_and_styles_leave_no_text_and_entities_are_decoded() {
        let html = "<style>p{}</style><p>A &amp; B &lt;C&gt;</p><script>x()</script>";
        assert_eq!(paragraphs_from_html(html), ["A & B <C>"]);
    }
}

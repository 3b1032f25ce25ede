//! The 来源 (originating outlet) of an article, for the extract stage
//! (fetch → **extract** → normalize → dedup → classify → store).
//!
//! The bulletin credits the outlet that wrote a story, not the site we
//! found it on, and pages state it only in free text (`来源：新华社`),
//! squeezed between dates, font-size buttons and editor names.

use std::sync::LazyLock;

use regex::Regex;

// A date right after the name (`来源：新华网2025-06-20`) starts the next field.
static DATE_START_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\A\d{4}\s*[-/.年]").expect("valid date-start regex"));

static LABEL_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:稿件|文章|信息|新闻)?来\s*源\s*[：:]").expect("valid origin regex")
});

/// Words that start the next field of an info line
/// (`data/extract/origin-stop-words.txt`).
static STOP_WORDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    crate::text::data_lines(include_str!("../../data/extract/origin-stop-words.txt")).collect()
});

/// Values this long are a sentence the label happened to precede, not a name.
const MAX_CHARS: usize = 40;

/// The outlet named by the first usable `来源：X` in `text`.
pub fn find_origin(text: &str) -> Option<String> {
    LABEL_RE
        .find_iter(text)
        .find_map(|m| origin_value(&text[m.end()..]))
}

fn origin_value(rest: &str) -> Option<String> {
    let rest = rest.trim_start_matches(|c: char| c == ' ' || crate::extract::is_space(c));
    let chars: Vec<char> = rest.chars().collect();
    let mut out = String::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let tail: String = chars[i..chars.len().min(i + 4)].iter().collect();
        if STOP_WORDS.iter().any(|w| tail.starts_with(w)) {
            break;
        }
        if c.is_ascii_digit() {
            let rest: String = chars[i..chars.len().min(i + 8)].iter().collect();
            if DATE_START_RE.is_match(&rest) {
                break;
            }
        }
        match c {
            '\u{3000}' | '\u{a0}' | '\t' | '\n' | '\r' => break,
            // One ASCII space separates fields unless it joins two Latin words.
            ' ' => {
                let prev_latin = i > 0 && chars[i - 1].is_ascii_alphanumeric();
                let next_latin = chars.get(i + 1).is_some_and(|n| n.is_ascii_alphanumeric());
                if !(prev_latin && next_latin) {
                    break;
                }
            }
            '|' | '｜' | '丨' | ',' | '，' | ';' | '；' | '。' | '<' | '>' => break,
            '(' | '（' => depth += 1,
            // An unmatched closing bracket ends a `（来源：新华社）` aside.
            ')' | '）' => {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    let value = out.trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, ':' | '：' | '-' | '—' | '·' | '、')
    });
    let n = value.chars().count();
    (n > 0 && n <= MAX_CHARS).then(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_outlet_after_each_label_form() {
        assert_eq!(find_origin("来源：新华社").as_deref(), Some("新华社"));
        assert_eq!(find_origin("来源:新华社").as_deref(), Some("新华社"));
        assert_eq!(find_origin("来源： 人民日报").as_deref(), Some("人民日报"));
        assert_eq!(
            find_origin("稿件来源：光明日报").as_deref(),
            Some("光明日报")
        );
        assert_eq!(
            find_origin("文章来源：江苏省人社厅").as_deref(),
            Some("江苏省人社厅")
        );
        assert_eq!(
            find_origin("信息来源： 中国政府网").as_deref(),
            Some("中国政府网")
        );
    }

    #[test]
    fn stops_at_the_next_field_of_the_info_line() {
        assert_eq!(
            find_origin("发布日期：2025-06-20\u{3000}\u{3000}来源：人力资源社会保障部\u{3000}\u{3000}【字体：大 中 小】").as_deref(),
            Some("人力资源社会保障部")
        );
        assert_eq!(
            find_origin("来源：新华社 | 责任编辑：张三").as_deref(),
            Some("新华社")
        );
        assert_eq!(
            find_origin("来源：新华社责任编辑：张三").as_deref(),
            Some("新华社")
        );
        assert_eq!(
            find_origin("来源：工人日报 作者：李四").as_deref(),
            Some("工人日报")
        );
        assert_eq!(
            find_origin("来源：经济日报【打印】").as_deref(),
            Some("经济日报")
        );
        assert_eq!(find_origin("（来源：新华社）").as_deref(), Some("新华社"));
        assert_eq!(
            find_origin("来源：人民日报（海外版）").as_deref(),
            Some("人民日报（海外版）")
        );
        assert_eq!(
            find_origin("来源：Xinhua News").as_deref(),
            Some("Xinhua News")
        );
    }

    #[test]
    fn rejects_empty_and_absurd_values() {
        assert_eq!(find_origin("来源：\u{3000}\u{3000}字号：大"), None);
        assert_eq!(find_origin("没有标注"), None);
        let long = format!("来源：{}", "很".repeat(41));
        assert_eq!(find_origin(&long), None);
    }

    #[test]
    fn skips_an_empty_label_for_a_later_one() {
        assert_eq!(
            find_origin("来源：　发布日期：2025-06-20 来源：中国新闻网").as_deref(),
            Some("中国新闻网")
        );
    }
}

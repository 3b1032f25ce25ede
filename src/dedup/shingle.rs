//! Normalization for fingerprinting, and character shingles.
//!
//! [`strip_boilerplate`] removes what outlets add around one article
//! (datelines, bylines, editor's notes, `来源`/`责任编辑` lines, `（完）`,
//! share/print links) and folds full-width forms and a few dozen traditional
//! characters; the result still has its punctuation, so figures such as
//! `2.9%` survive for the entity checks. [`normalize`] then keeps only
//! letters and digits: what is left is the sequence of words the shingles
//! are cut from.

use crate::text::stable_hash;
use std::sync::LazyLock;

use regex::Regex;

/// Whole lines that say nothing about which article this is.
const BOILERPLATE_PREFIXES: &[&str] = &[
    "来源",
    "稿件来源",
    "文章来源",
    "信息来源",
    "本文来源",
    "原标题",
    "责任编辑",
    "编辑：",
    "编辑:",
    "校对",
    "审核",
    "审校",
    "终审",
    "编者按",
    "编者注",
    "编者的话",
    "编辑注",
    "编后",
    "【编者按",
    "［编者按",
    "[编者按",
    "【字体",
    "字体：",
    "字号：",
    "分享到",
    "分享：",
    "打印",
    "【打印",
    "关闭",
    "【关闭",
    "扫一扫",
    "相关阅读",
    "相关新闻",
    "相关链接",
    "【纠错】",
    "纠错",
    "作者：",
    "作者:",
    "记者：",
    "记者:",
    "通讯员：",
    "摄影：",
    "图片来源",
    "版权声明",
    "声明：",
    "转载请注明",
    "(本文",
    "(注：",
];

/// A dateline or byline at the start of a paragraph: `新华社北京6月18日电`,
/// `中新网10月8日电（记者 张三）`, `本报讯（记者 张三 通讯员 李四）`,
/// `（记者 王某）`. Applied to width-folded text, so brackets are ASCII.
static LEADING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:(?:[\p{Han}A-Za-z]{0,12}?(?:\d{4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*日\s*(?:电|讯)|(?:本报|本刊|本台|本网|本站)[\p{Han}]{0,6}?讯|[\p{Han}]{2,8}(?:网|台|社|报)消息)[\s:]*(?:\([^()]{0,40}\))?|\((?:记者|通讯员|特约记者)[^()]{0,40}\)|\[[\p{Han}]{2,10}(?:报道|讯|消息)\])[\s:]*",
    )
    .expect("dateline regex")
});

/// What closes a paragraph and is not the article: `（完）`,
/// `（责任编辑：李某）`, `【编辑：…】`, `（记者 张三）`, `（来源：…）`.
static TRAILING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:[\(\[【](?:完|终|记者[^()\[\]【】]{0,40}|责任编辑[^()\[\]【】]{0,40}|编辑[^()\[\]【】]{0,40}|来源[^()\[\]【】]{0,60}|原标题[^()\[\]【】]{0,80}|校对[^()\[\]【】]{0,40}|审核[^()\[\]【】]{0,40})[\)\]】]\s*)+$",
    )
    .expect("trailer regex")
});

/// Full-width ASCII to half-width, the ideographic space to a space, and the
/// common traditional forms to simplified ones.
pub fn fold_char(c: char) -> char {
    match c {
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
        '\u{3000}' | '\u{a0}' => ' ',
        '【' => '[',
        '】' => ']',
        c if (c as u32) >= 0x4e00 => simplify(c),
        c => c,
    }
}

/// Traditional → simplified for the characters that differ most often in
/// this field's vocabulary (a small table, not a converter: a reprint with
/// a few traditional characters should shingle like the original).
fn simplify(c: char) -> char {
    match SIMPLIFIED.binary_search_by_key(&c, |&(t, _)| t) {
        Ok(i) => SIMPLIFIED[i].1,
        Err(_) => c,
    }
}

/// `data/text/traditional-simplified.txt`, sorted by the traditional form.
static SIMPLIFIED: LazyLock<Vec<(char, char)>> = LazyLock::new(|| {
    let mut table: Vec<(char, char)> =
        crate::text::data_lines(include_str!("../../data/text/traditional-simplified.txt"))
            .filter_map(|line| {
                let mut chars = line.chars().filter(|c| !c.is_whitespace());
                Some((chars.next()?, chars.next()?))
            })
            .collect();
    table.sort_unstable();
    table
});

fn is_boilerplate_line(line: &str) -> bool {
    let line = line.trim_start_matches(['[', ' ']);
    BOILERPLATE_PREFIXES
        .iter()
        .any(|p| line.starts_with(p.trim_start_matches('[')))
        || line
            .chars()
            .filter(|&c| crate::text::is_alphanumeric(c))
            .count()
            <= 2
}

/// The article's own words, one paragraph a line: characters folded
/// ([`fold_char`]), whitespace runs collapsed, boilerplate lines dropped and
/// datelines, bylines and trailers cut from the paragraphs that carry them.
pub fn strip_boilerplate(text: &str) -> String {
    let folded: String = text.chars().map(fold_char).collect();
    let mut out = String::with_capacity(folded.len());
    for line in folded.lines() {
        let line = crate::text::collapse_ws(line);
        if is_boilerplate_line(&line) {
            continue;
        }
        let line = LEADING.replace(&line, "");
        let line = TRAILING.replace(&line, "");
        let line = line.trim();
        if is_boilerplate_line(line) {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
    }
    out
}

/// What shingles are cut from: [`strip_boilerplate`], then only letters and
/// digits, ASCII lower-cased. Paragraph breaks, spaces and punctuation are
/// gone, so re-paragraphing and punctuation swaps change nothing.
pub fn normalize(text: &str) -> String {
    letters_and_digits(&strip_boilerplate(text))
}

/// Letters and digits of already stripped text.
pub fn letters_and_digits(stripped: &str) -> String {
    stripped
        .chars()
        // CJK ideographs first: `is_alphanumeric` takes a slow table
        // look-up for them, and they are nearly every character here.
        .filter(|&c| ('\u{4e00}'..='\u{9fff}').contains(&c) || c.is_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The set of `n`-character shingles of normalized text, hashed, sorted and
/// deduplicated. Text shorter than `n` characters is one shingle; empty
/// text has none.
pub fn shingles(normalized: &str, n: usize) -> Vec<u64> {
    let n = n.max(1);
    let starts: Vec<usize> = normalized.char_indices().map(|(i, _)| i).collect();
    let len = starts.len();
    let mut out = Vec::with_capacity(len.saturating_sub(n - 1));
    if len == 0 {
        return out;
    }
    if len < n {
        out.push(stable_hash(normalized.as_bytes()));
        return out;
    }
    for i in 0..=len - n {
        let end = starts.get(i + n).copied().unwrap_or(normalized.len());
        out.push(stable_hash(&normalized.as_bytes()[starts[i]..end]));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// |A ∩ B| of two sorted, deduplicated sets.
pub fn intersection(a: &[u64], b: &[u64]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_datelines_bylines_and_trailers() {
        let text = "新华社北京6月18日电（记者 王某）近日，人社部印发通知。\n\
                    本报讯（记者 张三）各地积极落实。（完）\n\
                    （责任编辑：李某）\n来源：新华社\n分享到：微信 微博";
        assert_eq!(
            strip_boilerplate(text),
            "近日,人社部印发通知。\n各地积极落实。"
        );
        for dateline in [
            "中新网兰州6月8日电 (记者 李某)",
            "新华网北京2025年6月18日电",
            "央视网消息：",
            "【环球网报道】",
            "（记者 王某）",
        ] {
            assert_eq!(
                strip_boilerplate(&format!("{dateline}近日，人社部印发通知。")),
                "近日,人社部印发通知。"
            );
        }
    }

    #[test]
    fn folds_width_traditional_and_punctuation() {
        assert_eq!(
            normalize("勞動者權益　保障，ＡＢ１２。"),
            normalize("劳动者权益保障,ab12.")
        );
    }

    #[test]
    fn shingles_of_short_and_long_text() {
        assert!(shingles("", 5).is_empty());
        assert_eq!(shingles("稳岗", 5).len(), 1);
        assert_eq!(shingles("一二三四五六", 5).len(), 2);
    }
}

//! Text primitives, layer 1 (shared helpers): what counts as whitespace on
//! Chinese pages, how a line of text is tidied, and how the data files under
//! `data/` are read.

/// Whitespace as Chinese pages use it: ASCII, `&nbsp;`, the full-width
/// space and the zero-width characters editors leave behind.
pub fn is_space(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{a0}' | '\u{3000}' | '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{feff}'
        )
}

/// Collapses every whitespace run to one space and trims the ends.
pub fn collapse_ws(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(is_space).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The entries of a data file compiled in from `data/`: one a line, trimmed,
/// blank lines and `#` comments (the file's provenance header) left out.
pub fn data_lines(text: &'static str) -> impl Iterator<Item = &'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapse_ws_trims_nbsp_fullwidth_zero_width_and_doubled_whitespace() {
        assert_eq!(
            collapse_ws("\u{3000}\u{3000}近日，\u{a0}\u{a0}人社部  印发\n通知\u{200b} "),
            "近日， 人社部 印发 通知"
        );
    }
}

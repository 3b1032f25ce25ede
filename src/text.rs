//! Text primitives, layer 1 (shared helpers): what counts as whitespace on
//! Chinese pages, how a line of text is tidied, how the data files under
//! `data/` are read, and the stable hash of stored fingerprints.

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

/// FNV-1a 64 with a SplitMix64 finalizer: fixed, dependency-free and the same
/// on every platform and version, because hashes derived from it are stored.
/// (FNV alone mixes the last bytes poorly; the finalizer spreads them.)
pub fn stable_hash(bytes: &[u8]) -> u64 {
    mix64(fnv1a(bytes))
}

/// FNV-1a 64, the same on every platform and version: for keys that are
/// stored or must order the same way on every run, where the last bytes
/// need no extra mixing.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// SplitMix64's finalizer.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Whether `c` is a letter or digit (`char::is_alphanumeric`), CJK
/// ideographs answered first: they are most of every text here, and the
/// standard library finds them only after a slow table search. Every
/// code point of U+4E00–U+9FFF is an assigned ideograph, so the answer is
/// the same.
#[inline]
pub fn is_alphanumeric(c: char) -> bool {
    is_cjk_ideograph(c) || c.is_alphanumeric()
}

/// U+4E00–U+9FFF, the CJK Unified Ideographs block (no case, always
/// alphabetic).
#[inline]
pub fn is_cjk_ideograph(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable() {
        // Stored fingerprints depend on this value never changing.
        assert_eq!(stable_hash(b""), mix64(0xcbf2_9ce4_8422_2325));
        assert_eq!(
            stable_hash("稳岗".as_bytes()),
            stable_hash("稳岗".as_bytes())
        );
        assert_ne!(
            stable_hash("稳岗".as_bytes()),
            stable_hash("岗稳".as_bytes())
        );
    }

    #[test]
    fn collapse_ws_trims_nbsp_fullwidth_zero_width_and_doubled_whitespace() {
        assert_eq!(
            collapse_ws("\u{3000}\u{3000}近日，\u{a0}\u{a0}人社部  印发\n通知\u{200b} "),
            "近日， 人社部 印发 通知"
        );
    }
}

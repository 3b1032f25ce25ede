//! Charset: part of the fetch stage (fetch → extract → normalize → store →
//! publish). Turns a response's bytes into text before extract sees them.
//!
//! Chinese government sites are the hard case: many serve GBK with a bare
//! `Content-Type: text/html`, declare the charset only in `<meta>`, or declare
//! nothing at all. The order of evidence follows what browsers do, with an
//! XML declaration standing in for `<meta>` in feeds.

use encoding_rs::{Encoding, GB18030, GBK, UTF_8, UTF_16BE, UTF_16LE};

use crate::config::EncodingChoice;

/// How far into a document `<meta charset>` is looked for (as browsers do,
/// so a page that works in a browser works here).
const META_SCAN: usize = 8 * 1024;

/// Decodes `bytes` to text. Evidence, strongest first: a fixed choice, a BOM,
/// the `charset` of `content_type`, an XML declaration (when the document is
/// XML), `<meta>` within the first 8 KiB, then statistical detection.
/// GBK and its aliases decode as GB18030, its superset, so characters outside
/// GBK that such servers emit anyway survive. Never fails: undecodable bytes
/// become U+FFFD.
pub fn decode(
    bytes: &[u8],
    content_type: Option<&str>,
    choice: EncodingChoice,
) -> (String, &'static Encoding) {
    decode_with_tld(bytes, content_type, choice, None)
}

/// [`decode`] with the top-level domain of the page's host as a hint for
/// detection: an unlabelled page under `.cn` is far more likely GBK than
/// windows-1252.
pub fn decode_with_tld(
    bytes: &[u8],
    content_type: Option<&str>,
    choice: EncodingChoice,
    tld: Option<&str>,
) -> (String, &'static Encoding) {
    if let EncodingChoice::Fixed(enc) = choice {
        let enc = widen(enc);
        // A BOM of the chosen encoding is not content; any other is left as is.
        let (text, _) = enc.decode_with_bom_removal(bytes);
        return (text.into_owned(), enc);
    }
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return (text.into_owned(), enc);
    }
    let enc = content_type
        .and_then(header_charset)
        .or_else(|| xml_declaration(bytes))
        .or_else(|| meta_charset(bytes))
        .unwrap_or_else(|| detect(bytes, tld));
    let enc = widen(enc);
    let (text, _) = enc.decode_without_bom_handling(bytes);
    (text.into_owned(), enc)
}

/// GBK pages routinely contain GB18030-only characters (rare names in
/// personnel notices), and GB18030 decodes every GBK byte sequence the same.
fn widen(enc: &'static Encoding) -> &'static Encoding {
    if enc == GBK { GB18030 } else { enc }
}

/// The `charset` parameter of a Content-Type value, if it names an encoding.
fn header_charset(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'').trim();
        Encoding::for_label(value.as_bytes())
    })
}

/// A label read from inside the document itself: if we could read it as
/// ASCII, the document is not UTF-16, whatever it claims (HTML spec rule).
fn in_document(enc: &'static Encoding) -> &'static Encoding {
    if enc == UTF_16LE || enc == UTF_16BE {
        UTF_8
    } else {
        enc
    }
}

/// `<?xml version="1.0" encoding="…"?>` at the very start. Checked before
/// `<meta>` because a feed's first 8 KiB often quote HTML (CDATA) whose
/// `<meta>` describes some other document.
fn xml_declaration(bytes: &[u8]) -> Option<&'static Encoding> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = &bytes[start..];
    if !rest.starts_with(b"<?xml") {
        return None;
    }
    let decl = &rest[..rest.len().min(512)];
    let end = find(decl, b"?>")?;
    let decl = decl[..end].to_ascii_lowercase();
    let at = find(&decl, b"encoding")? + b"encoding".len();
    let label = attribute_value(&decl[at..])?;
    Encoding::for_label(label).map(in_document)
}

/// `<meta charset="…">` or `<meta http-equiv="Content-Type"
/// content="…; charset=…">` within the first [`META_SCAN`] bytes.
fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = bytes[..bytes.len().min(META_SCAN)].to_ascii_lowercase();
    let mut pos = 0;
    while let Some(i) = find(&head[pos..], b"<meta") {
        let start = pos + i + b"<meta".len();
        let end = head[start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(head.len(), |e| start + e);
        // `<metadata>` and the like are not meta tags.
        let is_tag = head
            .get(start)
            .is_some_and(|&b| b.is_ascii_whitespace() || b == b'/');
        if is_tag {
            let tag = &head[start..end];
            let mut from = 0;
            while let Some(j) = find(&tag[from..], b"charset") {
                let after = from + j + b"charset".len();
                if let Some(enc) = attribute_value(&tag[after..]).and_then(Encoding::for_label) {
                    return Some(in_document(enc));
                }
                from = after;
            }
        }
        pos = end;
    }
    None
}

/// After a name: `\s*=\s*["']?label`. Returns the label.
fn attribute_value(s: &[u8]) -> Option<&[u8]> {
    let s = trim_start(s);
    let s = trim_start(s.strip_prefix(b"=")?);
    let s = s
        .strip_prefix(b"\"")
        .or_else(|| s.strip_prefix(b"'"))
        .unwrap_or(s);
    let s = trim_start(s);
    let len = s
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':')))
        .unwrap_or(s.len());
    (len > 0).then(|| &s[..len])
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &s[n..]
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// No label anywhere: guess from the bytes.
fn detect(bytes: &[u8], tld: Option<&str>) -> &'static Encoding {
    // Valid UTF-8 (including plain ASCII, e.g. JSON) is UTF-8; chardetng
    // would name pure ASCII windows-1252, which decodes the same but reads
    // oddly in logs.
    if std::str::from_utf8(bytes).is_ok() {
        return UTF_8;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    // `guess` panics on a TLD with upper case, dots or non-ASCII.
    let tld = tld.filter(|t| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    detector.guess(tld.map(str::as_bytes), chardetng::Utf8Detection::Allow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auto(bytes: &[u8], ct: Option<&str>) -> &'static str {
        decode(bytes, ct, EncodingChoice::Auto).1.name()
    }

    #[test]
    fn gbk_labels_widen_to_gb18030() {
        assert_eq!(auto(b"abc", Some("text/html; charset=gb2312")), "gb18030");
        assert_eq!(auto(b"abc", Some("text/html;charset=\"GBK\"")), "gb18030");
        assert_eq!(auto(b"abc", Some("text/html; charset=x-gbk")), "gb18030");
    }

    #[test]
    fn meta_http_equiv_and_charset_forms_are_read() {
        let a = b"<html><head><META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=gb2312\"></head>";
        assert_eq!(auto(a, Some("text/html")), "gb18030");
        let b = b"<html><head><meta charset='big5'/></head>";
        assert_eq!(auto(b, None), "Big5");
    }

    #[test]
    fn meta_beyond_8_kib_is_ignored() {
        let mut page = b"<html><head>".to_vec();
        page.extend(std::iter::repeat_n(b' ', META_SCAN));
        page.extend(b"<meta charset=\"gbk\"></head>");
        assert_eq!(auto(&page, None), "UTF-8");
    }

    #[test]
    fn xml_declaration_names_the_feed_encoding() {
        let feed = b"<?xml version=\"1.0\" encoding=\"GB2312\"?><rss></rss>";
        assert_eq!(auto(feed, Some("application/xml")), "gb18030");
    }

    #[test]
    fn utf16_claim_inside_an_ascii_document_means_utf8() {
        assert_eq!(auto(b"<meta charset=\"utf-16\">", None), "UTF-8");
    }

    #[test]
    fn fixed_choice_overrides_header_and_strips_own_bom() {
        let (text, enc) = decode(
            b"\xEF\xBB\xBFhi",
            Some("text/html; charset=gbk"),
            EncodingChoice::Fixed(UTF_8),
        );
        assert_eq!((text.as_str(), enc.name()), ("hi", "UTF-8"));
    }

    #[test]
    fn odd_tld_does_not_panic_detection() {
        let gbk = b"\xc8\xcb\xc1\xa6\xd7\xca\xd4\xb4";
        let _ = decode_with_tld(gbk, None, EncodingChoice::Auto, Some("CN."));
        let _ = decode_with_tld(gbk, None, EncodingChoice::Auto, Some("中国"));
    }
}

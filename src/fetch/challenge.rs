//! Anti-bot challenge pages: part of the fetch stage (fetch → extract →
//! normalize → store → publish).
//!
//! 人社部 (mohrss.gov.cn) sits behind Tencent EdgeOne, which now and then
//! answers 200 with a tiny script page instead of the content: it sets an
//! `EO_Bot_Ssid` cookie, defines three numbers under random five-letter
//! names, and wants `__tst_status=<their sum>#` as a cookie before a reload.
//! Left alone, extract would see an empty list and the source would look
//! dead, so the fetcher recognises the page, answers it once, and otherwise
//! reports it plainly.

use std::sync::LazyLock;

use regex::Regex;

/// Real challenge pages are about 1 KB; anything much larger is content.
const MAX_CHALLENGE: usize = 16 * 1024;

/// The names EdgeOne used when RSSHub's solver was written; tried first.
static KNOWN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:WTKkN|bOYDu|wyeCN)['"]?\s*[:=]\s*(\d{1,15})"#).expect("valid regex")
});
/// Any five-letter name given a number (`"AbCdE": 123`, `var AbCdE = 123`);
/// the names are random per page. `max-age=600` and the like don't match.
static FIVE_LETTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:^|[^A-Za-z0-9_$.\-])['"]?([A-Za-z]{5})['"]?\s*[:=]\s*(\d{1,15})\b"#)
        .expect("valid regex")
});
static SCRIPT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)<script\b.*?(?:</script\s*>|\z)").expect("valid regex"));
static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?s)<[^>]*>").expect("valid regex"));
static SSID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"EO_Bot_Ssid=([^;,\s'\x22]+)").expect("valid regex"));

/// Whether `body` is a challenge page rather than content: small, made of
/// script, carrying the EdgeOne markers.
pub fn is_challenge(body: &[u8]) -> bool {
    if body.len() > MAX_CHALLENGE {
        return false;
    }
    let text = String::from_utf8_lossy(body);
    if !SCRIPT.is_match(&text) {
        return false;
    }
    let marked = text.contains("__tst_status")
        || text.contains("EO_Bot_Ssid")
        || KNOWN.find_iter(&text).count() >= 3;
    if !marked {
        return false;
    }
    // Content pages that merely mention the cookie have visible text.
    let visible = TAG
        .replace_all(&SCRIPT.replace_all(&text, ""), "")
        .into_owned();
    visible.chars().filter(|c| !c.is_whitespace()).count() < 200
}

/// The `__tst_status` value: the sum of the page's three numbers, if exactly
/// three can be found.
pub fn solve(body: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(body);
    let scripts: String = SCRIPT.find_iter(&text).map(|m| m.as_str()).collect();
    let known: Vec<u64> = KNOWN
        .captures_iter(&scripts)
        .filter_map(|c| c[1].parse().ok())
        .take(3)
        .collect();
    let numbers = if known.len() == 3 {
        known
    } else {
        let mut seen: Vec<(String, u64)> = Vec::new();
        for c in FIVE_LETTER.captures_iter(&scripts) {
            let Ok(n) = c[2].parse::<u64>() else { continue };
            if !seen.iter().any(|(name, _)| name == &c[1]) {
                seen.push((c[1].to_string(), n));
            }
        }
        if seen.len() != 3 {
            return None;
        }
        seen.into_iter().map(|(_, n)| n).collect()
    };
    numbers.into_iter().try_fold(0u64, u64::checked_add)
}

/// The `EO_Bot_Ssid` cookie value, from the response's `Set-Cookie` headers
/// or, failing that, from the page's own `document.cookie` line.
pub fn ssid<'a>(set_cookies: impl IntoIterator<Item = &'a str>, body: &[u8]) -> Option<String> {
    set_cookies
        .into_iter()
        .find_map(|c| SSID.captures(c).map(|m| m[1].to_string()))
        .or_else(|| {
            SSID.captures(&String::from_utf8_lossy(body))
                .map(|m| m[1].to_string())
        })
}

/// The `Cookie` header for the retry.
pub fn cookie(ssid: Option<&str>, sum: u64) -> String {
    match ssid {
        Some(s) => format!("EO_Bot_Ssid={s}; __tst_status={sum}#"),
        None => format!("__tst_status={sum}#"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_names_are_summed() {
        let page = br##"<html><script>var QwErT = 12, aSdFg = 30; var ZxCvB=100;
            document.cookie="__tst_status="+(QwErT+aSdFg+ZxCvB)+"#;max-age=600;path=/";
            location.reload();</script></html>"##;
        assert!(is_challenge(page));
        assert_eq!(solve(page), Some(142));
    }

    #[test]
    fn content_mentioning_the_cookie_is_not_a_challenge() {
        let mut page = String::from("<html><script>var x='__tst_status';</script><p>");
        page.push_str(&"人社部发布就业政策通知。".repeat(30));
        page.push_str("</p></html>");
        assert!(!is_challenge(page.as_bytes()));
    }

    #[test]
    fn two_numbers_cannot_be_solved() {
        let page =
            br#"<script>var QwErT = 12, aSdFg = 30; document.cookie="__tst_status=";</script>"#;
        assert_eq!(solve(page), None);
    }

    #[test]
    fn ssid_prefers_set_cookie() {
        let body = br#"<script>document.cookie="EO_Bot_Ssid=body1;path=/"</script>"#;
        assert_eq!(
            ssid(["EO_Bot_Ssid=hdr2; Path=/; Max-Age=600"], body).as_deref(),
            Some("hdr2")
        );
        assert_eq!(ssid([], body).as_deref(), Some("body1"));
    }
}

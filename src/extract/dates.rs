//! Dates as Chinese outlets write them, for the extract stage (fetch →
//! **extract** → normalize → dedup → classify → store).
//!
//! Lists, info lines and metas write dates in a dozen shapes with no zone;
//! all of them are Beijing time. Rather than one format string per site,
//! [`parse_date`] finds the first plausible date in free text.

use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use regex::Regex;

use crate::time::beijing;

static DATE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        (?:^|[^0-9])
        (?P<y>(?:19|20)\d{2}) \s* (?:[-/.]|年) \s* (?P<m>\d{1,2}) \s* (?:[-/.]|月) \s* (?P<d>\d{1,2})
        (?P<after_day> \s* 日)?
        (?:
            (?: [\sT\u{3000}\u{a0}]* | -)
            (?P<h>\d{1,2}) \s* [:：时] \s* (?P<min>\d{1,2})
            (?: \s* [:：分] \s* (?P<s>\d{1,2}) )?
            (?: \.\d+ )?
            \s* (?P<z> Z | [+-]\d{2}:?\d{2} )?
        )?",
    )
    .expect("valid date regex")
});

/// The first real date in `text`, such as `发布日期：2025-06-20 10:30` or
/// `2025年6月20日`. Without a zone the date is Beijing time (+08:00); an
/// RFC 3339 or RFC 2822 zone is kept. Impossible dates are not dates.
pub fn parse_date(text: &str) -> Option<DateTime<FixedOffset>> {
    let trimmed = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(trimmed) {
        return Some(dt);
    }
    if let Some(dt) = parse_rfc2822(trimmed) {
        return Some(dt);
    }
    for caps in DATE_RE.captures_iter(text) {
        let num = |name: &str| caps.name(name).and_then(|m| m.as_str().parse::<u32>().ok());
        let (Some(y), Some(m), Some(d)) = (num("y"), num("m"), num("d")) else {
            continue;
        };
        // `2025-06-201` is a number, not a date.
        let end = caps.name("d").map_or(0, |m| m.end());
        let day_end_digit = text[end..].starts_with(|c: char| c.is_ascii_digit());
        if day_end_digit && caps.name("h").is_none() {
            continue;
        }
        let Some(date) = NaiveDate::from_ymd_opt(y as i32, m, d) else {
            continue;
        };
        let time = match (num("h"), num("min")) {
            (Some(h), Some(min)) => match NaiveTime::from_hms_opt(h, min, num("s").unwrap_or(0)) {
                Some(t) => t,
                None => NaiveTime::MIN,
            },
            _ => NaiveTime::MIN,
        };
        let offset = caps
            .name("z")
            .and_then(|z| parse_offset(z.as_str()))
            .unwrap_or_else(beijing);
        if let Some(dt) = offset
            .from_local_datetime(&NaiveDateTime::new(date, time))
            .single()
        {
            return Some(dt);
        }
    }
    None
}

/// RFC 2822 as feeds write it. `CST` in a Chinese feed means China
/// Standard Time, not US Central, so it is read as +08:00.
pub(crate) fn parse_rfc2822(text: &str) -> Option<DateTime<FixedOffset>> {
    let text = text.trim();
    let fixed;
    let text = if let Some(head) = text.strip_suffix("CST") {
        fixed = format!("{}+0800", head);
        fixed.as_str()
    } else {
        text
    };
    if let Ok(dt) = DateTime::parse_from_rfc2822(text) {
        return Some(dt);
    }
    // Some feeds write a wrong weekday; chrono rejects the whole date then.
    if let Some((_, rest)) = text.split_once(',') {
        return DateTime::parse_from_str(rest.trim(), "%d %b %Y %H:%M:%S %z").ok();
    }
    None
}

fn parse_offset(z: &str) -> Option<FixedOffset> {
    if z == "Z" {
        return FixedOffset::east_opt(0);
    }
    let sign = if z.starts_with('-') { -1 } else { 1 };
    let digits: String = z[1..].chars().filter(char::is_ascii_digit).collect();
    let h: i32 = digits.get(0..2)?.parse().ok()?;
    let m: i32 = digits.get(2..4)?.parse().ok()?;
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

static URL_DATE_RES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // TRS: .../202506/t20250620_123.html
        r"[/_]t(?P<y>20\d{2})(?P<m>\d{2})(?P<d>\d{2})(?:[_.]|$)",
        // gmw: /2025-06/20/content_1.htm
        r"/(?P<y>20\d{2})-(?P<m>\d{2})/(?P<d>\d{2})/",
        // Hanweb: /art/2025/6/20/art_1_2.html, and other /YYYY/M/D/ paths
        r"/(?P<y>20\d{2})/(?P<m>\d{1,2})/(?P<d>\d{1,2})/",
        // chinanews: /gn/2025/06-08/10428888.shtml
        r"/(?P<y>20\d{2})/(?P<m>\d{2})-(?P<d>\d{2})/",
        // chinanews archives: /scroll-news/2025/0608/news.shtml
        r"/(?P<y>20\d{2})/(?P<m>\d{2})(?P<d>\d{2})/",
        // Beijing: /20250620/ or /20250620_1.html
        r"/(?P<y>20\d{2})(?P<m>\d{2})(?P<d>\d{2})(?:[/_.]|$)",
    ]
    .iter()
    .map(|p| Regex::new(p).expect("valid URL date regex"))
    .collect()
});

/// The publication date an article URL carries (`t20250620_123.html`,
/// `/2025-06/20/`, `/20250620/`, `art/2025/6/20/`), at midnight Beijing
/// time. A URL naming only a month (`/202506/content_1.htm`) says nothing
/// about the day, so it yields None rather than a guessed day 1.
pub fn date_from_url(url: &str) -> Option<DateTime<FixedOffset>> {
    let path = url::Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_else(|_| url.to_string());
    for re in URL_DATE_RES.iter() {
        for caps in re.captures_iter(&path) {
            let num = |name: &str| caps.name(name).and_then(|m| m.as_str().parse::<u32>().ok());
            let (Some(y), Some(m), Some(d)) = (num("y"), num("m"), num("d")) else {
                continue;
            };
            if let Some(date) = NaiveDate::from_ymd_opt(y as i32, m, d) {
                return beijing()
                    .from_local_datetime(&date.and_time(NaiveTime::MIN))
                    .single();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bj(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<FixedOffset> {
        beijing().with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn parses_every_shape_the_outlets_use_as_beijing_time() {
        let cases = [
            ("2025-06-20", bj(2025, 6, 20, 0, 0, 0)),
            ("2025-06-20 10:30", bj(2025, 6, 20, 10, 30, 0)),
            ("2025-06-20 10:30:15", bj(2025, 6, 20, 10, 30, 15)),
            ("2025/06/20", bj(2025, 6, 20, 0, 0, 0)),
            ("2025/06/20 10:30", bj(2025, 6, 20, 10, 30, 0)),
            ("2025.06.20", bj(2025, 6, 20, 0, 0, 0)),
            ("2025-06-20-09:37:43", bj(2025, 6, 20, 9, 37, 43)),
            ("2025年6月20日", bj(2025, 6, 20, 0, 0, 0)),
            ("2025年06月20日 10:30", bj(2025, 6, 20, 10, 30, 0)),
            ("2025年6月20日10:30", bj(2025, 6, 20, 10, 30, 0)),
            ("发布日期：2025-06-20", bj(2025, 6, 20, 0, 0, 0)),
            ("发布时间：2025-06-20 10:30", bj(2025, 6, 20, 10, 30, 0)),
            ("时间:2025-06-20", bj(2025, 6, 20, 0, 0, 0)),
            ("[2025-06-20]", bj(2025, 6, 20, 0, 0, 0)),
            (
                "2025年06月08日 10:30\u{3000}来源：中国新闻网",
                bj(2025, 6, 8, 10, 30, 0),
            ),
        ];
        for (text, want) in cases {
            let got = parse_date(text);
            assert_eq!(got, Some(want), "{text}");
            assert_eq!(got.unwrap().offset().local_minus_utc(), 8 * 3600, "{text}");
        }
    }

    #[test]
    fn keeps_the_zone_rfc3339_and_rfc2822_give() {
        let dt = parse_date("2025-06-20T10:30:00Z").unwrap();
        assert_eq!(dt.offset().local_minus_utc(), 0);
        assert_eq!(dt.to_rfc3339(), "2025-06-20T10:30:00+00:00");
        let dt = parse_date("2025-06-20T10:30:00+08:00").unwrap();
        assert_eq!(dt, bj(2025, 6, 20, 10, 30, 0));
        let dt = parse_date("Fri, 20 Jun 2025 10:30:00 +0800").unwrap();
        assert_eq!(dt, bj(2025, 6, 20, 10, 30, 0));
    }

    #[test]
    fn reads_cst_in_rfc2822_as_china_standard_time() {
        assert_eq!(
            parse_date("Fri, 20 Jun 2025 10:30:00 CST"),
            Some(bj(2025, 6, 20, 10, 30, 0))
        );
    }

    #[test]
    fn rejects_impossible_dates_and_text_without_a_date() {
        assert_eq!(parse_date("2025-13-40"), None);
        assert_eq!(parse_date("2025-02-30"), None);
        assert_eq!(parse_date("第2025号文件"), None);
        assert_eq!(parse_date(""), None);
    }

    #[test]
    fn date_from_url_reads_full_dates_only() {
        let d = bj(2025, 6, 20, 0, 0, 0);
        for url in [
            "https://www.mohrss.gov.cn/SYrlzyhshbzb/x/202506/t20250620_123.html",
            "https://news.gmw.cn/2025-06/20/content_1.htm",
            "https://rsj.beijing.gov.cn/xxgk/20250620/abc.html",
            "https://jshrss.jiangsu.gov.cn/art/2025/6/20/art_78_1.html",
            "https://www.chinanews.com.cn/gn/2025/06-20/10428888.shtml",
        ] {
            assert_eq!(date_from_url(url), Some(d), "{url}");
        }
        assert_eq!(
            date_from_url("https://www.gov.cn/zhengce/202506/content_7028.htm"),
            None
        );
        assert_eq!(date_from_url("https://example.com/t20251340_1.html"), None);
    }
}

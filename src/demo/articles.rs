//! The sample articles: one real issue of 信息快报 (第 202509 期), compiled
//! into the binary so the demo needs no network and no files.
//!
//! The text is the bulletin's own, with the PDF's hard wraps joined; what the
//! bulletin does not record (each outlet's own headline and publication time)
//! is a plausible stand-in, kept in the data file next to the text.

use serde::Deserialize;

/// The data file; TOML because it keeps long Chinese paragraphs readable and
/// diffable, one per line.
const BULLETIN_TOML: &str = include_str!("bulletin-202509.toml");

/// One article of the sample bulletin, as its outlet published it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleArticle {
    /// Short, stable, `[a-z0-9-]+`; used in the demo outlets' URLs.
    pub slug: String,
    /// Section id: `focus`, `regional`, `opinion` or `abroad`.
    pub section: String,
    /// The title as the bulletin prints it (regional ones as `地区：…`).
    pub title: String,
    /// The title as the outlet published it.
    pub original_title: String,
    /// The outlet the bulletin credits (`来源：…`).
    pub origin: String,
    /// Beijing time, `"YYYY-MM-DD HH:MM"`.
    pub date: String,
    /// The full text, one entry per paragraph.
    pub paragraphs: Vec<String>,
}

impl SampleArticle {
    /// `date` as `(YYYY, MM, DD, HH, MM)` pieces, for the many date formats
    /// the outlets print.
    pub(crate) fn date_parts(&self) -> (&str, &str, &str, &str, &str) {
        let d = &self.date;
        (&d[0..4], &d[5..7], &d[8..10], &d[11..13], &d[14..16])
    }

    /// `date` as `YYYYMMDD`, the form article URLs carry.
    pub(crate) fn compact_date(&self) -> String {
        let (y, m, d, _, _) = self.date_parts();
        format!("{y}{m}{d}")
    }

    /// Publication time with the +08:00 offset every outlet implies.
    pub(crate) fn published(&self) -> chrono::DateTime<chrono::FixedOffset> {
        let naive = chrono::NaiveDateTime::parse_from_str(&self.date, "%Y-%m-%d %H:%M")
            .expect("sample dates are validated by the unit tests");
        naive
            .and_local_timezone(crate::time::beijing())
            .single()
            .expect("fixed offsets are unambiguous")
    }
}

/// What the demo outlets carry besides the sample articles.
const OTHERS_TOML: &str = include_str!("others.toml");

/// Why an item other than a sample article is on a demo outlet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OtherKind {
    /// A republication of a sample article (`copy_of`): one story with it.
    Copy,
    /// Outside the bulletin's scope: never published.
    OffTopic,
}

/// An item of a general outlet that is not in the sample bulletin.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtherArticle {
    pub slug: String,
    pub kind: OtherKind,
    /// The sample article's slug, for a copy.
    #[serde(default)]
    pub copy_of: Option<String>,
    /// The outlet's title.
    pub title: String,
    pub origin: String,
    /// Beijing time, `"YYYY-MM-DD HH:MM"`.
    pub date: String,
    pub paragraphs: Vec<String>,
}

impl OtherArticle {
    /// As a [`SampleArticle`] with no section, for the outlets' templates.
    pub(crate) fn as_sample(&self) -> SampleArticle {
        SampleArticle {
            slug: self.slug.clone(),
            section: String::new(),
            title: self.title.clone(),
            original_title: self.title.clone(),
            origin: self.origin.clone(),
            date: self.date.clone(),
            paragraphs: self.paragraphs.clone(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OthersFile {
    article: Vec<OtherArticle>,
}

/// The copies and off-topic items the demo's 中国新闻网 carries.
pub fn other_articles() -> Vec<OtherArticle> {
    toml::from_str::<OthersFile>(OTHERS_TOML)
        .expect("the embedded demo data is checked by the unit tests")
        .article
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BulletinFile {
    article: Vec<SampleArticle>,
}

/// All articles of the sample bulletin, in bulletin order.
pub fn sample_articles() -> Vec<SampleArticle> {
    toml::from_str::<BulletinFile>(BULLETIN_TOML)
        .expect("the embedded bulletin data is checked by the unit tests")
        .article
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn other_articles_parse_and_copies_name_a_sample_article() {
        let samples: HashSet<String> = sample_articles().into_iter().map(|a| a.slug).collect();
        let others = other_articles();
        assert!(others.iter().any(|o| o.kind == OtherKind::Copy));
        for o in &others {
            o.as_sample().published();
            assert!(!samples.contains(&o.slug), "{} is unique", o.slug);
            if o.kind == OtherKind::Copy {
                let of = o.copy_of.as_deref().unwrap_or_default();
                assert!(samples.contains(of), "{} copies {of}", o.slug);
            }
        }
    }

    #[test]
    fn the_bulletin_has_ten_articles_in_four_sections_in_bulletin_order() {
        let articles = sample_articles();
        // 2 最新关注 + 5 各地动态 + 2 一家之言 + 1 他山之石, as the issue's
        // table of contents lists them.
        assert_eq!(articles.len(), 10);
        let sections: Vec<&str> = articles.iter().map(|a| a.section.as_str()).collect();
        let mut order = sections.clone();
        order.dedup();
        assert_eq!(order, ["focus", "regional", "opinion", "abroad"]);
    }

    #[test]
    fn no_paragraph_keeps_the_source_line_or_a_pdf_hard_wrap() {
        for a in sample_articles() {
            assert!(!a.paragraphs.is_empty(), "{}", a.slug);
            for p in &a.paragraphs {
                assert!(!p.contains("来源："), "{}: {p}", a.slug);
                assert!(!p.contains('\n'), "{}: {p}", a.slug);
                assert_eq!(p.trim(), p, "{}", a.slug);
            }
        }
        let all: String = sample_articles()
            .iter()
            .flat_map(|a| a.paragraphs.clone())
            .collect();
        for joined in [
            "稳岗返还政策，",
            "水平提升专项行动，",
            "而且利益的矛盾",
            "联合国报告",
        ] {
            assert!(all.contains(joined), "{joined}");
        }
    }

    #[test]
    fn slugs_are_unique_ids_and_dates_parse_before_the_issue_date() {
        let mut seen = HashSet::new();
        for a in sample_articles() {
            assert!(
                a.slug
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                a.slug
            );
            assert!(seen.insert(a.slug.clone()), "duplicate {}", a.slug);
            assert!(a.date.as_str() <= "2025-06-20 23:59", "{}", a.date);
            assert!(a.date.starts_with("2025-06-"), "{}", a.date);
            let _ = a.published();
        }
    }

    #[test]
    fn regional_titles_name_the_region_and_keep_an_original_headline() {
        for a in sample_articles().iter().filter(|a| a.section == "regional") {
            assert!(a.title.contains('：'), "{}", a.title);
            assert_ne!(a.title, a.original_title);
            assert!(a.origin.ends_with('厅'), "{}", a.origin);
        }
    }
}

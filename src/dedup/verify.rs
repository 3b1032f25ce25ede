//! Verification of a candidate pair: exact shingle overlap, then the checks
//! that tell a republished story from a different story on one template.

use crate::places::Place;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::DedupConfig;
use super::minhash::Fingerprint;
use super::shingle::{intersection, letters_and_digits, shingles, strip_boilerplate};

/// What is compared of an item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryText {
    /// Headline; outlets rewrite it freely, so it is only reported.
    #[serde(default)]
    pub title: String,
    /// Plain body text (as `normalize::html_to_text` gives it).
    #[serde(alias = "content")]
    pub text: String,
    /// The outlet that first published it (`来源`), when known; reported only.
    #[serde(default)]
    pub origin: Option<String>,
}

/// The answer for one pair, for the pipeline and for an editor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// One story (one republishes the other).
    pub same: bool,
    /// Containment of the shorter text in the longer (0..=1), the measure the
    /// decision rests on; a "different" verdict from the entity checks keeps
    /// the high containment that made the pair look alike.
    pub score: f64,
    /// Why, in a sentence an editor can check.
    pub reason: String,
}

/// Names and figures that distinguish stories written from one template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entities {
    /// Provincial-level divisions (short names) and major cities, with counts.
    pub regions: BTreeMap<String, usize>,
    /// Numbers with their units (`30%`, `5000万元`, `7月1日`, `54条`, `2024年`).
    pub figures: BTreeSet<String>,
    /// The dates among the figures: years (`2024年`) and days (`7月1日`).
    pub dates: BTreeSet<String>,
    /// Organisation-like names ending in 厅/局/部/银行/… (informative only).
    pub orgs: BTreeSet<String>,
    /// Each number's context → the numbers seen there: the 4 letters/digits
    /// before and after it in the normalized text, digits masked as `#`
    /// (`失业保险费#个` + `月以上#年` → `12`). Two texts that put different
    /// numbers in one context are one template filled in twice.
    pub slots: BTreeMap<String, BTreeSet<String>>,
}

/// The number slots of normalized text (see [`Entities::slots`]).
fn slots(normalized: &str) -> BTreeMap<String, BTreeSet<String>> {
    let chars: Vec<char> = normalized.chars().collect();
    let masked: Vec<char> = chars
        .iter()
        .map(|c| if c.is_ascii_digit() { '#' } else { *c })
        .collect();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        // Collapse each digit run of the context to one `#`.
        let squeeze = |cs: &[char]| -> String {
            let mut s = String::new();
            for &c in cs {
                if !(c == '#' && s.ends_with('#')) {
                    s.push(c);
                }
            }
            s
        };
        let left = squeeze(&masked[start.saturating_sub(4)..start]);
        let right = squeeze(&masked[i..(i + 4).min(chars.len())]);
        if left.chars().count() + right.chars().count() < 6 {
            continue; // too little context to call it one slot
        }
        let value: String = chars[start..i].iter().collect();
        out.entry(format!("{left}_{right}"))
            .or_default()
            .insert(value);
    }
    out
}

/// A story prepared once for comparison with many candidates.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub title: String,
    pub origin: Option<String>,
    /// Sorted, deduplicated shingle hashes of the normalized body.
    pub shingles: Vec<u64>,
    /// The text with boilerplate stripped, for [`Prepared::entities`].
    stripped: String,
    /// Computed on first use: only a pair that overlaps enough needs the
    /// template checks, and nearly every new item has no such candidate.
    entities: std::sync::OnceLock<Entities>,
}

impl Prepared {
    pub fn new(story: &StoryText, cfg: &DedupConfig) -> Prepared {
        let stripped = strip_boilerplate(&story.text);
        let normalized = letters_and_digits(&stripped);
        Prepared {
            title: story.title.clone(),
            origin: story.origin.clone(),
            shingles: shingles(&normalized, cfg.shingle),
            stripped,
            entities: std::sync::OnceLock::new(),
        }
    }

    /// Regions, figures, dates and number slots of the text.
    pub fn entities(&self) -> &Entities {
        self.entities.get_or_init(|| Entities {
            slots: slots(&letters_and_digits(&self.stripped)),
            ..entities(&self.stripped)
        })
    }

    /// The fingerprint of this story, for the index.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::from_shingles(&self.shingles)
    }
}

static FIGURE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        \d{1,2}\s*月\s*\d{1,2}\s*日                         # a day: 7月1日, 7 月 1 日
        | \d{4}\s*年                                        # a year
        | \d+(?:\.\d+)?\s*(?:%|‰|万亿元|亿元|万元|元|亿人次|亿人|万人次|万人|人次|人|万户次|户次|万户|户
            |万个|个|家|项|条|章|次|件|起|岁|倍|个月|月|天|小时|期|届|批|所|座|名|类|公里|平方米|吨)?
        | 第?[一二三四五六七八九十百千两]+(?:章|届|次会议|条|项|批)
        ",
    )
    .expect("figure regex")
});

static DATE_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:\d{4}年|\d{1,2}月\d{1,2}日)$").expect("date regex"));

static ORG_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"[^\s,.;:!?、，。；：！？“”‘’《》()\[\]和与及的在由对向将从等会同联合]{2,10}?(?:人社厅|人社局|厅|局|部|委员会|银行|分行|总工会|协会|学会|法院|检察院|大学|公司|集团)",
    )
    .expect("org regex")
});

/// Regions, figures and organisations named in stripped text.
pub fn entities(stripped: &str) -> Entities {
    let mut e = Entities::default();
    // One gazetteer for the whole crate (classify's): provinces by their
    // short name, cities by their own name (two cities of one province
    // are two stories), foreign countries too (an abroad story about
    // Japan is not one about Germany).
    let places = crate::places::gazetteer();
    for m in places.mentions(stripped) {
        let name = match m.place {
            Place::Province { index, city: false } => places.provinces[index].short.clone(),
            Place::Province { city: true, .. } => {
                let text = &stripped[m.start..m.end];
                text.strip_suffix('市').unwrap_or(text).to_string()
            }
            Place::Foreign(index) => places.foreign[index].clone(),
        };
        *e.regions.entry(name).or_default() += 1;
    }
    for m in FIGURE_RE.find_iter(stripped) {
        let f: String = m.as_str().chars().filter(|c| !c.is_whitespace()).collect();
        if DATE_RE.is_match(&f) {
            e.dates.insert(f.clone());
        }
        e.figures.insert(f);
    }
    for m in ORG_RE.find_iter(stripped) {
        e.orgs.insert(m.as_str().to_string());
    }
    e
}

fn join<'a>(items: impl IntoIterator<Item = &'a String>) -> String {
    let v: Vec<&str> = items.into_iter().map(String::as_str).take(8).collect();
    v.join("、")
}

/// Compares two prepared stories (see [`super::same_story`]).
pub fn verify(a: &Prepared, b: &Prepared, cfg: &DedupConfig) -> Verdict {
    let (na, nb) = (a.shingles.len(), b.shingles.len());
    if na.min(nb) < cfg.min_shingles {
        return too_little_text(a, b, cfg);
    }
    let inter = intersection(&a.shingles, &b.shingles);
    let containment = inter as f64 / na.min(nb) as f64;
    let jaccard = inter as f64 / (na + nb - inter) as f64;
    let overlap = format!(
        "{:.0}% of the shorter text's {}-character shingles are in the other (Jaccard {:.2})",
        containment * 100.0,
        cfg.shingle,
        jaccard
    );
    if jaccard < cfg.jaccard && containment < cfg.containment {
        return Verdict {
            same: false,
            score: containment,
            reason: format!(
                "different stories: only {overlap}; one story needs containment ≥ {:.2} or Jaccard ≥ {:.2}",
                cfg.containment, cfg.jaccard
            ),
        };
    }
    // The texts overlap a lot: is it one story, or one template?
    let (ea, eb) = (a.entities(), b.entities());
    if let Some(difference) = template_difference(ea, eb, cfg) {
        return Verdict {
            same: false,
            score: containment,
            reason: format!("different stories on one template: {overlap}, but {difference}"),
        };
    }
    Verdict {
        same: true,
        score: containment,
        reason: same_story_reason(a, b, &overlap),
    }
}

/// Below `min_shingles` there is too little text to fingerprint: only
/// identical bodies are one story.
fn too_little_text(a: &Prepared, b: &Prepared, cfg: &DedupConfig) -> Verdict {
    let (na, nb) = (a.shingles.len(), b.shingles.len());
    let same = na > 0 && a.shingles == b.shingles;
    Verdict {
        same,
        score: if same { 1.0 } else { 0.0 },
        reason: format!(
            "too little text to compare ({na} and {nb} shingles, need {}){}",
            cfg.min_shingles,
            if same { "; bodies identical" } else { "" }
        ),
    }
}

/// What tells two overlapping texts apart as one template filled in twice:
/// other regions, other figures in the same sentences, other dates, other
/// figures overall; checked in that order.
fn template_difference(ea: &Entities, eb: &Entities, cfg: &DedupConfig) -> Option<String> {
    regions_differ(ea, eb)
        .or_else(|| slots_conflict(ea, eb))
        .or_else(|| dates_differ(ea, eb))
        .or_else(|| figures_differ(ea, eb, cfg))
}

/// Each text names a region the other does not.
fn regions_differ(ea: &Entities, eb: &Entities) -> Option<String> {
    let only_a: Vec<&String> = ea
        .regions
        .keys()
        .filter(|r| !eb.regions.contains_key(*r))
        .collect();
    let only_b: Vec<&String> = eb
        .regions
        .keys()
        .filter(|r| !ea.regions.contains_key(*r))
        .collect();
    (!only_a.is_empty() && !only_b.is_empty())
        .then(|| format!("the regions differ ({} vs {})", join(only_a), join(only_b)))
}

/// The same sentence carries figures with nothing in common.
fn slots_conflict(ea: &Entities, eb: &Entities) -> Option<String> {
    let conflicts: Vec<String> = ea
        .slots
        .iter()
        .filter_map(|(slot, va)| {
            let vb = eb.slots.get(slot)?;
            va.is_disjoint(vb).then(|| {
                format!(
                    "{} vs {} in “{}”",
                    va.iter().cloned().collect::<Vec<_>>().join("/"),
                    vb.iter().cloned().collect::<Vec<_>>().join("/"),
                    slot.replace('_', "…")
                )
            })
        })
        .collect();
    (!conflicts.is_empty()).then(|| {
        format!(
            "the same sentences carry other figures ({})",
            conflicts
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        )
    })
}

/// Both name two or more dates, each some the other lacks, and at most
/// half of the fewer are shared.
fn dates_differ(ea: &Entities, eb: &Entities) -> Option<String> {
    let common_dates = ea.dates.intersection(&eb.dates).count();
    let fewer_dates = ea.dates.len().min(eb.dates.len());
    let da: Vec<&String> = ea.dates.difference(&eb.dates).collect();
    let db: Vec<&String> = eb.dates.difference(&ea.dates).collect();
    (fewer_dates >= 2 && !da.is_empty() && !db.is_empty() && 2 * common_dates <= fewer_dates)
        .then(|| format!("the dates differ ({} vs {})", join(da), join(db)))
}

/// Figures shared and the fewer figures of the two texts.
fn shared_figures(ea: &Entities, eb: &Entities) -> (usize, usize) {
    let common = ea.figures.intersection(&eb.figures).count();
    let fewer = ea.figures.len().min(eb.figures.len());
    (common, fewer)
}

/// Enough figures to judge, each text with some of its own, and too few
/// shared.
fn figures_differ(ea: &Entities, eb: &Entities, cfg: &DedupConfig) -> Option<String> {
    let (common, fewer) = shared_figures(ea, eb);
    let figures_overlap = if fewer == 0 {
        1.0
    } else {
        common as f64 / fewer as f64
    };
    let fa: Vec<&String> = ea.figures.difference(&eb.figures).collect();
    let fb: Vec<&String> = eb.figures.difference(&ea.figures).collect();
    (fewer >= cfg.min_figures
        && !fa.is_empty()
        && !fb.is_empty()
        && figures_overlap < cfg.figures_overlap)
        .then(|| {
            format!(
                "the figures differ ({common} of {fewer} shared; {} vs {})",
                join(fa),
                join(fb)
            )
        })
}

/// Why two texts are one story: the overlap, and what agrees.
fn same_story_reason(a: &Prepared, b: &Prepared, overlap: &str) -> String {
    let (ea, eb) = (a.entities(), b.entities());
    let mut reason = format!("same story: {overlap}");
    if !ea.regions.is_empty() || !eb.regions.is_empty() {
        let regions: BTreeSet<&String> = ea.regions.keys().chain(eb.regions.keys()).collect();
        let _ = write!(reason, "; regions agree ({})", join(regions));
    }
    let (common, fewer) = shared_figures(ea, eb);
    if fewer > 0 {
        let _ = write!(reason, "; figures agree ({common} of {fewer})");
    }
    if let (Some(oa), Some(ob)) = (&a.origin, &b.origin)
        && oa != ob
    {
        let _ = write!(reason, "; carried by {oa} and {ob}");
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_figures_and_dates() {
        let e = entities(
            "河北省人社厅会同黑龙江省分行，贺兰山东麓，兰州市共排查 127 户，为 56 人追发工资 26.99 万元，2025 年 7 月 1 日起实施，六章 54 条，利率 2.9%。",
        );
        let regions: Vec<&str> = e.regions.keys().map(String::as_str).collect();
        assert_eq!(regions, ["兰州", "河北", "黑龙江"]);
        for f in [
            "127户",
            "56人",
            "26.99万元",
            "2025年",
            "7月1日",
            "54条",
            "2.9%",
            "六章",
        ] {
            assert!(e.figures.contains(f), "{f} in {:?}", e.figures);
        }
        let dates: Vec<&str> = e.dates.iter().map(String::as_str).collect();
        assert_eq!(dates, ["2025年", "7月1日"]);
    }

    #[test]
    fn template_with_another_region_is_another_story() {
        let cfg = DedupConfig::default();
        let body = "近日，河北省人社厅、省财政厅联合印发通知，对足额缴纳失业保险费12个月以上的参保企业继续实施稳岗返还政策，大型企业按上年度实际缴纳失业保险费的30%返还，中小微企业按60%返还。";
        let a = StoryText {
            title: "河北".into(),
            text: body.into(),
            origin: None,
        };
        let b = StoryText {
            title: "山东".into(),
            text: body.replace("河北", "山东"),
            origin: None,
        };
        let v = super::super::same_story(&a, &b, &cfg);
        assert!(!v.same && v.reason.contains("regions differ"), "{v:?}");
        let c = StoryText {
            title: "copy".into(),
            text: format!("新华社北京6月18日电（记者 王某）{body}（完）"),
            origin: None,
        };
        let v = super::super::same_story(&a, &c, &cfg);
        assert!(v.same, "{v:?}");
        // Same region, same sentences, another rate: last year's notice.
        let d = StoryText {
            title: "河北".into(),
            text: body.replace("30%", "50%"),
            origin: None,
        };
        let v = super::super::same_story(&a, &d, &cfg);
        assert!(!v.same && v.reason.contains("30 vs 50"), "{v:?}");
    }
}

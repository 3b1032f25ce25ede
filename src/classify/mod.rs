//! Classify, layer 3 (pipeline stages), the fifth stage (fetch → extract →
//! normalize → dedup → **classify** → store): relevance and section of an
//! item for the bulletin.
//!
//! [`classify`] decides whether an item is within the bulletin's scope
//! (relevance in [0, 1] against a threshold) and which section it belongs
//! in, and explains why. Three sources of evidence add up:
//!
//! - **rules** ([`Rules`], in `config/sections.toml`): weighted keywords for
//!   relevance and for each section, outlet and channel priors;
//! - **place names** ([`crate::places`], data files compiled in): a province or city in the
//!   title or dominating the body pulls to `regional`, a foreign country or
//!   international body to `abroad`;
//! - **editors' decisions** ([`Model`], optional): a logistic regression
//!   trained on what editors kept, rejected and moved, that learns
//!   corrections to the rules' verdict (by outlet, address column and
//!   wording); with no decisions it says nothing.
//!
//! [`evaluate`] runs a labelled JSONL set and reports accuracy, the
//! confusion matrix and each mistake with its explanation.

mod business;
mod commentary;
pub mod eval;
pub mod learning;
pub mod model;
pub mod title;

use serde::{Deserialize, Serialize};

pub use crate::config::rules::{self as rules, Rules};
pub use crate::places::gazetteer;
pub use eval::{
    EvalReport, LabelledItem, LearningCurve, Mistake, evaluate, evaluate_items, learning_curve,
    load_set, train_on,
};
pub use learning::{DecidedItem, DecisionLog, current_model, train};
pub use model::{Example, Model, ModelScores};
pub use title::{bulletin_title, filed_title};

use crate::places::Place;

pub use crate::config::rules::SECTIONS;
const FOCUS: usize = 0;
const REGIONAL: usize = 1;
const ABROAD: usize = 3;

/// What went wrong reading rules, a model or an evaluation set: the same
/// located errors as the configuration files.
pub use crate::config::ConfigError as ClassifyError;

/// The outlet an item came from, as configured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceHint {
    pub id: String,
    pub name: String,
    /// Short province name of a provincial outlet.
    #[serde(default)]
    pub region: Option<String>,
    /// The source's configured section.
    #[serde(default)]
    pub section: Option<String>,
}

impl SourceHint {
    /// What the classifier knows of a configured source.
    pub fn of(source: &crate::config::Source) -> SourceHint {
        SourceHint {
            id: source.id.clone(),
            name: source.name.clone(),
            region: source.region.clone(),
            section: source.section.clone(),
        }
    }
}

/// One item to classify.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassifyInput {
    pub title: String,
    /// Plain text.
    pub content: String,
    /// The page's own `来源：X`.
    #[serde(default)]
    pub origin: Option<String>,
    #[serde(default)]
    pub source: Option<SourceHint>,
    /// The article's address: its column (`/comments/`, `/gj/`) is evidence.
    #[serde(default)]
    pub url: Option<String>,
}

/// Where an item's relevance puts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// At or above `relevance.threshold`: a candidate.
    Relevant,
    /// Between `relevance.maybe` and the threshold: 待定, for an editor to
    /// decide; never published unreviewed.
    Maybe,
    /// Below `relevance.maybe`: outside the bulletin's scope.
    Irrelevant,
}

impl Verdict {
    /// The verdict of a relevance under the rules' two bounds.
    pub fn of(relevance: f64, params: &rules::RelevanceParams) -> Verdict {
        if relevance >= params.threshold {
            Verdict::Relevant
        } else if relevance >= params.maybe {
            Verdict::Maybe
        } else {
            Verdict::Irrelevant
        }
    }
}

/// The decision with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    /// In [0, 1]: how surely the item is within the bulletin's scope.
    pub relevance: f64,
    /// `relevance ≥ threshold`.
    pub relevant: bool,
    /// Relevant, 待定 or irrelevant.
    pub verdict: Verdict,
    /// The section id; `None` when not relevant.
    pub section: Option<String>,
    /// Short province name of a regional item (黑龙江, 内蒙古).
    pub region: Option<String>,
    /// `地区：…` for a regional item, else the title.
    pub bulletin_title: String,
    /// Probability per section, in [`SECTIONS`] order.
    pub scores: Vec<(String, f64)>,
    /// The rules that fired and the model's say.
    pub reasons: Vec<String>,
}

impl Classification {
    /// Whether auto mode publishes the item without an editor: a candidate
    /// at `relevance.publish` or more (the rest wait for one).
    pub fn auto_publishes(&self, rules: &Rules) -> bool {
        self.verdict == Verdict::Relevant && self.relevance >= rules.relevance.publish
    }
}

/// Classifies one item. Without a model the rules decide alone.
pub fn classify(input: &ClassifyInput, rules: &Rules, model: Option<&Model>) -> Classification {
    let mut reasons = Vec::new();
    let title = input.title.trim();
    let body = input.content.as_str();
    let mut section = rules.base;

    let keywords = weigh_keywords(title, body, rules, &mut section, &mut reasons);
    let prior = weigh_outlet(input, rules, &mut section, &mut reasons);
    commentary::weigh(
        &rules.commentary,
        (title, body, input.url.as_deref()),
        &mut section,
        &mut reasons,
    );
    let region = weigh_places(
        input,
        title,
        body,
        &rules.weights,
        &mut section,
        &mut reasons,
    );
    let business = business::weigh(&rules.business, &rules.weights, title, body, &mut reasons);
    let mut relevance = rules_relevance(&keywords, prior + business.add, rules, &mut reasons);
    match &keywords.title_marker {
        Some((Some(weight), marker)) => reasons.push(format!(
            "the title names an off-topic marker ({marker} {weight:+.1}): at most 待定"
        )),
        Some((None, marker)) => reasons.push(format!(
            "the title reads as off-topic ({marker}, relevance.off_topic_titles): at most 待定"
        )),
        None => {}
    }
    let unofficial = unofficial_outlet(input, rules);
    if let Some(outlet) = &unofficial {
        reasons.push(match outlet {
            Some(name) => format!(
                "来源 {name} is not an official outlet (relevance.official_outlets): at most 待定"
            ),
            None => "no 来源 and no configured source: at most 待定".to_string(),
        });
    }
    let portrait = rules.portrait_subject(title);
    if let Some(who) = portrait {
        reasons.push(format!(
            "the title is about a person ({who}) and names no public matter (relevance.portrait_subjects): a feature story, at most 待定"
        ));
    }
    let self_notice = rules.self_notice(title);
    if let Some(office) = self_notice {
        reasons.push(format!(
            "the title names the office ({office}) and no matter of the field (relevance.offices): a notice about itself, at most 待定"
        ));
    }
    if business.capped
        || keywords.title_marker.is_some()
        || unofficial.is_some()
        || portrait.is_some()
        || self_notice.is_some()
    {
        // Just under the threshold, but never below the band into hiding.
        let p = &rules.relevance;
        relevance = relevance.min((p.threshold - 1e-3).max(p.maybe));
    }
    let by_rules = Verdict::of(relevance, &rules.relevance);
    let mut probs = model::probabilities(&section);
    if let Some(model) = model {
        blend_model(model, input, &mut probs, &mut relevance, &mut reasons);
    }
    let blended = Verdict::of(relevance, &rules.relevance);
    let verdict = two_keys(by_rules, blended);
    if verdict != blended {
        reasons.push(format!(
            "the rules and the model disagree across the 待定 band: {verdict:?}"
        ));
    }
    decide(title, relevance, verdict, probs, region, reasons)
}

/// The outlet an item is published under, when the rules do not let it
/// be a candidate unreviewed: its page's own 来源, else the configured
/// source's name; `Some(None)` when it has neither. An official society's
/// bulletin reprints official outlets; a market paper's story of riders'
/// bonuses or a plant closure has every word of the field, so only an
/// editor can tell whether it belongs.
fn unofficial_outlet(input: &ClassifyInput, rules: &Rules) -> Option<Option<String>> {
    if !rules.checks_outlets() {
        return None;
    }
    let origin = input
        .origin
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty());
    match origin.or(input.source.as_ref().map(|s| s.name.trim())) {
        Some(name) if rules.is_official(name) => None,
        Some(name) => Some(Some(name.to_string())),
        None => Some(None),
    }
}

/// The two costly mistakes — hiding a relevant item, publishing an
/// off-topic one unreviewed — never come from the model alone: it may move
/// an item by one band (a candidate into 待定, 待定 out of sight or up to
/// the candidates) but not across the band, so an item the rules find
/// relevant is at least 待定, and one they find irrelevant at most 待定.
pub(super) fn two_keys(by_rules: Verdict, blended: Verdict) -> Verdict {
    match (by_rules, blended) {
        (Verdict::Relevant, Verdict::Irrelevant) | (Verdict::Irrelevant, Verdict::Relevant) => {
            Verdict::Maybe
        }
        (_, v) => v,
    }
}

/// What the keywords say about relevance, before weighting.
struct KeywordEvidence {
    title: f64,
    body: f64,
    /// An off-topic title (`relevance.off_topic_titles`, weight `None`),
    /// else the heaviest off-topic marker in the title at or under
    /// `relevance.title_marker`.
    title_marker: Option<(Option<f64>, String)>,
    /// Relevance-weighted hits per 1000 body characters.
    density: f64,
}

/// Counts the rules' keywords in title and body, adds their section weights
/// and explains the eight that weighed most.
fn weigh_keywords(
    title: &str,
    body: &str,
    rules: &Rules,
    section: &mut [f64; 4],
    reasons: &mut Vec<String>,
) -> KeywordEvidence {
    let w = &rules.weights;
    let n = rules.keywords.len();
    let mut counts = vec![0u32; 2 * n];
    let (tc, bc) = counts.split_at_mut(n);
    rules.count(title, tc);
    rules.count(body, bc);
    // Short bodies count as 300 characters so one hit does not read as dense.
    let body_chars = body.chars().count().max(300) as f64;
    let mut ev = KeywordEvidence {
        title: 0.0,
        body: 0.0,
        title_marker: None,
        density: 0.0,
    };
    if let Some(marker) = rules.off_topic_title(title) {
        ev.title_marker = Some((None, marker.to_string()));
    }
    let mut fired: Vec<(f64, String)> = Vec::new();
    for (k, kw) in rules.keywords.iter().enumerate() {
        let (t, b) = (tc[k], bc[k]);
        if t == 0 && b == 0 {
            continue;
        }
        let cap = rules.relevance.title_marker;
        if t > 0
            && cap < 0.0
            && kw.relevance <= cap
            && ev
                .title_marker
                .as_ref()
                .is_none_or(|(w, _)| w.is_some_and(|w| kw.relevance < w))
        {
            ev.title_marker = Some((Some(kw.relevance), kw.text.clone()));
        }
        let t = f64::from(t.min(2));
        let b = f64::from(b);
        ev.title += kw.relevance * t;
        ev.body += kw.relevance * b.ln_1p();
        ev.density += kw.relevance * b * 1000.0 / body_chars;
        let hits = w.title * t + b.ln_1p();
        let mut parts = Vec::new();
        for (s, &sw) in kw.sections.iter().enumerate() {
            if sw != 0.0 {
                let add = sw * hits;
                section[s] += add;
                parts.push(format!("{}{:+.2}", SECTIONS[s], add));
            }
        }
        if kw.relevance != 0.0 {
            parts.push(format!("relevance{:+.2}", kw.relevance * hits));
        }
        let weight = kw.relevance.abs() * hits + kw.sections.iter().map(|x| x.abs()).sum::<f64>();
        fired.push((
            weight,
            format!(
                "keyword {} (title {t}, body {b}): {}",
                kw.text,
                parts.join(" ")
            ),
        ));
    }
    fired.sort_by(|a, b| b.0.total_cmp(&a.0));
    reasons.extend(fired.into_iter().take(8).map(|f| f.1));
    ev
}

/// Applies the outlet priors and the source's configured section; returns
/// the relevance prior.
fn weigh_outlet(
    input: &ClassifyInput,
    rules: &Rules,
    section: &mut [f64; 4],
    reasons: &mut Vec<String>,
) -> f64 {
    let mut prior = 0.0;
    let mut hay = Vec::new();
    if let Some(s) = &input.source {
        hay.push(s.id.as_str());
        hay.push(s.name.as_str());
    }
    if let Some(o) = &input.origin {
        hay.push(o.as_str());
    }
    for o in &rules.outlets {
        if hay.iter().any(|h| h.contains(&o.pattern)) {
            prior += o.relevance;
            let mut r = format!("outlet {}: relevance{:+.2}", o.pattern, o.relevance);
            if let Some(s) = o.section {
                section[s] += o.weight;
                r.push_str(&format!(" {}{:+.2}", SECTIONS[s], o.weight));
            }
            reasons.push(r);
        }
    }
    if let Some(s) = input.source.as_ref().and_then(|s| s.section.as_deref())
        && let Some(i) = SECTIONS.iter().position(|x| *x == s)
    {
        let w = rules.weights.source_section;
        section[i] += w;
        reasons.push(format!("source section {s}: {s}{w:+.2}"));
    }
    prior
}

/// Where the places named in an item point.
struct PlaceEvidence {
    /// Gazetteer index of the province the title names first.
    title_region: Option<usize>,
    /// Gazetteer index of the foreign place the title names first.
    title_foreign: Option<usize>,
    /// The province the body names most and how often.
    top: (usize, u32),
    domestic_hits: u32,
    foreign_hits: u32,
    /// The outlet's province, configured or read from the page's 来源.
    source_region: Option<usize>,
}

/// What is done at a venue: a meeting or a contest is held there.
const EVENT_VERBS: [&str; 8] = [
    "召开", "开幕", "闭幕", "举行", "举办", "开赛", "落幕", "启幕",
];

/// Finds the provinces and foreign places in title, body and outlet.
fn find_places(input: &ClassifyInput, title: &str, body: &str) -> PlaceEvidence {
    let g = gazetteer();
    // The first place in the title is its subject: "广西举办中国—东盟劳务
    //合作洽谈会" is regional, "英国政府严打非法务工" abroad.
    let mut title_region = None;
    let mut title_foreign = None;
    // A place after 在 or 于 and before an event's verb is where a
    // national event was held ("全国职业技能大赛在武汉闭幕"), not what the
    // title is about; "…法规在湖北施行" is about 湖北.
    let venue = |m: &crate::places::Mention| {
        title[..m.start].ends_with(['在', '于'])
            && EVENT_VERBS.iter().any(|v| {
                title[m.end..]
                    .chars()
                    .take(8)
                    .collect::<String>()
                    .contains(v)
            })
    };
    match g.mentions(title).find(|m| !venue(m)).map(|m| m.place) {
        Some(Place::Province { index, .. }) => title_region = Some(index),
        Some(Place::Foreign(i)) => title_foreign = Some(i),
        None => {}
    }
    let mut by_province = vec![0u32; g.provinces.len()];
    let mut foreign_hits = 0u32;
    let mut domestic_hits = 0u32;
    for m in g.mentions(body) {
        match m.place {
            Place::Province { index, .. } => {
                by_province[index] += 1;
                domestic_hits += 1;
            }
            Place::Foreign(_) => foreign_hits += 1,
        }
    }
    let (top, &top_hits) = by_province
        .iter()
        .enumerate()
        .max_by_key(|(_, c)| **c)
        .expect("34 provinces");
    PlaceEvidence {
        title_region,
        title_foreign,
        top: (top, top_hits),
        domestic_hits,
        foreign_hits,
        source_region: source_province(input),
    }
}

/// The outlet's province: configured for the source, else a provincial body
/// as the page's 来源 ("甘肃省人力资源社会保障厅").
fn source_province(input: &ClassifyInput) -> Option<usize> {
    let g = gazetteer();
    input
        .source
        .as_ref()
        .and_then(|s| s.region.as_deref())
        .and_then(|r| g.province(r))
        .or_else(|| {
            input.origin.as_deref().and_then(|o| {
                g.mentions(o).next().and_then(|m| match m.place {
                    Place::Province { index, .. } => Some(index),
                    Place::Foreign(_) => None,
                })
            })
        })
}

/// Pulls towards `regional` or `abroad` by the places named; returns the
/// item's province, if any.
fn weigh_places(
    input: &ClassifyInput,
    title: &str,
    body: &str,
    w: &rules::Weights,
    section: &mut [f64; 4],
    reasons: &mut Vec<String>,
) -> Option<usize> {
    let g = gazetteer();
    let pl = find_places(input, title, body);
    let (top, top_hits) = pl.top;
    let all_hits = pl.domestic_hits + pl.foreign_hits;
    // Title region first, then a province dominating the body, then the outlet's.
    let mut region = None;
    if let Some(i) = pl.title_region {
        section[REGIONAL] += w.title_region;
        region = Some(i);
        reasons.push(format!(
            "title names {}: regional{:+.2}",
            g.provinces[i].short, w.title_region
        ));
    }
    if top_hits >= 2 && pl.domestic_hits > 0 {
        let share = f64::from(top_hits) / f64::from(all_hits);
        if share >= 0.5 {
            let add = w.body_region * share;
            section[REGIONAL] += add;
            region.get_or_insert(top);
            reasons.push(format!(
                "body names {} {top_hits} of {all_hits} places: regional{add:+.2}",
                g.provinces[top].short,
            ));
        }
    }
    if let Some(i) = pl.source_region {
        section[REGIONAL] += w.source_region;
        region.get_or_insert(i);
        reasons.push(format!(
            "outlet of {}: regional{:+.2}",
            g.provinces[i].short, w.source_region
        ));
    }
    if let Some(i) = pl.title_foreign {
        section[ABROAD] += w.title_foreign;
        reasons.push(format!(
            "title names {}: abroad{:+.2}",
            g.foreign[i], w.title_foreign
        ));
    }
    let (foreign_hits, domestic_hits) = (pl.foreign_hits, pl.domestic_hits);
    if foreign_hits >= 2 && foreign_hits > domestic_hits {
        let share = f64::from(foreign_hits) / f64::from(all_hits);
        let add = w.body_foreign * share;
        section[ABROAD] += add;
        reasons.push(format!(
            "body names foreign places {foreign_hits} times, Chinese {domestic_hits}: abroad{add:+.2}"
        ));
    }
    region
}

/// The rules' relevance: keyword evidence and outlet (and business) prior
/// through a sigmoid.
fn rules_relevance(
    kw: &KeywordEvidence,
    prior: f64,
    rules: &Rules,
    reasons: &mut Vec<String>,
) -> f64 {
    let p = &rules.relevance;
    let (title_rel, body_rel, density) = (kw.title, kw.body, kw.density);
    let score = rules.weights.title * title_rel + p.body * body_rel + p.density * density + prior;
    let relevance = sigmoid(score - p.bias);
    reasons.push(format!(
        "relevance score {score:.2} (title {title_rel:.2}, body {body_rel:.2}, density {density:.1}/1000, outlet and business {prior:+.2}) − bias {:.2} → {relevance:.3}",
        p.bias
    ));
    relevance
}

/// Adds the editors' model's corrections to the rules' log-odds.
fn blend_model(
    model: &Model,
    input: &ClassifyInput,
    probs: &mut [f64; 4],
    relevance: &mut f64,
    reasons: &mut Vec<String>,
) {
    if model.decisions() == 0 {
        return;
    }
    let ms = model.scores(&model::features_with_rules(input, *relevance, probs));
    let mut z = model::offset(*relevance, probs);
    for (zc, add) in z.iter_mut().zip(ms.correction) {
        *zc += add;
    }
    let p = model::probabilities(&z);
    let on = (1.0 - p[model::OFF]).max(f64::MIN_POSITIVE);
    let before = *relevance;
    *relevance = 1.0 - p[model::OFF];
    for (i, q) in probs.iter_mut().enumerate() {
        *q = p[i] / on;
    }
    // Log-odds against off-topic per section, by the feature groups that
    // moved them most.
    let pull = |v: &[f64; model::CLASSES]| -> Vec<(usize, f64)> {
        (0..4).map(|i| (i, v[i] - v[model::OFF])).collect()
    };
    let mut parts: Vec<(f64, String)> = Vec::new();
    for (group, v) in &ms.by_group {
        for (i, d) in pull(v) {
            if d.abs() >= 0.3 {
                parts.push((d.abs(), format!("{group} {}{d:+.2}", SECTIONS[i])));
            }
        }
    }
    parts.sort_by(|a, b| b.0.total_cmp(&a.0));
    let parts: Vec<String> = parts.into_iter().take(4).map(|p| p.1).collect();
    reasons.push(format!(
        "model ({} decisions, trusted {:.0} %): relevance {before:.2} → {:.2}{}{}",
        model.decisions(),
        model.trust() * 100.0,
        *relevance,
        if parts.is_empty() { "" } else { "; " },
        parts.join(", ")
    ));
}

/// Picks relevance against the threshold, the likeliest section and, for a
/// regional item, its province and bulletin title.
fn decide(
    title: &str,
    relevance: f64,
    verdict: Verdict,
    probs: [f64; 4],
    region: Option<usize>,
    reasons: Vec<String>,
) -> Classification {
    let relevant = verdict == Verdict::Relevant;
    let best = (0..4)
        .max_by(|&a, &b| probs[a].total_cmp(&probs[b]))
        .unwrap_or(FOCUS);
    // A 待定 item is filed too: the editor who keeps it finds it in place.
    let filed = verdict != Verdict::Irrelevant;
    let section = filed.then(|| SECTIONS[best].to_string());
    let region = (filed && best == REGIONAL)
        .then(|| region.map(|i| gazetteer().provinces[i].short.clone()))
        .flatten();
    let bulletin_title = bulletin_title(title, region.as_deref());
    Classification {
        relevance,
        relevant,
        verdict,
        section,
        region,
        bulletin_title,
        scores: SECTIONS
            .iter()
            .zip(probs)
            .map(|(s, p)| (s.to_string(), p))
            .collect(),
        reasons,
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The classify stage of the pipeline (normalize → dedup → **classify** →
/// store): fills in a normalized item's section, region, bulletin title,
/// relevance and explanation; returns its verdict (candidate, 待定 or out of
/// scope). The section is always the best guess, also for an item below the
/// threshold, so an editor who finds it relevant after all has it filed;
/// a section the configuration does not define falls back to the source's.
pub fn classify_item(
    item: &mut crate::model::NewItem,
    source: &crate::config::Source,
    rules: &Rules,
    model: Option<&Model>,
    sections: &[crate::config::Section],
) -> Verdict {
    let input = ClassifyInput {
        title: item.title.clone(),
        content: item.content_text.clone(),
        origin: (!item.origin.is_empty()).then(|| item.origin.clone()),
        source: Some(SourceHint::of(source)),
        url: Some(item.url.clone()),
    };
    let c = classify(&input, rules, model);
    let best = c
        .scores
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(s, _)| s.clone());
    let configured = |id: &String| sections.iter().any(|s| &s.id == id);
    item.section = c
        .section
        .clone()
        .or(best)
        .filter(configured)
        .or_else(|| source.section.clone());
    if c.region.is_some() {
        item.region = c.region.clone();
    }
    item.bulletin_title = (c.bulletin_title != item.title).then(|| c.bulletin_title.clone());
    item.relevance = Some(c.relevance);
    item.explanation = serde_json::to_string(&Explanation {
        relevance: c.relevance,
        relevant: c.relevant,
        verdict: c.verdict,
        section: c.section.as_deref(),
        scores: &c.scores,
        reasons: &c.reasons,
    })
    .ok();
    c.verdict
}

/// What an item keeps of its classification, for editors.
#[derive(Serialize)]
struct Explanation<'a> {
    relevance: f64,
    relevant: bool,
    verdict: Verdict,
    section: Option<&'a str>,
    scores: &'a [(String, f64)],
    reasons: &'a [String],
}

#[cfg(test)]
mod tests {
    use super::*;
    use Verdict::*;

    #[test]
    fn the_model_alone_neither_hides_nor_publishes_an_item() {
        assert_eq!(two_keys(Relevant, Relevant), Relevant);
        assert_eq!(two_keys(Irrelevant, Irrelevant), Irrelevant);
        // The model may move an item by one band…
        assert_eq!(two_keys(Relevant, Maybe), Maybe);
        assert_eq!(two_keys(Irrelevant, Maybe), Maybe);
        assert_eq!(two_keys(Maybe, Irrelevant), Irrelevant);
        assert_eq!(two_keys(Maybe, Relevant), Relevant);
        // …but not across the band.
        assert_eq!(two_keys(Relevant, Irrelevant), Maybe);
        assert_eq!(two_keys(Irrelevant, Relevant), Maybe);
    }
}

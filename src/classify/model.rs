//! Learning from editors: what the rules get wrong, learned from the
//! editors' decisions. Part of the classify stage.
//!
//! A five-class logistic regression (the four sections and off-topic) that
//! starts from the rules' own verdict and learns corrections to it: for
//! each item the rules' relevance and section probabilities are turned into
//! five log-odds (the *offset*), and the model adds a learned weight per
//! class for every feature the item has:
//!
//! - character bigrams of the title and of the lead (the first
//!   [`LEAD_CHARS`] characters of the text), each group scaled to unit length
//!   so that a long article does not shout;
//! - the outlet: the configured source's id, the page's 来源, the address's
//!   host and its first word-like path segments (`comments`, `gj`,
//!   `pinglun`): the per-outlet priors editors teach by their decisions;
//! - the rules' own verdict (relevance log-odds, section probabilities):
//!   its weights calibrate how far to trust the rules;
//! - a bias per class: the share of each section in what editors keep.
//!
//! Training minimises the cross-entropy plus an L2 penalty of
//! `weights.model_half` (the model's corrections are held back as if that
//! many decisions agreed with the rules), by plain stochastic gradient
//! descent over every decision so far, in a fixed order. With no decisions
//! the weights are zero and the rules decide alone; a decision the rules
//! already get right barely moves a weight, a systematic mistake (an
//! outlet whose commentary the rules read as news) is corrected after a few.
//!
//! The model records a fingerprint of the rules it learned against: it is
//! a correction of those rules, so a change to them retrains it
//! ([`super::learning::current_model`]).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use url::Url;

use super::rules::RelevanceParams;
use super::{ClassifyInput, Rules, SECTIONS, Verdict};
use crate::text::fnv1a;

/// The four sections then off-topic.
pub const CLASSES: usize = 5;
/// Index of the off-topic class.
pub const OFF: usize = 4;
/// Characters of the text the model reads: the lead carries the topic.
pub const LEAD_CHARS: usize = 600;
/// Passes over the decisions in training.
const EPOCHS: usize = 12;
/// The SGD step size.
const LEARNING_RATE: f32 = 0.5;

/// One decision to learn from: the item as it was classified and the
/// section it belongs in (`None`: off-topic).
#[derive(Debug, Clone)]
pub struct Example {
    pub input: ClassifyInput,
    pub section: Option<String>,
}

/// The feature groups, for explanations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Title,
    Lead,
    Outlet,
    Address,
    Rules,
}

const GROUPS: [(Group, &str); 5] = [
    (Group::Title, "title"),
    (Group::Lead, "text"),
    (Group::Outlet, "outlet"),
    (Group::Address, "address"),
    (Group::Rules, "rules"),
];

/// The features of one item: hashed keys with their values and groups.
#[derive(Debug, Default)]
pub struct Features {
    keys: Vec<(u64, f32, Group)>,
}

/// What the model adds to one item's log-odds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelScores {
    /// Per class (sections then off-topic): the total correction.
    pub correction: [f64; CLASSES],
    /// The correction per feature group (title, text, outlet, address).
    pub by_group: Vec<(String, [f64; CLASSES])>,
}

/// A trained (or empty) model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Decisions it was trained on.
    decisions: u32,
    /// Fingerprint of the rules it corrects ([`super::Rules::fingerprint`]).
    rules: u64,
    bias: [f32; CLASSES],
    /// Hashed feature → weight per class.
    weights: HashMap<u64, [f32; CLASSES]>,
    /// How far its corrections are trusted, in [0, 1]: the share that
    /// predicted held-out decisions best in cross-validation.
    #[serde(default = "full_trust")]
    trust: f32,
}

fn full_trust() -> f32 {
    1.0
}

/// The trust levels cross-validation chooses from.
const TRUST_LEVELS: [f32; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];
/// Folds of the cross-validation that sets the trust.
const FOLDS: usize = 5;
/// Fewer decisions than this say too little to trust any correction.
const MIN_TO_TRUST: usize = 2 * FOLDS;

/// The key of a feature named by `parts`: stable across runs and builds,
/// because the keys are stored.
fn hash(parts: &[&[u8]]) -> u64 {
    let mut buf = Vec::with_capacity(64);
    for part in parts {
        buf.extend_from_slice(part);
        // Not in UTF-8: parts cannot run into each other.
        buf.push(0xff);
    }
    fnv1a(&buf)
}

fn bigram_key(tag: u8, a: char, b: char) -> u64 {
    let mut buf = [0u8; 9];
    buf[0] = tag;
    buf[1..5].copy_from_slice(&u32::from(a).to_le_bytes());
    buf[5..9].copy_from_slice(&u32::from(b).to_le_bytes());
    hash(&[&buf])
}

/// Distinct bigrams of a text, scaled to unit length.
fn push_bigrams(out: &mut Vec<(u64, f32, Group)>, tag: u8, text: &str, max: usize, group: Group) {
    let start = out.len();
    let mut prev: Option<char> = None;
    for c in text.chars().take(max) {
        if !crate::text::is_alphanumeric(c) || c.is_ascii_digit() {
            prev = None;
            continue;
        }
        if let Some(p) = prev {
            out.push((bigram_key(tag, p, c), 1.0, group));
        }
        prev = Some(c);
    }
    let new = &mut out[start..];
    new.sort_unstable_by_key(|f| f.0);
    let mut kept = start;
    for i in start..out.len() {
        if i == start || out[i].0 != out[kept - 1].0 {
            out[kept] = out[i];
            kept += 1;
        }
    }
    out.truncate(kept);
    let n = (kept - start) as f32;
    if n > 0.0 {
        let v = 1.0 / n.sqrt();
        out[start..].iter_mut().for_each(|f| f.1 = v);
    }
}

/// Path segments of an address that name a column (`comments`, `gj`,
/// `pinglun`), not a date or an id.
fn column_segments(url: &Url) -> impl Iterator<Item = &str> {
    url.path_segments()
        .into_iter()
        .flatten()
        .filter(|s| {
            !s.is_empty()
                && !s.contains('.')
                && s.len() <= 24
                && s.chars().filter(char::is_ascii_digit).count() * 2 < s.len()
        })
        .take(3)
}

/// The address's host without `www.`.
fn host(url: &Url) -> Option<&str> {
    url.host_str().map(|h| h.strip_prefix("www.").unwrap_or(h))
}

/// The features of an item, with the rules' verdict on it (relevance and
/// section probabilities): weights on those let the model learn how far to
/// trust the rules, and where.
pub fn features_with_rules(input: &ClassifyInput, relevance: f64, sections: &[f64; 4]) -> Features {
    let mut f = features(input);
    let r = relevance.clamp(1e-4, 1.0 - 1e-4);
    f.keys.push((
        hash(&[b"rules", b"relevance"]),
        ((r / (1.0 - r)).ln() / 4.0) as f32,
        Group::Rules,
    ));
    for (i, p) in sections.iter().enumerate() {
        f.keys.push((
            hash(&[b"rules", SECTIONS[i].as_bytes()]),
            *p as f32,
            Group::Rules,
        ));
    }
    f
}

/// The features of an item.
pub fn features(input: &ClassifyInput) -> Features {
    let mut keys = Vec::with_capacity(LEAD_CHARS + 64);
    push_bigrams(&mut keys, b'T', input.title.trim(), 200, Group::Title);
    push_bigrams(&mut keys, b'L', &input.content, LEAD_CHARS, Group::Lead);
    if let Some(s) = &input.source {
        keys.push((hash(&[b"source", s.id.as_bytes()]), 1.0, Group::Outlet));
    }
    if let Some(o) = input
        .origin
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty())
    {
        keys.push((hash(&[b"origin", o.as_bytes()]), 1.0, Group::Outlet));
    }
    if let Some(url) = input.url.as_deref().and_then(|u| Url::parse(u).ok())
        && let Some(h) = host(&url)
    {
        keys.push((hash(&[b"host", h.as_bytes()]), 1.0, Group::Address));
        for seg in column_segments(&url) {
            keys.push((
                hash(&[b"path", h.as_bytes(), seg.as_bytes()]),
                1.0,
                Group::Address,
            ));
        }
    }
    Features { keys }
}

/// The rules' verdict as five log-odds: off-topic from the relevance, each
/// section from the relevance and its share.
pub fn offset(relevance: f64, sections: &[f64; 4]) -> [f64; CLASSES] {
    let r = relevance.clamp(1e-4, 1.0 - 1e-4);
    let mut z = [0.0; CLASSES];
    for (i, p) in sections.iter().enumerate() {
        z[i] = r.ln() + p.clamp(1e-6, 1.0).ln();
    }
    z[OFF] = (1.0 - r).ln();
    z
}

/// Softmax of log-odds (or scores).
pub fn probabilities<const N: usize>(z: &[f64; N]) -> [f64; N] {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e = z.map(|v| (v - max).exp());
    let sum: f64 = e.iter().sum();
    e.map(|v| v / sum)
}

fn class_of(section: Option<&str>) -> Option<usize> {
    match section {
        None => Some(OFF),
        Some(s) => SECTIONS.iter().position(|x| *x == s),
    }
}

impl Model {
    /// Trains on editors' decisions: each example's features, its offset
    /// under `rules` (see [`offset`]) and its section (`None`: off-topic).
    /// The penalty is `rules.weights.model_half`; the trust is chosen by
    /// cross-validation against `rules.relevance`'s bands. Examples with an
    /// unknown section id are skipped.
    pub fn train(examples: &[(Features, [f64; CLASSES], Option<String>)], rules: &Rules) -> Model {
        let l2 = rules.weights.model_half;
        let data: Vec<(&Features, [f64; CLASSES], usize)> = examples
            .iter()
            .filter_map(|(f, z, s)| class_of(s.as_deref()).map(|c| (f, *z, c)))
            .collect();
        let mut m = Model::fit(&data, l2);
        m.rules = rules.fingerprint;
        m.trust = cross_validated_trust(&data, l2, &rules.relevance);
        m
    }

    /// The weights that minimise the penalised cross-entropy on `data`,
    /// trusted fully.
    fn fit(data: &[(&Features, [f64; CLASSES], usize)], l2: f64) -> Model {
        let mut m = Model {
            decisions: data.len() as u32,
            trust: 1.0,
            ..Model::default()
        };
        if data.is_empty() {
            return m;
        }
        // The penalty is spread over the examples of a pass, so that the
        // whole pass pays it once.
        let decay = (l2 / data.len() as f64) as f32;
        for epoch in 0..EPOCHS {
            let lr = LEARNING_RATE / (1.0 + epoch as f32 * 0.5);
            for (features, z0, class) in data {
                let p = probabilities(&m.logits(features, z0));
                let g: [f32; CLASSES] =
                    std::array::from_fn(|c| p[c] as f32 - f32::from(u8::from(c == *class)));
                for (b, gc) in m.bias.iter_mut().zip(g) {
                    *b -= lr * (gc + decay * *b);
                }
                for &(k, v, _) in &features.keys {
                    let w = m.weights.entry(k).or_insert([0.0; CLASSES]);
                    for (wc, gc) in w.iter_mut().zip(g) {
                        *wc -= lr * (gc * v + decay * *wc);
                    }
                }
            }
        }
        // Weights too small to matter cost memory and lookups.
        m.weights.retain(|_, w| w.iter().any(|x| x.abs() >= 1e-3));
        m
    }

    /// How far the corrections are trusted, in [0, 1].
    pub fn trust(&self) -> f64 {
        f64::from(self.trust)
    }

    fn logits(&self, features: &Features, z0: &[f64; CLASSES]) -> [f64; CLASSES] {
        let mut z = *z0;
        for (zc, b) in z.iter_mut().zip(self.bias) {
            *zc += f64::from(b);
        }
        for &(k, v, _) in &features.keys {
            if let Some(w) = self.weights.get(&k) {
                for (zc, wc) in z.iter_mut().zip(w) {
                    *zc += f64::from(wc * v);
                }
            }
        }
        z
    }

    /// How many decisions the model was trained on.
    pub fn decisions(&self) -> u32 {
        self.decisions
    }

    /// The fingerprint of the rules it was trained against.
    pub fn rules_fingerprint(&self) -> u64 {
        self.rules
    }

    /// What the model adds to an item's log-odds, in total and by group.
    pub fn scores(&self, features: &Features) -> ModelScores {
        let mut by_group = [[0.0f64; CLASSES]; GROUPS.len()];
        for &(k, v, g) in &features.keys {
            if let Some(w) = self.weights.get(&k) {
                let gi = GROUPS.iter().position(|x| x.0 == g).unwrap_or(0);
                for c in 0..CLASSES {
                    by_group[gi][c] += f64::from(w[c] * v);
                }
            }
        }
        let trust = f64::from(self.trust);
        for g in &mut by_group {
            g.iter_mut().for_each(|x| *x *= trust);
        }
        let mut correction = self.bias.map(|b| f64::from(b) * trust);
        for g in &by_group {
            for c in 0..CLASSES {
                correction[c] += g[c];
            }
        }
        ModelScores {
            correction,
            by_group: GROUPS
                .iter()
                .zip(by_group)
                .map(|((_, name), v)| (name.to_string(), v))
                .collect(),
        }
    }
}

/// The trust that serves editors best on decisions the model did not
/// learn from: the decisions are split into [`FOLDS`] folds, a model is
/// fitted on all but one, and each trust level's [`editorial_cost`] is
/// summed over the held-out folds. Trust is earned: the smallest level of
/// the least cost wins, and with too few decisions the rules decide alone.
/// Weak rules leave mistakes the model predicts, and it is trusted; tuned
/// rules leave mostly noise, and it keeps out of their way.
fn cross_validated_trust(
    data: &[(&Features, [f64; CLASSES], usize)],
    l2: f64,
    bands: &RelevanceParams,
) -> f32 {
    if data.len() < MIN_TO_TRUST {
        return 0.0;
    }
    let mut cost = [0.0f64; TRUST_LEVELS.len()];
    for fold in 0..FOLDS {
        let (held, learned): (Vec<_>, Vec<_>) = data
            .iter()
            .enumerate()
            .partition(|(i, _)| i % FOLDS == fold);
        let learned: Vec<_> = learned.into_iter().map(|(_, d)| *d).collect();
        let m = Model::fit(&learned, l2);
        for (_, (features, z0, class)) in held {
            let full = m.logits(features, z0);
            for (t, level) in TRUST_LEVELS.iter().enumerate() {
                let z: [f64; CLASSES] =
                    std::array::from_fn(|c| z0[c] + f64::from(*level) * (full[c] - z0[c]));
                cost[t] += editorial_cost(z0, &z, *class, bands);
            }
        }
    }
    let best = cost.iter().copied().fold(f64::INFINITY, f64::min);
    let t = cost.iter().position(|&c| c <= best).unwrap_or(0);
    TRUST_LEVELS[t]
}

/// What a verdict costs the editors when the item's true class is `class`:
/// publishing an off-topic item or hiding a relevant one 5, a wrong
/// section or an off-topic item in 待定 1, a relevant item in 待定 (right
/// section) 0.25. `z0` is the rules' verdict, `z` the blended one; the
/// model alone moves an item by one band at most, as in classification.
fn editorial_cost(
    z0: &[f64; CLASSES],
    z: &[f64; CLASSES],
    class: usize,
    bands: &RelevanceParams,
) -> f64 {
    let relevance = |z: &[f64; CLASSES]| 1.0 - probabilities(z)[OFF];
    let verdict = super::two_keys(
        Verdict::of(relevance(z0), bands),
        Verdict::of(relevance(z), bands),
    );
    let best = (0..OFF).max_by(|&a, &b| z[a].total_cmp(&z[b])).unwrap_or(0);
    match (class == OFF, verdict) {
        (true, Verdict::Relevant) | (false, Verdict::Irrelevant) => 5.0,
        (true, Verdict::Maybe) => 1.0,
        (true, Verdict::Irrelevant) => 0.0,
        (false, _) if best != class => 1.0,
        (false, Verdict::Maybe) => 0.25,
        (false, Verdict::Relevant) => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(title: &str, content: &str, source: &str) -> ClassifyInput {
        ClassifyInput {
            title: title.into(),
            content: content.into(),
            source: Some(super::super::SourceHint {
                id: source.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn an_outlet_whose_items_editors_always_file_as_commentary_is_learned() {
        // The rules call everything focus; editors file this outlet's
        // items under opinion.
        let rules_say = offset(0.9, &[0.7, 0.1, 0.1, 0.1]);
        let ex: Vec<_> = (0..20)
            .map(|i| {
                (
                    features(&input(&format!("标题{i}"), "正文", "paper-comments")),
                    rules_say,
                    Some("opinion".to_string()),
                )
            })
            .collect();
        let rules = Rules::default();
        let m = Model::train(&ex, &rules);
        assert_eq!(m.decisions(), 20);
        assert_eq!(m.rules_fingerprint(), rules.fingerprint);
        assert!(
            m.trust() >= 0.5,
            "held-out decisions all agree: {}",
            m.trust()
        );
        let unseen = features(&input("新的标题", "别的正文", "paper-comments"));
        let p = probabilities(&{
            let mut z = rules_say;
            let s = m.scores(&unseen);
            for (zc, add) in z.iter_mut().zip(s.correction) {
                *zc += add;
            }
            z
        });
        assert!(p[2] > p[0], "{p:?}");
        let json = serde_json::to_string(&m).unwrap();
        let back: Model = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn column_segments_skip_dates_and_ids() {
        let url = |u: &str| Url::parse(u).unwrap();
        let news = url("https://www.news.cn/comments/20261021/3f2a9c/c.html");
        let segs: Vec<_> = column_segments(&news).collect();
        assert_eq!(segs, ["comments"]);
        let chinanews = url("https://www.chinanews.com.cn/gj/2026/10-21/10123456.shtml");
        let segs: Vec<_> = column_segments(&chinanews).collect();
        assert_eq!(segs, ["gj"]);
        assert_eq!(host(&url("https://www.news.cn/x")), Some("news.cn"));
    }
}

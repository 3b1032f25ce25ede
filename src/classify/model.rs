//! Learning from editors: a multinomial naive Bayes over character bigrams
//! of the whole text plus unigrams and bigrams of the title (marked apart),
//! with five classes — the four sections and off-topic.
//!
//! A document is `title + "\n" + content` ([`document`]): its first line is
//! the title. Laplace smoothing (α = 1). Serializes with serde (JSON) so the
//! model can be stored and retrained incrementally: [`Model::add`] adds one
//! decision.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::SECTIONS;

const CLASSES: usize = 5;
const OFF: usize = 4;
/// Feature bit of a title feature.
const TITLE: u64 = 1 << 63;
/// Characters of content looked at: the lead carries the topic.
const MAX_CONTENT_CHARS: usize = 1500;

/// The document a model reads: the title on the first line, then the content.
pub fn document(title: &str, content: &str) -> String {
    let mut d = String::with_capacity(title.len() + 1 + content.len());
    d.push_str(title.trim());
    d.push('\n');
    d.push_str(content);
    d
}

/// Per-class probabilities of one document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelScores {
    /// Log-probabilities (up to a constant), sections then off-topic.
    pub log_probs: [f64; CLASSES],
    /// Probability per section, in [`SECTIONS`] order.
    pub sections: [f64; 4],
    pub off_topic: f64,
}

/// A trained (or empty) model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(into = "Repr", from = "Repr")]
pub struct Model {
    docs: [u32; CLASSES],
    tokens: [u64; CLASSES],
    counts: HashMap<u64, [u32; CLASSES]>,
}

/// The stored form: features as strings (`"就业"`, `"T:稳岗"`).
#[derive(Serialize, Deserialize)]
struct Repr {
    classes: Vec<String>,
    docs: [u32; CLASSES],
    tokens: [u64; CLASSES],
    features: HashMap<String, [u32; CLASSES]>,
}

impl From<Model> for Repr {
    fn from(m: Model) -> Repr {
        Repr {
            classes: SECTIONS
                .iter()
                .map(|s| s.to_string())
                .chain(["off-topic".to_string()])
                .collect(),
            docs: m.docs,
            tokens: m.tokens,
            features: m
                .counts
                .into_iter()
                .map(|(k, v)| (feature_name(k), v))
                .collect(),
        }
    }
}

impl From<Repr> for Model {
    fn from(r: Repr) -> Model {
        Model {
            docs: r.docs,
            tokens: r.tokens,
            counts: r
                .features
                .into_iter()
                .filter_map(|(k, v)| feature_key(&k).map(|k| (k, v)))
                .collect(),
        }
    }
}

fn key(a: char, b: Option<char>, title: bool) -> u64 {
    let k = (u64::from(u32::from(a)) << 32) | b.map_or(0, |b| u64::from(u32::from(b)) + 1);
    if title { k | TITLE } else { k }
}

fn feature_name(k: u64) -> String {
    let mut s = String::new();
    if k & TITLE != 0 {
        s.push_str("T:");
    }
    let k = k & !TITLE;
    if let Some(a) = char::from_u32((k >> 32) as u32) {
        s.push(a);
    }
    let b = (k & 0xffff_ffff) as u32;
    if b > 0
        && let Some(b) = char::from_u32(b - 1)
    {
        s.push(b);
    }
    s
}

fn feature_key(s: &str) -> Option<u64> {
    let (title, s) = match s.strip_prefix("T:") {
        Some(r) => (true, r),
        None => (false, s),
    };
    let mut c = s.chars();
    let a = c.next()?;
    let b = c.next();
    c.next().is_none().then(|| key(a, b, title))
}

/// Calls `f` with every feature of a document.
fn features(doc: &str, mut f: impl FnMut(u64)) {
    let (title, content) = doc.split_once('\n').unwrap_or((doc, ""));
    let keep = |c: &char| c.is_alphanumeric();
    let mut prev: Option<char> = None;
    for c in title.chars().filter(keep) {
        f(key(c, None, true));
        if let Some(p) = prev {
            f(key(p, Some(c), true));
        }
        prev = Some(c);
    }
    for text in [title, content] {
        let mut prev: Option<char> = None;
        for c in text.chars().take(MAX_CONTENT_CHARS) {
            if !keep(&c) || c.is_ascii_digit() {
                prev = None;
                continue;
            }
            if let Some(p) = prev {
                f(key(p, Some(c), false));
            }
            prev = Some(c);
        }
    }
}

fn class_of(section: Option<&str>) -> Option<usize> {
    match section {
        None => Some(OFF),
        Some(s) => SECTIONS.iter().position(|x| *x == s),
    }
}

impl Model {
    /// Trains on editors' decisions: a document ([`document`]) and its
    /// section id, `None` for off-topic. Unknown section ids are skipped.
    pub fn train(examples: &[(String, Option<String>)]) -> Model {
        let mut m = Model::default();
        for (text, section) in examples {
            m.add(text, section.as_deref());
        }
        m
    }

    /// Adds one decision; `false` when the section id is unknown.
    pub fn add(&mut self, text: &str, section: Option<&str>) -> bool {
        let Some(c) = class_of(section) else {
            return false;
        };
        self.docs[c] += 1;
        features(text, |k| {
            self.counts.entry(k).or_insert([0; CLASSES])[c] += 1;
            self.tokens[c] += 1;
        });
        true
    }

    /// How many decisions the model was trained on.
    pub fn decisions(&self) -> u32 {
        self.docs.iter().sum()
    }

    /// Per-class log-probabilities and probabilities of a document.
    pub fn scores(&self, text: &str) -> ModelScores {
        let total = f64::from(self.decisions().max(1));
        let vocab = self.counts.len().max(1) as f64;
        let mut lp = [0.0; CLASSES];
        let denom: [f64; CLASSES] = std::array::from_fn(|c| (self.tokens[c] as f64 + vocab).ln());
        for (c, l) in lp.iter_mut().enumerate() {
            *l = ((f64::from(self.docs[c]) + 1.0) / (total + CLASSES as f64)).ln();
        }
        let mut seen = 0usize;
        features(text, |k| {
            seen += 1;
            if let Some(n) = self.counts.get(&k) {
                for c in 0..CLASSES {
                    lp[c] += (f64::from(n[c]) + 1.0).ln() - denom[c];
                }
            }
        });
        // Naive Bayes counts every overlapping bigram as independent evidence
        // and is overconfident: the probabilities are tempered by one per 50
        // features so that they mix sensibly with the rules'.
        let temperature = (seen as f64 / 50.0).max(1.0);
        let max = lp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut p = lp.map(|l| ((l - max) / temperature).exp());
        let sum: f64 = p.iter().sum();
        p.iter_mut().for_each(|x| *x /= sum);
        ModelScores {
            log_probs: lp,
            sections: [p[0], p[1], p[2], p[3]],
            off_topic: p[OFF],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_and_round_trips() {
        let ex = vec![
            (
                document("德国提高最低工资", "德国联邦政府宣布最低工资上调"),
                Some("abroad".to_string()),
            ),
            (document("足球联赛开幕", "球队比赛夺冠"), None),
            (
                document("人社部部署就业服务", "人力资源社会保障部印发通知"),
                Some("focus".to_string()),
            ),
        ];
        let m = Model::train(&ex);
        assert_eq!(m.decisions(), 3);
        let s = m.scores(&document("球队夺冠", "联赛比赛"));
        assert!(s.off_topic > 0.5, "{s:?}");
        let json = serde_json::to_string(&m).unwrap();
        let back: Model = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
    }
}

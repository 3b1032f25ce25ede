//! Evaluation on a labelled set: JSONL, one item a line,
//! `{"title", "content", "origin", "source", "url", "date", "section": "<id>" | null}`
//! (`null` = off-topic; `url` and `date` optional). Part of the classify
//! stage; its one job is to say how well the classifier does, and how
//! learning from editors changes that ([`learning_curve`]).

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{
    Classification, ClassifyError, ClassifyInput, Example, Model, Rules, SECTIONS, SourceHint,
    Verdict, classify, train,
};

/// The label of the off-topic row and column.
pub const OFF_TOPIC: &str = "off-topic";

#[derive(Deserialize)]
struct Labelled {
    title: String,
    content: String,
    #[serde(default)]
    origin: Option<String>,
    #[serde(default)]
    source: Option<SourceHint>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    date: Option<String>,
    section: Option<String>,
}

/// One labelled item of a set.
#[derive(Debug, Clone)]
pub struct LabelledItem {
    /// Line in the set.
    pub line: usize,
    pub input: ClassifyInput,
    /// `YYYY-MM-DD`, when the set gives one: the order items arrive in.
    pub date: Option<String>,
    /// Index into [`SECTIONS`], or `SECTIONS.len()` for off-topic.
    pub label: usize,
}

impl LabelledItem {
    /// Only a first paragraph, as a summary-only feed gives.
    pub fn lead_only(&self) -> bool {
        !self.input.content.trim().contains('\n')
    }

    fn example(&self) -> Example {
        Example {
            input: self.input.clone(),
            section: SECTIONS.get(self.label).map(|s| s.to_string()),
        }
    }
}

/// One item the classifier got wrong.
#[derive(Debug, Clone, Serialize)]
pub struct Mistake {
    /// Line in the set.
    pub line: usize,
    pub title: String,
    pub expected: String,
    pub predicted: String,
    pub classification: Classification,
}

/// Precision and recall of one label.
#[derive(Debug, Clone, Serialize)]
pub struct LabelScore {
    pub label: String,
    /// Items with this label.
    pub support: usize,
    pub precision: f64,
    pub recall: f64,
}

/// Accuracy on the items of one length.
#[derive(Debug, Clone, Serialize)]
pub struct LengthScore {
    /// `lead only` (one paragraph) or `full text`.
    pub length: String,
    pub items: usize,
    pub accuracy: f64,
    pub section_accuracy: f64,
    /// Relevant items classed irrelevant.
    pub hidden: usize,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub items: usize,
    pub correct: usize,
    /// Correct decisions over all items: an in-scope item filed (as a
    /// candidate or 待定) in its section, an off-topic item below the 待定
    /// band.
    pub accuracy: f64,
    /// In-scope items filed in their section (candidate or 待定) over all
    /// in-scope items.
    pub section_accuracy: f64,
    /// Off-topic items at or above the threshold: candidates, shown to
    /// editors first.
    pub off_topic_relevant: usize,
    /// Off-topic candidates at `relevance.publish` or more: published in
    /// auto mode without an editor.
    pub off_topic_published: usize,
    /// In-scope candidates, and how many of them auto mode publishes
    /// without an editor (the rest wait for one).
    pub in_scope_candidates: usize,
    pub in_scope_published: usize,
    /// In-scope items below the 待定 band: hidden from editors.
    pub hidden: usize,
    /// In-scope items in the 待定 band.
    pub maybe_in_scope: usize,
    /// Off-topic items in the 待定 band: an editor's look each.
    pub maybe_off_topic: usize,
    /// The sections then `off-topic`: rows and columns of `confusion`.
    pub labels: Vec<String>,
    /// `confusion[expected][predicted]`; an item in the 待定 band counts
    /// under the section it is filed in.
    pub confusion: Vec<Vec<usize>>,
    pub per_label: Vec<LabelScore>,
    pub by_length: Vec<LengthScore>,
    pub mistakes: Vec<Mistake>,
}

fn label_index(label: Option<&str>) -> Option<usize> {
    match label {
        None => Some(SECTIONS.len()),
        Some(s) => SECTIONS.iter().position(|x| *x == s),
    }
}

fn labels() -> Vec<String> {
    SECTIONS
        .iter()
        .map(|s| s.to_string())
        .chain([OFF_TOPIC.to_string()])
        .collect()
}

/// Reads a labelled JSONL set.
pub fn load_set(path: &Path) -> Result<Vec<LabelledItem>, ClassifyError> {
    let text = std::fs::read_to_string(path).map_err(|source| ClassifyError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut items = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let item: Labelled = serde_json::from_str(line).map_err(|e| ClassifyError::Syntax {
            path: path.to_path_buf(),
            line: line_no,
            column: e.column(),
            message: e.to_string(),
        })?;
        let label = label_index(item.section.as_deref()).ok_or_else(|| ClassifyError::Invalid {
            path: path.to_path_buf(),
            line: line_no,
            key: "section".into(),
            message: format!(
                "unknown section `{}`; expected one of {} or null",
                item.section.as_deref().unwrap_or_default(),
                SECTIONS.join(", ")
            ),
        })?;
        items.push(LabelledItem {
            line: line_no,
            input: ClassifyInput {
                title: item.title,
                content: item.content,
                origin: item.origin,
                source: item.source,
                url: item.url,
            },
            date: item.date,
            label,
        });
    }
    Ok(items)
}

/// Classifies every item of a JSONL set and compares with its label.
pub fn evaluate(
    path: &Path,
    rules: &Rules,
    model: Option<&Model>,
) -> Result<EvalReport, ClassifyError> {
    Ok(evaluate_items(&load_set(path)?, rules, model))
}

/// Classifies labelled items and compares with their labels.
pub fn evaluate_items(items: &[LabelledItem], rules: &Rules, model: Option<&Model>) -> EvalReport {
    let labels = labels();
    let n = labels.len();
    let off = SECTIONS.len();
    let mut confusion = vec![vec![0usize; n]; n];
    let mut mistakes = Vec::new();
    let (mut correct, mut on_topic, mut on_topic_correct) = (0, 0, 0);
    let (mut off_relevant, mut hidden, mut maybe_in, mut maybe_off) = (0, 0, 0, 0);
    let (mut off_published, mut in_candidates, mut in_published) = (0, 0, 0);
    // Per length (lead only, full): items, correct, in scope, filed right, hidden.
    let mut by_len = [[0usize; 5]; 2];
    for item in items {
        let c = classify(&item.input, rules, model);
        let expected = item.label;
        let published = c.auto_publishes(rules);
        let predicted = match c.verdict {
            Verdict::Irrelevant => off,
            _ => label_index(c.section.as_deref()).unwrap_or(off),
        };
        confusion[expected][predicted] += 1;
        let right = if expected < off {
            on_topic += 1;
            hidden += usize::from(c.verdict == Verdict::Irrelevant);
            maybe_in += usize::from(c.verdict == Verdict::Maybe);
            in_candidates += usize::from(c.verdict == Verdict::Relevant);
            in_published += usize::from(published);
            on_topic_correct += usize::from(predicted == expected);
            predicted == expected
        } else {
            off_relevant += usize::from(c.verdict == Verdict::Relevant);
            off_published += usize::from(published);
            maybe_off += usize::from(c.verdict == Verdict::Maybe);
            c.verdict == Verdict::Irrelevant
        };
        let b = &mut by_len[usize::from(!item.lead_only())];
        b[0] += 1;
        b[1] += usize::from(right);
        if expected < off {
            b[2] += 1;
            b[3] += usize::from(predicted == expected);
            b[4] += usize::from(c.verdict == Verdict::Irrelevant);
        }
        if right {
            correct += 1;
        } else {
            mistakes.push(Mistake {
                line: item.line,
                title: item.input.title.clone(),
                expected: labels[expected].clone(),
                predicted: match c.verdict {
                    Verdict::Maybe => format!("{} (待定)", labels[predicted]),
                    _ => labels[predicted].clone(),
                },
                classification: c,
            });
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    let per_label = (0..n)
        .map(|l| {
            let support: usize = confusion[l].iter().sum();
            let predicted: usize = confusion.iter().map(|row| row[l]).sum();
            LabelScore {
                label: labels[l].clone(),
                support,
                precision: ratio(confusion[l][l], predicted),
                recall: ratio(confusion[l][l], support),
            }
        })
        .collect();
    let by_length = ["lead only", "full text"]
        .iter()
        .zip(by_len)
        .filter(|(_, b)| b[0] > 0)
        .map(|(name, b)| LengthScore {
            length: name.to_string(),
            items: b[0],
            accuracy: ratio(b[1], b[0]),
            section_accuracy: ratio(b[3], b[2]),
            hidden: b[4],
        })
        .collect();
    EvalReport {
        items: items.len(),
        correct,
        accuracy: ratio(correct, items.len()),
        section_accuracy: ratio(on_topic_correct, on_topic),
        off_topic_relevant: off_relevant,
        off_topic_published: off_published,
        in_scope_candidates: in_candidates,
        in_scope_published: in_published,
        hidden,
        maybe_in_scope: maybe_in,
        maybe_off_topic: maybe_off,
        labels,
        confusion,
        per_label,
        by_length,
        mistakes,
    }
}

/// Trains the editors' model on labelled items, as if an editor had
/// decided each as its label says.
pub fn train_on(items: &[LabelledItem], rules: &Rules) -> Model {
    let examples: Vec<Example> = items.iter().map(LabelledItem::example).collect();
    train(&examples, rules)
}

/// The order items reach editors: by date when every item has one (ties in
/// file order), else a fixed shuffle (by a hash of the title), so that a
/// set written label by label does not arrive label by label.
pub fn stream_order(items: &[LabelledItem]) -> Vec<LabelledItem> {
    let mut items = items.to_vec();
    if items.iter().all(|i| i.date.is_some()) {
        items.sort_by(|a, b| a.date.cmp(&b.date).then(a.line.cmp(&b.line)));
    } else {
        items.sort_by_key(|i| crate::text::fnv1a(i.input.title.as_bytes()));
    }
    items
}

/// Accuracy after so many editors' decisions.
#[derive(Debug, Clone, Serialize)]
pub struct CurvePoint {
    pub decisions: usize,
    pub accuracy: f64,
    pub section_accuracy: f64,
    pub hidden: usize,
    /// Off-topic items auto mode publishes.
    pub off_topic_published: usize,
    pub maybe_in_scope: usize,
    pub maybe_off_topic: usize,
    /// How far the model's corrections were trusted (cross-validated on the
    /// decisions so far); 0 with no decisions.
    pub trust: f64,
}

/// The learning curve of [`learning_curve`].
#[derive(Debug, Clone, Serialize)]
pub struct LearningCurve {
    /// Items the model is tested on: those arriving after the last step.
    pub tested: usize,
    pub points: Vec<CurvePoint>,
}

/// Simulates editors deciding items as they arrive ([`stream_order`]),
/// each as its label says: after each number of decisions in `steps` the
/// model trained on them is tested, with the rules, on the items that
/// arrive after the largest step (the same unseen items for every step).
/// `None` when the set has no item beyond the largest step.
pub fn learning_curve(
    items: &[LabelledItem],
    rules: &Rules,
    steps: &[usize],
) -> Option<LearningCurve> {
    let stream = stream_order(items);
    let last = steps.iter().copied().max().unwrap_or(0);
    if last >= stream.len() {
        return None;
    }
    let test = &stream[last..];
    let points = steps
        .iter()
        .map(|&n| {
            let model = (n > 0).then(|| train_on(&stream[..n], rules));
            let r = evaluate_items(test, rules, model.as_ref());
            CurvePoint {
                decisions: n,
                accuracy: r.accuracy,
                section_accuracy: r.section_accuracy,
                hidden: r.hidden,
                off_topic_published: r.off_topic_published,
                maybe_in_scope: r.maybe_in_scope,
                maybe_off_topic: r.maybe_off_topic,
                trust: model.as_ref().map_or(0.0, Model::trust),
            }
        })
        .collect();
    Some(LearningCurve {
        tested: test.len(),
        points,
    })
}

impl fmt::Display for LearningCurve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "learning curve: tested on the {} items that arrive last",
            self.tested
        )?;
        writeln!(
            f,
            "{:>9} {:>9} {:>9} {:>7} {:>10} {:>9} {:>9} {:>6}",
            "decisions",
            "accuracy",
            "sections",
            "hidden",
            "published",
            "待定 in",
            "待定 off",
            "trust"
        )?;
        for p in &self.points {
            writeln!(
                f,
                "{:>9} {:>8.1}% {:>8.1}% {:>7} {:>10} {:>9} {:>9} {:>5.0}%",
                p.decisions,
                100.0 * p.accuracy,
                100.0 * p.section_accuracy,
                p.hidden,
                p.off_topic_published,
                p.maybe_in_scope,
                p.maybe_off_topic,
                100.0 * p.trust
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} items, {} correct: accuracy {:.1} %, section accuracy {:.1} %",
            self.items,
            self.correct,
            100.0 * self.accuracy,
            100.0 * self.section_accuracy,
        )?;
        writeln!(
            f,
            "off-topic published in auto mode {} (candidates {}), in scope but hidden {}, 待定: {} in scope, {} off-topic",
            self.off_topic_published,
            self.off_topic_relevant,
            self.hidden,
            self.maybe_in_scope,
            self.maybe_off_topic
        )?;
        writeln!(
            f,
            "auto mode publishes {} of the {} in-scope candidates at once; the rest wait for an editor",
            self.in_scope_published, self.in_scope_candidates
        )?;
        writeln!(f, "\nexpected \\ predicted (待定 counts under its section)")?;
        write!(f, "{:>10}", "")?;
        for l in &self.labels {
            write!(f, "{l:>10}")?;
        }
        writeln!(f)?;
        for (l, row) in self.labels.iter().zip(&self.confusion) {
            write!(f, "{l:>10}")?;
            for v in row {
                write!(f, "{v:>10}")?;
            }
            writeln!(f)?;
        }
        writeln!(
            f,
            "\n{:>10} {:>8} {:>10} {:>8}",
            "label", "items", "precision", "recall"
        )?;
        for s in &self.per_label {
            writeln!(
                f,
                "{:>10} {:>8} {:>9.1}% {:>7.1}%",
                s.label,
                s.support,
                100.0 * s.precision,
                100.0 * s.recall
            )?;
        }
        writeln!(f)?;
        for l in &self.by_length {
            writeln!(
                f,
                "{}: {} items, accuracy {:.1} %, section accuracy {:.1} %, hidden {}",
                l.length,
                l.items,
                100.0 * l.accuracy,
                100.0 * l.section_accuracy,
                l.hidden
            )?;
        }
        for m in &self.mistakes {
            let c = &m.classification;
            writeln!(
                f,
                "\nline {}: {} — expected {}, predicted {} (relevance {:.3}; {})",
                m.line,
                m.title,
                m.expected,
                m.predicted,
                c.relevance,
                c.scores
                    .iter()
                    .map(|(s, p)| format!("{s} {p:.2}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
            for r in &c.reasons {
                writeln!(f, "    {r}")?;
            }
        }
        Ok(())
    }
}

//! Evaluation on a labelled set: JSONL, one item a line,
//! `{"title", "content", "origin", "source", "section": "<id>" | null}`
//! (`null` = off-topic).

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{
    Classification, ClassifyError, ClassifyInput, Model, Rules, SECTIONS, SourceHint, classify,
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
    section: Option<String>,
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

/// The result of [`evaluate`].
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub items: usize,
    pub correct: usize,
    /// Correct decisions (section or off-topic) over all items.
    pub accuracy: f64,
    /// Correct sections over the items labelled with a section.
    pub section_accuracy: f64,
    /// Off-topic items scored at or above the threshold.
    pub off_topic_relevant: usize,
    /// The sections then `off-topic`: rows and columns of `confusion`.
    pub labels: Vec<String>,
    /// `confusion[expected][predicted]`.
    pub confusion: Vec<Vec<usize>>,
    pub mistakes: Vec<Mistake>,
}

fn label_index(label: Option<&str>) -> Option<usize> {
    match label {
        None => Some(SECTIONS.len()),
        Some(s) => SECTIONS.iter().position(|x| *x == s),
    }
}

/// Classifies every item of a JSONL set and compares with its label.
pub fn evaluate(
    path: &Path,
    rules: &Rules,
    model: Option<&Model>,
) -> Result<EvalReport, ClassifyError> {
    let text = std::fs::read_to_string(path).map_err(|source| ClassifyError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let labels: Vec<String> = SECTIONS
        .iter()
        .map(|s| s.to_string())
        .chain([OFF_TOPIC.to_string()])
        .collect();
    let n = labels.len();
    let mut confusion = vec![vec![0usize; n]; n];
    let mut mistakes = Vec::new();
    let (mut items, mut correct, mut on_topic, mut on_topic_correct, mut off_relevant) =
        (0, 0, 0, 0, 0);
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
        let expected =
            label_index(item.section.as_deref()).ok_or_else(|| ClassifyError::Invalid {
                path: path.to_path_buf(),
                line: line_no,
                key: "section".into(),
                message: format!(
                    "unknown section `{}`; expected one of {} or null",
                    item.section.as_deref().unwrap_or_default(),
                    SECTIONS.join(", ")
                ),
            })?;
        let input = ClassifyInput {
            title: item.title,
            content: item.content,
            origin: item.origin,
            source: item.source,
        };
        let c = classify(&input, rules, model);
        let predicted = label_index(c.section.as_deref()).unwrap_or(n - 1);
        items += 1;
        confusion[expected][predicted] += 1;
        if expected < SECTIONS.len() {
            on_topic += 1;
            on_topic_correct += usize::from(predicted == expected);
        } else if c.relevant {
            off_relevant += 1;
        }
        if predicted == expected {
            correct += 1;
        } else {
            mistakes.push(Mistake {
                line: line_no,
                title: input.title.clone(),
                expected: labels[expected].clone(),
                predicted: labels[predicted].clone(),
                classification: c,
            });
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    Ok(EvalReport {
        items,
        correct,
        accuracy: ratio(correct, items),
        section_accuracy: ratio(on_topic_correct, on_topic),
        off_topic_relevant: off_relevant,
        labels,
        confusion,
        mistakes,
    })
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} items, {} correct: accuracy {:.1} %, section accuracy {:.1} %, off-topic above threshold {}",
            self.items,
            self.correct,
            100.0 * self.accuracy,
            100.0 * self.section_accuracy,
            self.off_topic_relevant
        )?;
        writeln!(f, "\nexpected \\ predicted")?;
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

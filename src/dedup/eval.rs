//! Evaluation against a labelled set of pairs.

use std::fmt;
use std::path::Path;

use serde::Deserialize;

use super::DedupConfig;
use super::verify::{Prepared, StoryText, Verdict, verify};

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} line {line}: {source}")]
    Parse {
        path: String,
        line: usize,
        source: serde_json::Error,
    },
}

/// One JSONL line: `{"a": {...}, "b": {...}, "same": bool}`; other keys
/// (a note, a kind) are ignored.
#[derive(Debug, Deserialize)]
struct Pair {
    a: StoryText,
    b: StoryText,
    same: bool,
    #[serde(default)]
    kind: Option<String>,
}

/// A pair the verdict got wrong.
#[derive(Debug, Clone)]
pub struct Mistake {
    /// 1-based line in the file.
    pub line: usize,
    /// The label.
    pub expected: bool,
    /// The pair's `kind`, when the file names one.
    pub kind: Option<String>,
    pub title_a: String,
    pub title_b: String,
    pub verdict: Verdict,
}

/// Counts and mistakes over a labelled set; "positive" = same story.
#[derive(Debug, Clone, Default)]
pub struct EvalReport {
    pub pairs: usize,
    pub true_positives: usize,
    pub false_positives: usize,
    pub true_negatives: usize,
    pub false_negatives: usize,
    pub mistakes: Vec<Mistake>,
}

impl EvalReport {
    /// Of the pairs called one story, the share that are (1 when none were).
    pub fn precision(&self) -> f64 {
        let called = self.true_positives + self.false_positives;
        if called == 0 {
            1.0
        } else {
            self.true_positives as f64 / called as f64
        }
    }

    /// Of the pairs that are one story, the share called so (1 when none are).
    pub fn recall(&self) -> f64 {
        let actual = self.true_positives + self.false_negatives;
        if actual == 0 {
            1.0
        } else {
            self.true_positives as f64 / actual as f64
        }
    }
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} pairs: {} same story, {} different",
            self.pairs,
            self.true_positives + self.false_negatives,
            self.true_negatives + self.false_positives
        )?;
        writeln!(
            f,
            "precision {:.3}  recall {:.3}  (true +{} / false +{} / true -{} / false -{})",
            self.precision(),
            self.recall(),
            self.true_positives,
            self.false_positives,
            self.true_negatives,
            self.false_negatives
        )?;
        if self.mistakes.is_empty() {
            return writeln!(f, "no mistakes");
        }
        writeln!(f, "{} mistakes:", self.mistakes.len())?;
        for m in &self.mistakes {
            writeln!(
                f,
                "  line {}{}: labelled {}, judged {} — 「{}」 / 「{}」\n    {}",
                m.line,
                m.kind
                    .as_deref()
                    .map(|k| format!(" ({k})"))
                    .unwrap_or_default(),
                if m.expected { "same" } else { "different" },
                if m.verdict.same { "same" } else { "different" },
                m.title_a,
                m.title_b,
                m.verdict.reason
            )?;
        }
        Ok(())
    }
}

/// Runs [`super::same_story`] over every pair of a JSONL file.
pub fn evaluate(path: &Path, cfg: &DedupConfig) -> Result<EvalReport, EvalError> {
    let shown = path.display().to_string();
    let data = std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: shown.clone(),
        source,
    })?;
    let mut report = EvalReport::default();
    for (i, line) in data.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let pair: Pair = serde_json::from_str(line).map_err(|source| EvalError::Parse {
            path: shown.clone(),
            line: i + 1,
            source,
        })?;
        let verdict = verify(
            &Prepared::new(&pair.a, cfg),
            &Prepared::new(&pair.b, cfg),
            cfg,
        );
        report.pairs += 1;
        match (pair.same, verdict.same) {
            (true, true) => report.true_positives += 1,
            (false, false) => report.true_negatives += 1,
            (false, true) => report.false_positives += 1,
            (true, false) => report.false_negatives += 1,
        }
        if pair.same != verdict.same {
            report.mistakes.push(Mistake {
                line: i + 1,
                expected: pair.same,
                kind: pair.kind,
                title_a: pair.a.title,
                title_b: pair.b.title,
                verdict,
            });
        }
    }
    Ok(report)
}

//! Learning from editors: which model of their decisions classifies new
//! items. Part of the classify stage; its one job is to keep the editors'
//! [`Model`] trained on every decision so far. The decisions and the saved
//! model are the store's ([`DecisionLog`] is what it provides).
//!
//! The label of a decided item is its state now, not the decision's: an
//! editor who approves, then moves, then rejects an item has taught one
//! thing (off-topic), so reversals never leave contradictory examples.
//! The model is retrained when a decision newer than the saved model
//! exists or the rules it corrects changed, and saved (so cron runs and the
//! daemon share it). Training reads every decision again: a few thousand
//! decisions train in well under a second.

use std::sync::Arc;

use super::model::{self, Example, Model};
use super::{ClassifyInput, Rules, SourceHint, classify};

/// An item an editor decided about, as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecidedItem {
    pub title: String,
    pub text: String,
    /// The configured source it was read from.
    pub source_id: String,
    /// The page's 来源 ("" when it has none).
    pub origin: String,
    pub url: String,
    /// Rejected, or filed as outside the bulletin's scope.
    pub rejected: bool,
    pub section: Option<String>,
}

/// Where decisions and the trained model are kept: the store.
pub trait DecisionLog {
    type Error;

    /// The id of the latest decision; 0 before the first.
    fn latest_decision(&mut self) -> Result<i64, Self::Error>;

    /// The saved model, if it was trained on the decisions up to `latest`.
    fn saved_model(&mut self, latest: i64) -> Result<Option<Arc<Model>>, Self::Error>;

    /// Every item an editor decided about.
    fn decided_items(&mut self) -> Result<Vec<DecidedItem>, Self::Error>;

    /// Saves `model`, trained on the decisions up to `latest`.
    fn save_model(&mut self, latest: i64, model: Arc<Model>) -> Result<(), Self::Error>;
}

/// One example per decided item: the item as the classifier saw it and
/// its section now (none = off-topic for a rejected item). Approved without
/// a section teaches nothing about sections. `source` describes a
/// configured source by id.
pub fn examples(
    items: &[DecidedItem],
    source: &dyn Fn(&str) -> Option<SourceHint>,
) -> Vec<Example> {
    items
        .iter()
        .filter_map(|i| {
            let section = match (i.rejected, &i.section) {
                (true, _) => None,
                (false, Some(section)) => Some(section.clone()),
                (false, None) => return None,
            };
            Some(Example {
                input: ClassifyInput {
                    title: i.title.clone(),
                    content: i.text.clone(),
                    origin: (!i.origin.is_empty()).then(|| i.origin.clone()),
                    source: source(&i.source_id),
                    url: (!i.url.is_empty()).then(|| i.url.clone()),
                },
                section,
            })
        })
        .collect()
}

/// Trains the editors' model on `examples` as corrections to `rules`.
pub fn train(examples: &[Example], rules: &Rules) -> Model {
    let data: Vec<_> = examples
        .iter()
        .map(|e| {
            let c = classify(&e.input, rules, None);
            let probs: [f64; 4] = std::array::from_fn(|i| c.scores[i].1);
            (
                model::features_with_rules(&e.input, c.relevance, &probs),
                model::offset(c.relevance, &probs),
                e.section.clone(),
            )
        })
        .collect();
    Model::train(&data, rules)
}

/// The editors' model trained on every decision so far; `None` before the
/// first decision. Retrains (and saves the result) when decisions were made
/// since the saved model, or the rules changed.
pub fn current_model<L: DecisionLog + ?Sized>(
    log: &mut L,
    rules: &Rules,
    source: &dyn Fn(&str) -> Option<SourceHint>,
) -> Result<Option<Arc<Model>>, L::Error> {
    let latest = log.latest_decision()?;
    if latest == 0 {
        return Ok(None);
    }
    if let Some(model) = log.saved_model(latest)?
        && model.rules_fingerprint() == rules.fingerprint
    {
        return Ok(Some(model));
    }
    let model = Arc::new(train(&examples(&log.decided_items()?, source), rules));
    log.save_model(latest, model.clone())?;
    Ok(Some(model))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(rejected: bool, section: Option<&str>) -> DecidedItem {
        DecidedItem {
            title: "标题".into(),
            text: "正文".into(),
            source_id: "s".into(),
            origin: String::new(),
            url: String::new(),
            rejected,
            section: section.map(str::to_string),
        }
    }

    #[test]
    fn rejected_items_teach_off_topic_and_unfiled_approvals_nothing() {
        let ex = examples(
            &[
                item(true, Some("focus")),
                item(false, Some("regional")),
                item(false, None),
            ],
            &|_| None,
        );
        let labels: Vec<Option<&str>> = ex.iter().map(|e| e.section.as_deref()).collect();
        assert_eq!(labels, vec![None, Some("regional")]);
    }
}

//! Learning from editors: which model of their decisions classifies new
//! items. Part of the classify stage; its one job is to keep the editors'
//! [`Model`] trained on every decision so far. The decisions and the saved
//! model are the store's ([`DecisionLog`] is what it provides).
//!
//! The label of a decided item is its state now, not the decision's: an
//! editor who approves, then moves, then rejects an item has taught one
//! thing (off-topic), so reversals never leave contradictory examples.
//! Naive Bayes trains in one pass over the examples; the model is retrained
//! when a decision newer than the saved model exists, and saved (so cron
//! runs and the daemon share it).

use std::sync::Arc;

use super::model::{Model, document};

/// An item an editor decided about, as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecidedItem {
    pub title: String,
    pub text: String,
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

/// One example per decided item: its text and its section now (none =
/// off-topic for a rejected item). Approved without a section teaches
/// nothing about sections.
pub fn examples(items: &[DecidedItem]) -> Vec<(String, Option<String>)> {
    items
        .iter()
        .filter_map(|i| {
            let doc = document(&i.title, &i.text);
            match (i.rejected, &i.section) {
                (true, _) => Some((doc, None)),
                (false, Some(section)) => Some((doc, Some(section.clone()))),
                (false, None) => None,
            }
        })
        .collect()
}

/// The editors' model trained on every decision so far; `None` before the
/// first decision. Retrains (and saves the result) when decisions were made
/// since the saved model.
pub fn current_model<L: DecisionLog + ?Sized>(log: &mut L) -> Result<Option<Arc<Model>>, L::Error> {
    let latest = log.latest_decision()?;
    if latest == 0 {
        return Ok(None);
    }
    if let Some(model) = log.saved_model(latest)? {
        return Ok(Some(model));
    }
    let model = Arc::new(Model::train(&examples(&log.decided_items()?)));
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
            rejected,
            section: section.map(str::to_string),
        }
    }

    #[test]
    fn rejected_items_teach_off_topic_and_unfiled_approvals_nothing() {
        let ex = examples(&[
            item(true, Some("focus")),
            item(false, Some("regional")),
            item(false, None),
        ]);
        let labels: Vec<Option<&str>> = ex.iter().map(|(_, l)| l.as_deref()).collect();
        assert_eq!(labels, vec![None, Some("regional")]);
    }
}

//! Editors' decisions and the classifier's saved model, the store's side.
//! Part of the store layer; its one job is to keep every approve, reject
//! and move in `decisions`, and the model trained from them in
//! `classifier_model`, as typed rows. Training is the classify stage's
//! ([`crate::classify::current_model`], through [`DecisionLog`]).

use std::sync::Arc;

use chrono::Utc;
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, Status, StoreError, ts};
use crate::classify::{DecidedItem, DecisionLog, Model};

/// What an editor decided about an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
    /// Filed under another section.
    Move,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
            Decision::Move => "move",
        }
    }

    /// The decision named `s` (`approve`, `reject`, `move`).
    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "approve" => Some(Decision::Approve),
            "reject" => Some(Decision::Reject),
            "move" => Some(Decision::Move),
            _ => None,
        }
    }

    /// The decision a review status records, if it is one.
    pub fn of_status(status: Status) -> Option<Decision> {
        match status {
            Status::Approved => Some(Decision::Approve),
            Status::Rejected | Status::Irrelevant => Some(Decision::Reject),
            Status::Candidate | Status::Maybe => None,
        }
    }
}

/// The model kept in memory, with the last decision it was trained on.
#[derive(Debug, Default)]
pub(super) struct ModelCache {
    trained_on: i64,
    model: Option<Arc<Model>>,
}

pub trait DecisionStore {
    /// Records a decision about an item's story (on its primary item, the
    /// text the editor read).
    fn record_decision(
        &mut self,
        item_id: i64,
        decision: Decision,
        editor: Option<&str>,
    ) -> Result<(), StoreError>;

    /// Takes back the latest `decision` `editor` made on the item's story
    /// (an undone decision is no training data).
    fn forget_decision(
        &mut self,
        item_id: i64,
        decision: Decision,
        editor: &str,
    ) -> Result<bool, StoreError>;

    /// How many decisions editors have made.
    fn decision_count(&self) -> Result<i64, StoreError>;
    /// How many decisions (up to which decision id) the saved model was
    /// trained on; `None` before the first training.
    fn model_trained_on(&self) -> Result<Option<i64>, StoreError>;
}

impl DecisionStore for SqliteStore {
    fn record_decision(
        &mut self,
        item_id: i64,
        decision: Decision,
        editor: Option<&str>,
    ) -> Result<(), StoreError> {
        let primary: i64 = self
            .conn
            .prepare_cached(
                "SELECT st.primary_item FROM items i JOIN stories st ON st.id = i.story_id
                 WHERE i.id = ?1",
            )?
            .query_row([item_id], |r| r.get(0))
            .optional()?
            .ok_or(StoreError::NoSuchItem(item_id))?;
        self.conn
            .prepare_cached(
                "INSERT INTO decisions (item_id, at, action, section, editor)
             VALUES (?1, ?2, ?3, (SELECT section FROM items WHERE id = ?1), ?4)",
            )?
            .execute(params![primary, ts(Utc::now()), decision.as_str(), editor])?;
        Ok(())
    }

    fn forget_decision(
        &mut self,
        item_id: i64,
        decision: Decision,
        editor: &str,
    ) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "DELETE FROM decisions WHERE id = (
                 SELECT d.id FROM decisions d
                 WHERE d.item_id = (SELECT st.primary_item FROM items i
                                    JOIN stories st ON st.id = i.story_id WHERE i.id = ?1)
                   AND d.action = ?2 AND d.editor = ?3
                 ORDER BY d.id DESC LIMIT 1)",
            )?
            .execute(params![item_id, decision.as_str(), editor])?
            > 0)
    }

    fn decision_count(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM decisions")?
            .query_row([], |r| r.get(0))?)
    }
    fn model_trained_on(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT decisions FROM classifier_model WHERE id = 1")?
            .query_row([], |r| r.get(0))
            .optional()?)
    }
}

impl DecisionLog for SqliteStore {
    type Error = StoreError;

    fn latest_decision(&mut self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT COALESCE(MAX(id), 0) FROM decisions")?
            .query_row([], |r| r.get(0))?)
    }

    /// Kept in memory too, so a daemon reads the model once per retraining.
    fn saved_model(&mut self, latest: i64) -> Result<Option<Arc<Model>>, StoreError> {
        if self.model_cache.trained_on == latest && self.model_cache.model.is_some() {
            return Ok(self.model_cache.model.clone());
        }
        let json: Option<String> = self
            .conn
            .prepare_cached("SELECT model FROM classifier_model WHERE id = 1 AND decisions = ?1")?
            .query_row([latest], |r| r.get(0))
            .optional()?;
        // A model this kuaibao cannot read is trained again.
        let Some(model) = json.and_then(|j| serde_json::from_str::<Model>(&j).ok()) else {
            return Ok(None);
        };
        self.model_cache = ModelCache {
            trained_on: latest,
            model: Some(Arc::new(model)),
        };
        Ok(self.model_cache.model.clone())
    }

    fn decided_items(&mut self) -> Result<Vec<DecidedItem>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT title, content_text, status, section, source_id, origin, url FROM items
             WHERE id IN (SELECT item_id FROM decisions) ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(DecidedItem {
                title: r.get(0)?,
                text: r.get(1)?,
                rejected: matches!(
                    Status::parse(&r.get::<_, String>(2)?),
                    Status::Rejected | Status::Irrelevant
                ),
                section: r.get(3)?,
                source_id: r.get(4)?,
                origin: r.get(5)?,
                url: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn save_model(&mut self, latest: i64, model: Arc<Model>) -> Result<(), StoreError> {
        let json = serde_json::to_string(&*model)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        self.conn
            .prepare_cached(
                "INSERT INTO classifier_model (id, decisions, trained_at, model)
             VALUES (1, ?1, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET decisions = excluded.decisions,
                 trained_at = excluded.trained_at, model = excluded.model",
            )?
            .execute(params![latest, ts(Utc::now()), json])?;
        self.model_cache = ModelCache {
            trained_on: latest,
            model: Some(model),
        };
        Ok(())
    }
}

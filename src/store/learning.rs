//! Learning from editors, the store's side: every approve, reject and move
//! is recorded in `decisions`, and the classifier's model is trained from
//! them (see [`crate::classify::model`]). Part of the store stage; the
//! classify stage asks [`Store::classifier_model`] for the current model.
//!
//! The label of a decided item is its state now, not the decision's: an
//! editor who approves, then moves, then rejects an item has taught one
//! thing (off-topic), so reversals never leave contradictory examples.
//! Naive Bayes trains in one pass over the examples; the model is retrained
//! when a decision newer than the stored model exists, and kept in the
//! database (so cron runs and the daemon share it) and in memory.

use std::sync::Arc;

use chrono::Utc;
use rusqlite::{OptionalExtension, params};

use super::{Status, Store, StoreError, ts};
use crate::classify::Model;
use crate::classify::model::document;

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
            Status::Candidate => None,
        }
    }
}

/// The model kept in memory, with the last decision it was trained on.
#[derive(Debug, Default)]
pub(super) struct ModelCache {
    trained_on: i64,
    model: Option<Arc<Model>>,
}

impl Store {
    /// Records a decision about an item's story (on its primary item, the
    /// text the editor read).
    pub fn record_decision(
        &mut self,
        item_id: i64,
        decision: Decision,
        editor: Option<&str>,
    ) -> Result<(), StoreError> {
        let primary: i64 = self
            .conn
            .query_row(
                "SELECT st.primary_item FROM items i JOIN stories st ON st.id = i.story_id
                 WHERE i.id = ?1",
                [item_id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(StoreError::NoSuchItem(item_id))?;
        self.conn.execute(
            "INSERT INTO decisions (item_id, at, action, section, editor)
             VALUES (?1, ?2, ?3, (SELECT section FROM items WHERE id = ?1), ?4)",
            params![primary, ts(Utc::now()), decision.as_str(), editor],
        )?;
        Ok(())
    }

    /// Takes back the latest `decision` `editor` made on the item's story
    /// (an undone decision is no training data).
    pub fn forget_decision(
        &mut self,
        item_id: i64,
        decision: Decision,
        editor: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.conn.execute(
            "DELETE FROM decisions WHERE id = (
                 SELECT d.id FROM decisions d
                 WHERE d.item_id = (SELECT st.primary_item FROM items i
                                    JOIN stories st ON st.id = i.story_id WHERE i.id = ?1)
                   AND d.action = ?2 AND d.editor = ?3
                 ORDER BY d.id DESC LIMIT 1)",
            params![item_id, decision.as_str(), editor],
        )? > 0)
    }

    /// How many decisions editors have made.
    pub fn decision_count(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM decisions", [], |r| r.get(0))?)
    }

    /// The classifier's model trained on every decision so far; `None`
    /// before the first decision. Retrains (and stores the result) when
    /// decisions were made since the stored model.
    pub fn classifier_model(&mut self) -> Result<Option<Arc<Model>>, StoreError> {
        let latest: i64 =
            self.conn
                .query_row("SELECT COALESCE(MAX(id), 0) FROM decisions", [], |r| {
                    r.get(0)
                })?;
        if latest == 0 {
            return Ok(None);
        }
        if self.model_cache.trained_on == latest {
            return Ok(self.model_cache.model.clone());
        }
        let stored: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT decisions, model FROM classifier_model WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let model = match stored {
            Some((trained_on, json)) if trained_on == latest => {
                serde_json::from_str::<Model>(&json).ok()
            }
            _ => None,
        };
        let model = match model {
            Some(m) => m,
            None => {
                let m = self.train_model()?;
                let json = serde_json::to_string(&m)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
                self.conn.execute(
                    "INSERT INTO classifier_model (id, decisions, trained_at, model)
                     VALUES (1, ?1, ?2, ?3)
                     ON CONFLICT(id) DO UPDATE SET decisions = excluded.decisions,
                         trained_at = excluded.trained_at, model = excluded.model",
                    params![latest, ts(Utc::now()), json],
                )?;
                m
            }
        };
        self.model_cache = ModelCache {
            trained_on: latest,
            model: Some(Arc::new(model)),
        };
        Ok(self.model_cache.model.clone())
    }

    /// One example per decided item: its text and its section now (none =
    /// off-topic for a rejected item).
    fn train_model(&self) -> Result<Model, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT title, content_text, status, section FROM items
             WHERE id IN (SELECT item_id FROM decisions)",
        )?;
        let examples: Vec<(String, Option<String>)> = stmt
            .query_map([], |r| {
                let (title, text): (String, String) = (r.get(0)?, r.get(1)?);
                let status = Status::parse(&r.get::<_, String>(2)?);
                let section: Option<String> = r.get(3)?;
                Ok((document(&title, &text), status, section))
            })?
            .filter_map(|row| match row {
                Ok((doc, Status::Rejected | Status::Irrelevant, _)) => Some(Ok((doc, None))),
                Ok((doc, _, Some(section))) => Some(Ok((doc, Some(section)))),
                // Approved without a section teaches nothing about sections.
                Ok((_, _, None)) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<Result<_, _>>()?;
        Ok(Model::train(&examples))
    }
}

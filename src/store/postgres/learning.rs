//! Editors' decisions and the classifier's saved model on PostgreSQL:
//! [`DecisionStore`] and [`DecisionLog`] for [`PgStore`]. Part of the
//! store layer; the same rows as the SQLite store's `store::learning`
//! (`decisions`, `classifier_model`), and the same in-memory copy of the
//! model, so a daemon reads it once per retraining.

use std::sync::Arc;

use chrono::Utc;

use super::PgStore;
use crate::classify::{DecidedItem, DecisionLog, Model};
use crate::store::{Decision, DecisionStore, Status, StoreError, ts};

/// The model kept in memory, with the last decision it was trained on.
#[derive(Debug, Default)]
pub(super) struct ModelCache {
    trained_on: i64,
    model: Option<Arc<Model>>,
}

impl DecisionStore for PgStore {
    fn record_decision(
        &mut self,
        item_id: i64,
        decision: Decision,
        editor: Option<&str>,
    ) -> Result<(), StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<(), StoreError> {
            // One statement: the primary and its section are read where the
            // decision is written, so a concurrent split or move cannot put
            // another item's section on it.
            let inserted = self.db().query_opt(
                "INSERT INTO decisions (item_id, at, action, section, editor)
                 SELECT st.primary_item, $2, $3, p.section, $4
                 FROM items i JOIN stories st ON st.id = i.story_id
                 LEFT JOIN items p ON p.id = st.primary_item
                 WHERE i.id = $1
                 RETURNING id",
                &[&item_id, &ts(Utc::now()), &decision.as_str(), &editor],
            )?;
            match inserted {
                Some(_) => Ok(()),
                None => Err(StoreError::NoSuchItem(item_id)),
            }
        })
    }

    fn forget_decision(
        &mut self,
        item_id: i64,
        decision: Decision,
        editor: &str,
    ) -> Result<bool, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<bool, StoreError> {
            Ok(self.db().execute(
                "DELETE FROM decisions WHERE id = (
                     SELECT d.id FROM decisions d
                     WHERE d.item_id = (SELECT st.primary_item FROM items i
                                        JOIN stories st ON st.id = i.story_id WHERE i.id = $1)
                       AND d.action = $2 AND d.editor = $3
                     ORDER BY d.id DESC LIMIT 1)",
                &[&item_id, &decision.as_str(), &editor],
            )? > 0)
        })
    }

    fn decision_count(&self) -> Result<i64, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<i64, StoreError> {
            Ok(self
                .db()
                .query_one("SELECT COUNT(*) FROM decisions", &[])?
                .try_get(0)?)
        })
    }

    fn model_trained_on(&self) -> Result<Option<i64>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Option<i64>, StoreError> {
            match self
                .db()
                .query_opt("SELECT decisions FROM classifier_model WHERE id = 1", &[])?
            {
                Some(r) => Ok(Some(r.try_get(0)?)),
                None => Ok(None),
            }
        })
    }
}

impl DecisionLog for PgStore {
    type Error = StoreError;

    fn latest_decision(&mut self) -> Result<i64, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<i64, StoreError> {
            Ok(self
                .db()
                .query_one("SELECT COALESCE(MAX(id), 0) FROM decisions", &[])?
                .try_get(0)?)
        })
    }

    /// Kept in memory too, so a daemon reads the model once per retraining.
    fn saved_model(&mut self, latest: i64) -> Result<Option<Arc<Model>>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Option<Arc<Model>>, StoreError> {
            if self.model_cache.trained_on == latest && self.model_cache.model.is_some() {
                return Ok(self.model_cache.model.clone());
            }
            let json: Option<String> = match self.db().query_opt(
                "SELECT model FROM classifier_model WHERE id = 1 AND decisions = $1",
                &[&latest],
            )? {
                Some(r) => Some(r.try_get(0)?),
                None => None,
            };
            // A model this kuaibao cannot read is trained again.
            let Some(model) = json.and_then(|j| serde_json::from_str::<Model>(&j).ok()) else {
                return Ok(None);
            };
            self.model_cache = ModelCache {
                trained_on: latest,
                model: Some(Arc::new(model)),
            };
            Ok(self.model_cache.model.clone())
        })
    }

    fn decided_items(&mut self) -> Result<Vec<DecidedItem>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Vec<DecidedItem>, StoreError> {
            let rows = self.db().query(
                "SELECT title, content_text, status, section, source_id, origin, url FROM items
                 WHERE id IN (SELECT item_id FROM decisions) ORDER BY id",
                &[],
            )?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push(DecidedItem {
                    title: r.try_get(0)?,
                    text: r.try_get(1)?,
                    rejected: matches!(
                        Status::parse(r.try_get::<_, &str>(2)?),
                        Status::Rejected | Status::Irrelevant
                    ),
                    section: r.try_get(3)?,
                    source_id: r.try_get(4)?,
                    origin: r.try_get(5)?,
                    url: r.try_get(6)?,
                });
            }
            Ok(out)
        })
    }

    fn save_model(&mut self, latest: i64, model: Arc<Model>) -> Result<(), StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<(), StoreError> {
            // The error SQLite's store gives for a model it cannot encode
            // (`StoreError` has no variant of its own for it).
            let json = serde_json::to_string(&*model)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
            self.db().execute(
                "INSERT INTO classifier_model (id, decisions, trained_at, model)
                 VALUES (1, $1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET decisions = excluded.decisions,
                     trained_at = excluded.trained_at, model = excluded.model",
                &[&latest, &ts(Utc::now()), &json],
            )?;
            self.model_cache = ModelCache {
                trained_on: latest,
                model: Some(model),
            };
            Ok(())
        })
    }
}

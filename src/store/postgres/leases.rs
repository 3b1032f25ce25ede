//! Leases and host budgets: how many pollers share one PostgreSQL database
//! without polling a source twice at once or asking a host more often than
//! `poll.host_delay` allows (issue 15). Part of the store layer (PostgreSQL
//! backend); its one job is to hand out and take back those two kinds of
//! permission, atomically, through the database. Deciding when to ask for
//! them is the poller's.
//!
//! A **lease** is a source's row in `source_leases`: the holder's name
//! (unique per poller process, e.g. `host:pid`) and an expiry. A poller
//! claims due sources ([`PgStore::claim_due_sources`]), renews the lease
//! while a poll takes long ([`PgStore::renew_lease`]) and releases it with
//! the source's next due time ([`PgStore::release_lease`]). A poller that
//! dies keeps its sources only until their leases expire; then any other
//! poller takes them over.
//!
//! A **host turn** ([`PgStore::take_host_turn`]) is the right to start one
//! request to a host now; granting it pushes the host's `next_allowed_at`
//! one `host_delay` ahead, so every poller together starts at most one
//! request per `host_delay` to a host.
//!
//! All times are the caller's clock (`now`): pollers on several machines
//! need clocks kept in step (NTP), as any lease scheme does; a lease
//! should be long against the skew (minutes against milliseconds).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{PgError, PgStore, later, stored_ts};
use crate::store::leases::LeaseCounts;

/// Who holds a source, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub holder: String,
    pub expires_at: DateTime<Utc>,
}

/// The answer to asking for a host's turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostTurn {
    /// Start the request now.
    Granted,
    /// Another request to the host started too recently: not before this.
    Wait { until: DateTime<Utc> },
}

impl PgStore {
    /// Claims up to `limit` sources that are due at `now` (never polled, or
    /// `next_due_at` reached) and that nobody holds (no lease, or an
    /// expired one), for `holder` until `now + lease`. Returns their ids,
    /// longest overdue first; two pollers claiming at once never get the
    /// same source.
    ///
    /// `SKIP LOCKED` lets concurrent claims pass each other instead of
    /// queueing on the same rows. Both the source's row and its lease row
    /// are locked, not the lease row alone: when a row has changed since
    /// the statement's snapshot, PostgreSQL re-checks the WHERE clause
    /// against the latest version of the *locked* rows only. Locking both
    /// means a claim that read the source before another poller released it
    /// (lease cleared, `next_due_at` moved ahead in one transaction) sees
    /// the new `next_due_at` too, and does not take the source again.
    pub fn claim_due_sources(
        &mut self,
        holder: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<String>, PgError> {
        self.claim_due_among(holder, now, lease, limit, None)
    }

    /// [`PgStore::claim_due_sources`] among `only` (the sources this
    /// poller's configuration enables), or among all when `None`.
    pub fn claim_due_among(
        &mut self,
        holder: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
        only: Option<&[String]>,
    ) -> Result<Vec<String>, PgError> {
        crate::store::postgres::outside_runtime(|| -> Result<Vec<String>, PgError> {
            let expires = later(now, lease, "the lease's expiry")?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let client = self.client_mut();
            let rows = client.query(
                r#"WITH due AS (
                       SELECT s.id, s.next_due_at
                       FROM sources s JOIN source_leases l ON l.source_id = s.id
                       WHERE (s.next_due_at IS NULL OR s.next_due_at <= $1)
                         AND (l.expires_at IS NULL OR l.expires_at <= $2)
                         AND ($6::text[] IS NULL OR s.id = ANY($6))
                       ORDER BY s.next_due_at NULLS FIRST, s.id
                       LIMIT $3
                       FOR UPDATE OF s, l SKIP LOCKED
                   ), claimed AS (
                       UPDATE source_leases l SET holder = $4, expires_at = $5, claimed_at = $2
                       FROM due WHERE l.source_id = due.id
                       RETURNING l.source_id, due.next_due_at
                   )
                   SELECT source_id FROM claimed ORDER BY next_due_at NULLS FIRST, source_id"#,
                &[&stored_ts(now), &now, &limit, &holder, &expires, &only],
            )?;
            rows.iter()
                .map(|r| r.try_get(0).map_err(PgError::from))
                .collect()
        })
    }

    /// Extends `holder`'s lease on the source to `now + lease`. False when
    /// `holder` no longer holds it (released, or taken over after it
    /// expired): the poll in progress should stop writing for that source.
    /// A lease that expired but was not taken over is still the holder's.
    pub fn renew_lease(
        &mut self,
        holder: &str,
        source_id: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<bool, PgError> {
        crate::store::postgres::outside_runtime(|| -> Result<bool, PgError> {
            let expires = later(now, lease, "the lease's expiry")?;
            let client = self.client_mut();
            let n = client.execute(
                "UPDATE source_leases SET expires_at = $3 WHERE source_id = $1 AND holder = $2",
                &[&source_id, &holder, &expires],
            )?;
            Ok(n == 1)
        })
    }

    /// Gives the source back and sets when it is next due, in one
    /// transaction. False (and nothing changed) when `holder` no longer
    /// holds it: whoever took it over decides its next due time.
    pub fn release_lease(
        &mut self,
        holder: &str,
        source_id: &str,
        next_due: DateTime<Utc>,
    ) -> Result<bool, PgError> {
        crate::store::postgres::outside_runtime(|| -> Result<bool, PgError> {
            let client = self.client_mut();
            let mut tx = client.transaction()?;
            let released = tx.execute(
                "UPDATE source_leases SET holder = NULL, expires_at = NULL
                 WHERE source_id = $1 AND holder = $2",
                &[&source_id, &holder],
            )?;
            if released != 1 {
                return Ok(false);
            }
            tx.execute(
                "UPDATE sources SET next_due_at = $2 WHERE id = $1",
                &[&source_id, &stored_ts(next_due)],
            )?;
            tx.commit()?;
            Ok(true)
        })
    }

    /// How many sources are held, how many of those leases expired, and
    /// how many sources are due with nobody holding them.
    pub fn count_leases(&self, now: DateTime<Utc>) -> Result<LeaseCounts, PgError> {
        crate::store::postgres::outside_runtime(|| -> Result<LeaseCounts, PgError> {
            let r = self.db().query_one(
                "SELECT count(*) FILTER (WHERE l.holder IS NOT NULL),
                        count(*) FILTER (WHERE l.holder IS NOT NULL AND l.expires_at <= $2),
                        count(*) FILTER (WHERE l.holder IS NULL
                                         AND (s.next_due_at IS NULL OR s.next_due_at <= $1))
                 FROM sources s JOIN source_leases l ON l.source_id = s.id",
                &[&stored_ts(now), &now],
            )?;
            let count = |i: usize| -> Result<u64, PgError> {
                Ok(u64::try_from(r.try_get::<_, i64>(i)?).unwrap_or(0))
            };
            Ok(LeaseCounts {
                held: count(0)?,
                expired: count(1)?,
                due: count(2)?,
            })
        })
    }

    /// Who holds the source now, if anyone (an expired lease is still
    /// shown: it is the holder's until someone takes it over).
    pub fn source_lease(&self, source_id: &str) -> Result<Option<Lease>, PgError> {
        crate::store::postgres::outside_runtime(|| -> Result<Option<Lease>, PgError> {
            let row = self.db().query_opt(
                "SELECT holder, expires_at FROM source_leases
                 WHERE source_id = $1 AND holder IS NOT NULL",
                &[&source_id],
            )?;
            Ok(match row {
                Some(r) => Some(Lease {
                    holder: r.try_get(0)?,
                    expires_at: r.try_get(1)?,
                }),
                None => None,
            })
        })
    }

    /// Asks to start a request to `host` at `now`. Granted when no request
    /// to it started within the last `delay` (by any poller); the host's
    /// next turn is then `now + delay`. One statement, so two pollers
    /// asking at once cannot both be granted: the second waits on the
    /// first's row lock and then re-checks against what the first wrote.
    pub fn take_host_turn(
        &mut self,
        host: &str,
        now: DateTime<Utc>,
        delay: Duration,
    ) -> Result<HostTurn, PgError> {
        crate::store::postgres::outside_runtime(|| -> Result<HostTurn, PgError> {
            let next = later(now, delay, "the host's next turn")?;
            let client = self.client_mut();
            let granted = client.query_opt(
                "INSERT INTO host_budget AS b (host, next_allowed_at) VALUES ($1, $3)
                 ON CONFLICT (host) DO UPDATE SET next_allowed_at = excluded.next_allowed_at
                     WHERE b.next_allowed_at <= $2
                 RETURNING b.host",
                &[&host, &now, &next],
            )?;
            if granted.is_some() {
                return Ok(HostTurn::Granted);
            }
            let until = client.query_opt(
                "SELECT next_allowed_at FROM host_budget WHERE host = $1",
                &[&host],
            )?;
            Ok(HostTurn::Wait {
                until: match until {
                    Some(r) => r.try_get(0)?,
                    // Rows are never deleted; were one gone, the host is free.
                    None => now,
                },
            })
        })
    }
}

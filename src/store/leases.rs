//! Polling shared out among processes, part of the store layer: the seam
//! through which the scheduler asks for the sources it may poll. Only a
//! database many machines share hands out leases (PostgreSQL,
//! `store::postgres::leases`); SQLite has one poller, which its lock file
//! names, and answers `None`.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::StoreError;
use super::postgres::{HostTurn, PgStore};

/// Leases on sources, held by name (`host:pid`) until an expiry.
pub trait Leases {
    /// Claims up to `limit` of the sources `among` that are due and that
    /// nobody holds, for `holder` until `now + lease`, longest overdue
    /// first; two pollers claiming at once never get one source.
    fn claim_due(
        &mut self,
        holder: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
        among: &[String],
    ) -> Result<Vec<String>, StoreError>;
    /// Extends `holder`'s lease; false when another poller took it over.
    fn renew(
        &mut self,
        holder: &str,
        source_id: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<bool, StoreError>;
    /// Gives the source back, due again at `next_due`; false when
    /// `holder` no longer held it.
    fn release(
        &mut self,
        holder: &str,
        source_id: &str,
        next_due: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Asks to start a request to `host` at `now`: `None` when granted
    /// (no poller started one within `delay`), else when to ask again.
    fn take_host_turn(
        &mut self,
        host: &str,
        now: DateTime<Utc>,
        delay: Duration,
    ) -> Result<Option<DateTime<Utc>>, StoreError>;
    /// Sources held now, and of those how many past their expiry (a
    /// poller that died): for `/metrics`.
    fn lease_counts(&self, now: DateTime<Utc>) -> Result<LeaseCounts, StoreError>;
}

/// What `/metrics` shows of the leases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeaseCounts {
    /// Sources a poller holds, expired leases included.
    pub held: u64,
    /// Leases past their expiry that nobody took over yet.
    pub expired: u64,
    /// Sources due now that nobody holds: the shared queue.
    pub due: u64,
}

/// Whether the backend shares polling out by leases.
pub trait LeaseStore {
    /// The leases, when this database is shared among pollers.
    fn leases(&mut self) -> Option<&mut dyn Leases>;
}

impl LeaseStore for super::SqliteStore {
    fn leases(&mut self) -> Option<&mut dyn Leases> {
        None
    }
}

impl LeaseStore for PgStore {
    fn leases(&mut self) -> Option<&mut dyn Leases> {
        Some(self)
    }
}

impl Leases for PgStore {
    fn claim_due(
        &mut self,
        holder: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
        among: &[String],
    ) -> Result<Vec<String>, StoreError> {
        Ok(self.claim_due_among(holder, now, lease, limit, Some(among))?)
    }

    fn renew(
        &mut self,
        holder: &str,
        source_id: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        Ok(self.renew_lease(holder, source_id, now, lease)?)
    }

    fn release(
        &mut self,
        holder: &str,
        source_id: &str,
        next_due: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(self.release_lease(holder, source_id, next_due)?)
    }

    fn take_host_turn(
        &mut self,
        host: &str,
        now: DateTime<Utc>,
        delay: Duration,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(match PgStore::take_host_turn(self, host, now, delay)? {
            HostTurn::Granted => None,
            HostTurn::Wait { until } => Some(until),
        })
    }

    fn lease_counts(&self, now: DateTime<Utc>) -> Result<LeaseCounts, StoreError> {
        Ok(self.count_leases(now)?)
    }
}

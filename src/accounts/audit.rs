//! The desk's audit log: who did what to which item or story, with the
//! value before and after, so that an editor's decision can be traced and
//! undone by hand. The desk writes it; `kuaibao audit` reads it. The rows
//! are kept by the store (`Store::record_audit`, `Store::audit_entries`).

use chrono::{DateTime, Utc};

use super::AccountError;
use crate::store::{AuditEntry, AuditQuery, AuditRecord, Store};

/// Records an action now; its id.
pub fn record(store: &Store, entry: &AuditEntry<'_>) -> Result<i64, AccountError> {
    record_at(store, entry, Utc::now())
}

/// Records an action at a given time (the limiter's clock, tests).
pub fn record_at(
    store: &Store,
    entry: &AuditEntry<'_>,
    at: DateTime<Utc>,
) -> Result<i64, AccountError> {
    Ok(store.record_audit(entry, at)?)
}

/// Recorded actions, newest first; within one second, in the order they
/// were recorded (newest first too).
pub fn audit_entries(store: &Store, query: &AuditQuery) -> Result<Vec<AuditRecord>, AccountError> {
    Ok(store.audit_entries(query)?)
}

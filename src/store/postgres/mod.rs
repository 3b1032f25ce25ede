//! The PostgreSQL store, layer 4 (store), the second backend beside
//! SQLite (issue 15). Its one job is the same as the SQLite store's — keep
//! what the pipeline and the editors produce and give it back as typed rows
//! — for a database that many kuaibao processes on many machines share;
//! plus what only sharing needs: which poller holds which source (leases)
//! and how soon a host may be asked again (a budget every poller draws
//! from), in `store::postgres::leases`.
//!
//! This is the foundation: connecting, this backend's own versioned
//! migrations (`store::postgres::schema`, the PostgreSQL form of the SQLite
//! schema), the leases and host budgets, and the first methods of the
//! public API with the same names and shapes as [`crate::store::Store`]'s
//! ([`PgStore::sync_sources`], [`PgStore::source_states`],
//! [`PgStore::next_due`], [`PgStore::ping`], [`PgStore::counts`]). The rest
//! of that API, and the seam that picks a backend from `[storage]`, come
//! next. A process that serves from the database learns of the others'
//! commits by `LISTEN` ([`listen_for_changes`], `store::postgres::notify`).
//!
//! The driver is rust-postgres's blocking [`postgres::Client`], so this
//! store's methods are synchronous like the SQLite store's and the two can
//! sit behind one set of signatures. It connects without TLS
//! ([`postgres::NoTls`]): for now the database is expected on the same
//! host or a private network; a `sslmode=require` in the URL fails to
//! connect rather than silently going unencrypted.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use postgres::config::Host;
use postgres::{Client, Config, NoTls};

use super::{SourceState, StoreCounts, parse_ts, ts};
use crate::config::Source;

mod accounts;
mod dedup;
mod desk;
mod issues;
mod items;
mod job_lock;
mod learning;
mod leases;
mod notify;
mod repairs;
mod schema;
mod shared;
mod stories;

pub use job_lock::{PgJobLock, acquire as acquire_job_lock};
pub use leases::{HostTurn, Lease};
pub use notify::listen_for_changes;
use schema::MIGRATIONS;

/// What can go wrong talking to PostgreSQL.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// Never echoes the URL: it may hold a password.
    #[error("the PostgreSQL URL is not valid: {}", chain(.0))]
    Url(#[source] postgres::Error),
    #[error("PostgreSQL {target}: cannot connect: {}", chain(.source))]
    Connect {
        target: String,
        source: postgres::Error,
    },
    #[error("PostgreSQL: {}", chain(.0))]
    Sql(#[from] postgres::Error),
    #[error(
        "PostgreSQL {target} has schema version {found}, newer than this kuaibao ({supported}); upgrade kuaibao"
    )]
    TooNew {
        target: String,
        found: i64,
        supported: i64,
    },
    #[error("{what} is too far in the future to be stored")]
    TimeOutOfRange { what: &'static str },
    /// A value the store wrote in one form only, found in another (a row
    /// edited by hand): reported rather than guessed at.
    #[error("PostgreSQL {what} {value:?} cannot be read")]
    Unreadable { what: &'static str, value: String },
}

/// An error and its causes on one line: the driver's own message is only
/// its kind ("db error"), the server's words are in its source.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

/// Runs `f`, which talks to PostgreSQL, where the blocking driver may run.
///
/// The driver (`postgres`) blocks on a runtime of its own, and tokio
/// refuses to start one on a thread that is driving async tasks: the
/// pollers and web handlers call the store from such threads. There the
/// work is moved off the async workers with `block_in_place`, as any
/// blocking call should be; elsewhere (cron commands, blocking threads) it
/// runs as is. kuaibao's runtimes are all multi-threaded: a
/// current-thread runtime has no thread to lend, and the driver's own
/// message says so.
pub(crate) fn outside_runtime<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// Key of the advisory lock that serialises migrations: two processes
/// starting at once against a new database must not both create the
/// tables. ("kuaibao" in ASCII.)
const MIGRATION_LOCK: i64 = 0x006b_7561_6962_616f;

pub struct PgStore {
    /// Behind a mutex because the driver needs `&mut` for every statement,
    /// reads included, while the SQLite store reads through `&self`: the
    /// two backends keep one set of signatures.
    /// `None` only while being dropped.
    client: Mutex<Option<Client>>,
    /// `user@host:port/dbname`, for messages (no password).
    target: String,
    /// The editors' model as last read or saved (`store::postgres::learning`).
    model_cache: learning::ModelCache,
}

/// The connection, locked for one method's statements.
struct Db<'a>(MutexGuard<'a, Option<Client>>);

impl std::ops::Deref for Db<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.0
            .as_ref()
            .expect("the connection is open until the store is dropped")
    }
}

impl std::ops::DerefMut for Db<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.0
            .as_mut()
            .expect("the connection is open until the store is dropped")
    }
}

/// Closing the connection blocks on the driver's runtime too.
impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(client) = self
            .client
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            outside_runtime(|| drop(client));
        }
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/dbname`,
    /// or libpq's `key=value` form; `host=/dir` or a `%2F`-encoded host for a
    /// Unix socket) and brings its schema up to date. A database whose
    /// schema is newer than this build is refused.
    pub fn connect(url: &str) -> Result<PgStore, PgError> {
        crate::store::postgres::outside_runtime(|| -> Result<PgStore, PgError> {
            let mut config: Config = url.parse().map_err(PgError::Url)?;
            if config.get_application_name().is_none() {
                // What `pg_stat_activity` shows an operator.
                config.application_name("kuaibao");
            }
            if config.get_connect_timeout().is_none() {
                config.connect_timeout(Duration::from_secs(10));
            }
            let target = describe(&config);
            let mut client = config.connect(NoTls).map_err(|source| PgError::Connect {
                target: target.clone(),
                source,
            })?;
            migrate(&mut client, &target)?;
            Ok(PgStore {
                client: Mutex::new(Some(client)),
                target,
                model_cache: learning::ModelCache::default(),
            })
        })
    }

    /// The connection and the target's name, for `store::migrate`, which
    /// copies with COPY in a transaction of its own rather than through
    /// this store's methods.
    pub(in crate::store) fn into_parts(mut self) -> (Client, String) {
        let client = self
            .client
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .expect("the connection is open until the store is dropped");
        (client, std::mem::take(&mut self.target))
    }

    /// The database, as messages name it (no password).
    pub fn target(&self) -> &str {
        &self.target
    }

    fn db(&self) -> Db<'_> {
        // A panic elsewhere while this was held leaves the client usable:
        // an open transaction rolls back when its guard is dropped.
        Db(self.client.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The connection, for work that holds `&mut self`.
    fn client_mut(&mut self) -> &mut Client {
        self.client
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
            .expect("the connection is open until the store is dropped")
    }

    /// The schema version this database is at (how many of this build's
    /// migrations, or a later build's, it has run).
    pub fn schema_version(&self) -> Result<i64, PgError> {
        crate::store::postgres::outside_runtime(|| -> Result<i64, PgError> {
            recorded_version(&mut self.db())
        })
    }

    /// The newest schema version this build knows.
    pub fn supported_version() -> i64 {
        MIGRATIONS.len() as i64
    }

    /// Answers when the database does.
    pub fn ping(&self) -> Result<(), PgError> {
        crate::store::postgres::outside_runtime(|| -> Result<(), PgError> {
            self.db().batch_execute("SELECT 1")?;
            Ok(())
        })
    }

    /// Records the configured sources (name, URL, kind may have changed).
    pub fn sync_sources(&mut self, sources: &[Source]) -> Result<(), PgError> {
        crate::store::postgres::outside_runtime(|| -> Result<(), PgError> {
            let client = self.client_mut();
            let mut tx = client.transaction()?;
            let stmt = tx.prepare(
                "INSERT INTO sources (id, name, url, kind) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, url = excluded.url, kind = excluded.kind",
            )?;
            for s in sources {
                tx.execute(&stmt, &[&s.id, &s.name, &s.url.as_str(), &s.kind.as_str()])?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Each source's health, in the order of `ids` (a source never synced
    /// is all defaults).
    pub fn source_states(&self, ids: &[&str]) -> Result<Vec<SourceState>, PgError> {
        crate::store::postgres::outside_runtime(|| -> Result<Vec<SourceState>, PgError> {
            let mut db = self.db();
            let stmt = db.prepare(
                "SELECT id, name, url, kind, last_attempt_at, last_success_at, last_error,
                        consecutive_failures, last_item_count, next_due_at,
                        (SELECT COUNT(DISTINCT item_id) FROM item_links l WHERE l.source_id = s.id),
                        last_limits, limited_passes
                 FROM sources s WHERE id = $1",
            )?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let state = match db.query_opt(&stmt, &[id])? {
                    Some(r) => SourceState {
                        id: r.try_get(0)?,
                        name: r.try_get(1)?,
                        url: r.try_get(2)?,
                        kind: r.try_get(3)?,
                        last_attempt_at: r.try_get(4)?,
                        last_success_at: r.try_get(5)?,
                        last_error: r.try_get(6)?,
                        consecutive_failures: r.try_get(7)?,
                        last_item_count: r.try_get(8)?,
                        next_due_at: r.try_get(9)?,
                        items: r.try_get(10)?,
                        last_limits: r.try_get(11)?,
                        limited_passes: r.try_get(12)?,
                    },
                    None => SourceState {
                        id: id.to_string(),
                        ..SourceState::default()
                    },
                };
                out.push(state);
            }
            Ok(out)
        })
    }

    /// When the source is next due, if it was ever polled.
    pub fn next_due(&self, source_id: &str) -> Result<Option<DateTime<FixedOffset>>, PgError> {
        crate::store::postgres::outside_runtime(
            || -> Result<Option<DateTime<FixedOffset>>, PgError> {
                let row = self.db().query_opt(
                    "SELECT next_due_at FROM sources WHERE id = $1",
                    &[&source_id],
                )?;
                let due: Option<String> = match row {
                    Some(r) => r.try_get(0)?,
                    None => None,
                };
                Ok(due.as_deref().and_then(parse_ts))
            },
        )
    }

    /// How much is stored: items, the outlet pages they were seen on,
    /// stories, fingerprinted items.
    pub fn counts(&self) -> Result<StoreCounts, PgError> {
        crate::store::postgres::outside_runtime(|| -> Result<StoreCounts, PgError> {
            let r = self.db().query_one(
                "SELECT (SELECT COUNT(*) FROM items), (SELECT COUNT(*) FROM item_links),
                        (SELECT COUNT(*) FROM stories), (SELECT COUNT(*) FROM item_fingerprints)",
                &[],
            )?;
            Ok(StoreCounts {
                items: r.try_get(0)?,
                pages: r.try_get(1)?,
                stories: r.try_get(2)?,
                fingerprints: r.try_get(3)?,
            })
        })
    }
}

/// `user@host:port/dbname` (several hosts joined by commas), without the
/// password, for messages and logs.
fn describe(config: &Config) -> String {
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let host = match host {
                Host::Tcp(name) => name.clone(),
                Host::Unix(dir) => dir.display().to_string(),
            };
            // One port for all hosts, one per host, or the default.
            match ports.get(i).or(ports.first()) {
                Some(port) => format!("{host}:{port}"),
                None => host,
            }
        })
        .collect();
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let db = config.get_dbname().unwrap_or_default();
    format!("{user}{}/{db}", hosts.join(","))
}

fn recorded_version(client: &mut Client) -> Result<i64, PgError> {
    let row = client.query_one(
        "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0
                     ELSE (SELECT COALESCE(MAX(version), 0) FROM schema_migrations) END",
        &[],
    )?;
    Ok(row.try_get(0)?)
}

/// Runs the migrations this database has not, each recorded in
/// `schema_migrations`, all in one transaction (PostgreSQL's DDL is
/// transactional: a failed migration leaves the database as it was).
/// Returns the version the database is at.
fn migrate(client: &mut Client, target: &str) -> Result<i64, PgError> {
    let supported = MIGRATIONS.len() as i64;
    let mut tx = client.transaction()?;
    // Held to the end of the transaction; a second process waits here and
    // then finds the work done.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    // Created only when missing: `CREATE TABLE IF NOT EXISTS` would still
    // need the CREATE privilege, which a web node's role may lack.
    let exists: bool = tx
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])?
        .try_get(0)?;
    if !exists {
        tx.batch_execute(
            "CREATE TABLE schema_migrations (
                 version    BIGINT PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )?;
    }
    let found: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )?
        .try_get(0)?;
    if found > supported {
        return Err(PgError::TooNew {
            target: target.to_string(),
            found,
            supported,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&(i as i64 + 1)],
        )?;
    }
    tx.commit()?;
    Ok(supported.max(found))
}

/// `now + d`, or an error when that is past what can be stored.
fn later(
    now: DateTime<chrono::Utc>,
    d: Duration,
    what: &'static str,
) -> Result<DateTime<chrono::Utc>, PgError> {
    // PostgreSQL keeps microseconds and the driver drops the rest, so the
    // time is rounded up: stored rounded down, a host's next turn came up
    // to 999 ns early and two pollers' requests could start 49.99998 ms
    // apart under a 50 ms budget.
    let sub_micro = i64::from(now.timestamp_subsec_nanos() % 1_000);
    let up = if sub_micro == 0 { 0 } else { 1_000 - sub_micro };
    chrono::TimeDelta::from_std(d)
        .ok()
        .and_then(|d| now.checked_add_signed(d + chrono::TimeDelta::nanoseconds(up)))
        .ok_or(PgError::TimeOutOfRange { what })
}

/// The stored form of a time in the tables shared with SQLite.
fn stored_ts(t: DateTime<chrono::Utc>) -> String {
    ts(t)
}

// PgStore implements every part of the store: it is a whole backend.
const _: fn() = || {
    fn backend<T: super::Backend>() {}
    backend::<PgStore>();
};

#[cfg(test)]
mod tests {
    use super::later;
    use chrono::{TimeZone, Utc};
    use std::time::Duration;

    #[test]
    fn a_later_time_is_never_earlier_than_asked_once_cut_to_microseconds() {
        let now = Utc
            .timestamp_opt(1_800_000_000, 1_565_139)
            .single()
            .unwrap();
        let next = later(now, Duration::from_millis(50), "t").unwrap();
        assert_eq!(next.timestamp_subsec_nanos() % 1_000, 0);
        assert!(next - now >= chrono::TimeDelta::milliseconds(50));
        assert!(
            next - now < chrono::TimeDelta::milliseconds(50) + chrono::TimeDelta::microseconds(1)
        );
        let whole = Utc
            .timestamp_opt(1_800_000_000, 1_565_000)
            .single()
            .unwrap();
        let next = later(whole, Duration::from_millis(50), "t").unwrap();
        assert_eq!(next - whole, chrono::TimeDelta::milliseconds(50));
    }
}

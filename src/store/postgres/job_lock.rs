//! Run locks on a shared database, part of the store layer (PostgreSQL
//! backend): its one job is what `crate::lock` does beside a SQLite file,
//! for processes on many machines. `kuaibao poll` from cron and
//! `kuaibao publish` take a session-level advisory lock on a connection of
//! their own; PostgreSQL drops it when that connection ends, so a holder
//! killed with -9 never leaves a stale lock. Daemons that poll with leases
//! hold the poll lock shared: they exclude a cron `poll`, not each other.

use std::time::{Duration, Instant};

use postgres::{Client, Config, NoTls};

use super::{describe, outside_runtime};
use crate::lock::{Job, LockError};

/// Held while the job runs: the connection holding the advisory lock.
pub struct PgJobLock {
    /// `None` only while being dropped.
    client: Option<Client>,
    /// The database, as messages name it (no password).
    pub target: String,
}

impl std::fmt::Debug for PgJobLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgJobLock")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// Ending the session (which frees the lock) blocks on the driver's
/// runtime, so it is done off the async workers like every statement.
impl Drop for PgJobLock {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            outside_runtime(|| drop(client));
        }
    }
}

/// The advisory lock key of `job`: "kuai" in ASCII, then the job, apart
/// from the migrations' key.
fn key(job: Job) -> i64 {
    let n = match job {
        Job::Poll => 1,
        Job::Publish => 2,
    };
    0x6b75_6169_0000_0000 + n
}

/// Takes `job`'s lock in the database at `url`, waiting up to `wait` for
/// another holder (`Duration::ZERO`: do not wait). A `shared` lock is held
/// by any number of processes at once and excludes only the exclusive one:
/// daemons polling with leases share it, a cron `poll` takes it alone.
pub fn acquire(url: &str, job: Job, wait: Duration, shared: bool) -> Result<PgJobLock, LockError> {
    outside_runtime(|| acquire_blocking(url, job, wait, shared))
}

fn acquire_blocking(
    url: &str,
    job: Job,
    wait: Duration,
    shared: bool,
) -> Result<PgJobLock, LockError> {
    let mut config: Config = url.parse().map_err(|e| LockError::Database {
        database: "PostgreSQL".into(),
        source: Box::new(e),
    })?;
    config.application_name(&format!("kuaibao {} lock", job.name()));
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    let target = describe(&config);
    let failed = |e: postgres::Error| LockError::Database {
        database: target.clone(),
        source: Box::new(e),
    };
    let mut client = config.connect(NoTls).map_err(failed)?;
    let deadline = Instant::now() + wait;
    loop {
        let held: bool = client
            .query_one(
                if shared {
                    "SELECT pg_try_advisory_lock_shared($1)"
                } else {
                    "SELECT pg_try_advisory_lock($1)"
                },
                &[&key(job)],
            )
            .and_then(|row| row.try_get(0))
            .map_err(failed)?;
        if held {
            return Ok(PgJobLock {
                client: Some(client),
                target,
            });
        }
        if Instant::now() >= deadline {
            return Err(LockError::BusyShared {
                job,
                database: target,
            });
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

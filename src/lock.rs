//! Run locks, layer 1 (shared helpers): keep two processes from doing one
//! job on one database.
//!
//! Cron may start `kuaibao poll` while the previous run, or the daemon, is
//! still polling. SQLite alone would keep the database sound, but two
//! pollers would fetch every source twice and race on what is new. An
//! advisory lock (flock) on a file beside the database makes the second run
//! wait or give up with a clear message; the kernel drops it when the
//! holder exits, even on kill -9, so a crash never leaves a stale lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The jobs that must not run twice at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Polling sources (`kuaibao poll`, and `kuaibao serve` for its life).
    Poll,
    /// Writing the published files (`kuaibao publish`).
    Publish,
}

impl Job {
    /// `poll` or `publish`.
    pub fn name(self) -> &'static str {
        match self {
            Job::Poll => "poll",
            Job::Publish => "publish",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another kuaibao is already {doing} with {database} (lock {lock}); try again later{hint}",
        doing = doing(*job), database = database.display(), lock = lock.display(),
        hint = if *job == Job::Poll { ", or pass --wait" } else { "" }
    )]
    Busy {
        job: Job,
        database: PathBuf,
        lock: PathBuf,
    },
    /// The job's lock in a database many machines share (PostgreSQL) is
    /// held by another process.
    #[error(
        "another kuaibao is already {doing} with {database} (its advisory lock there); try again later{hint}",
        doing = doing(*job),
        hint = if *job == Job::Poll { ", or pass --wait" } else { "" }
    )]
    BusyShared { job: Job, database: String },
    #[error("cannot take the run lock in {database}: {source}")]
    Database {
        database: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("cannot use the lock file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn doing(job: Job) -> &'static str {
    match job {
        Job::Poll => "polling",
        Job::Publish => "publishing",
    }
}

/// Held while the job runs; released on drop or process exit.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    pub path: PathBuf,
}

/// The lock file of `job` for the database at `database`.
pub fn lock_path(database: &Path, job: Job) -> PathBuf {
    let mut name = database
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".{}.lock", job.name()));
    database.with_file_name(name)
}

/// Takes the lock of `job`, waiting up to `wait` for another holder to
/// finish (`Duration::ZERO`: do not wait).
pub fn acquire(database: &Path, job: Job, wait: Duration) -> Result<RunLock, LockError> {
    let path = lock_path(database, job);
    let io = |source| LockError::Io {
        path: path.clone(),
        source,
    };
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    let deadline = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(RunLock { _file: file, path }),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Busy {
                    job,
                    database: database.to_path_buf(),
                    lock: path,
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("k.db");
        let first = acquire(&db, Job::Poll, Duration::ZERO).expect("first");
        let err = acquire(&db, Job::Poll, Duration::from_millis(250)).expect_err("busy");
        assert!(err.to_string().contains("already polling"), "{err}");
        assert!(
            acquire(&db, Job::Publish, Duration::ZERO).is_ok(),
            "other jobs are independent"
        );
        drop(first);
        assert!(acquire(&db, Job::Poll, Duration::ZERO).is_ok());
    }

    #[test]
    fn lock_files_sit_beside_the_database() {
        assert_eq!(
            lock_path(Path::new("/srv/k/kuaibao.db"), Job::Poll),
            Path::new("/srv/k/kuaibao.db.poll.lock")
        );
    }
}

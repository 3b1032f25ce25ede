//! A real PostgreSQL server for the tests of the PostgreSQL store, started
//! by the tests themselves: `initdb` and `pg_ctl` from Debian's
//! `postgresql` package, in a temporary directory, as the test user — no
//! system service, nothing left behind.
//!
//! One server per test binary (starting one costs about a second), a fresh
//! database per test (`CREATE DATABASE`, a few milliseconds), so tests run
//! in parallel without seeing each other's rows. The server listens only
//! on a Unix socket inside its temporary directory: no port to collide
//! with another run. It is stopped when the test binary exits (an `atexit`
//! hook drops the last reference; [`PgServer`]'s `Drop` stops it), since a
//! Rust static is never dropped on its own.
//!
//! PostgreSQL refuses to run as root, and CI runs as root: then the server
//! runs as the `postgres` user the package creates (or `nobody`), and the
//! tests, still root, connect through the socket with trust
//! authentication.
//!
//! Without the binaries a test prints `SKIPPED <test>: …` and passes, the
//! way the other tests that need an outside program do; under `CI`, where
//! `.ci/run` installs the package, it fails instead.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};

const INSTALL: &str = "install Debian's postgresql package (apt-get install postgresql) \
                       for initdb and pg_ctl";

/// The directory with `initdb`, `pg_ctl` and `postgres`: on `PATH`, or in
/// Debian's versioned `/usr/lib/postgresql/N/bin` (newest first), which is
/// not on `PATH`.
fn find_bin_dir() -> Option<PathBuf> {
    let has_all = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_all(&dir) {
                // A symlink into /usr/lib/postgresql/N/bin (as
                // /usr/local/bin/initdb may be) works from where it is:
                // pg_ctl finds `postgres` beside its own real path.
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| has_all(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// A running server in a temporary directory.
pub struct PgServer {
    /// Holds the data directory and the socket; removed after the server
    /// stopped.
    dir: Option<tempfile::TempDir>,
    bin: PathBuf,
    /// Who the server runs as when the tests run as root.
    run_as: Option<(u32, u32)>,
    next_db: AtomicUsize,
}

/// A database of its own for one test.
pub struct TestDb {
    pub url: String,
    pub name: String,
    /// Keeps the server up while the test runs.
    server: Arc<PgServer>,
}

/// The database goes with the test: one server holds every test's
/// databases, and left in place they came to over a gigabyte of disk.
/// `FORCE` ends the connections still open (a child process's, a pool's);
/// a failure only leaves the database for the directory's removal.
impl Drop for TestDb {
    fn drop(&mut self) {
        // Not `admin()`, which panics: a panic while a failed test
        // unwinds would abort the whole binary. On a thread of its own:
        // the synchronous client cannot run inside an async test's
        // runtime.
        let url = self.server.url("postgres");
        let drop = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        let _ = std::thread::spawn(move || {
            if let Ok(mut admin) = Client::connect(&url, NoTls) {
                let _ = admin.batch_execute(&drop);
            }
        })
        .join();
    }
}

impl TestDb {
    /// The server's postmaster, whose CPU times (with its reaped
    /// backends') are the database's share in the scaling benchmark.
    #[allow(dead_code)] // only benches/scaling.rs, which includes this file, asks
    pub fn server_pid(&self) -> Option<libc::pid_t> {
        self.server.pid()
    }
}

static SERVER: Mutex<Option<Arc<PgServer>>> = Mutex::new(None);

extern "C" fn stop_at_exit() {
    let server = SERVER.lock().unwrap_or_else(PoisonError::into_inner).take();
    drop(server);
}

impl PgServer {
    fn data(&self) -> PathBuf {
        self.dir().join("data")
    }

    fn dir(&self) -> &Path {
        self.dir
            .as_ref()
            .map(|d| d.path())
            .expect("dir kept until drop")
    }

    /// The server's socket directory as a URL host (`%2F` for `/`).
    fn url(&self, db: &str) -> String {
        let host = self.dir().display().to_string().replace('/', "%2F");
        format!("postgres://postgres@{host}/{db}")
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(program));
        if let Some((uid, gid)) = self.run_as {
            use std::os::unix::process::CommandExt;
            cmd.uid(uid).gid(gid);
        }
        // The server must not inherit a locale that is not installed, nor
        // a port or data directory meant for another server; the working
        // directory may be one the unprivileged user cannot enter.
        cmd.env("LC_ALL", "C.UTF-8")
            .env_remove("PGDATA")
            .env_remove("PGPORT")
            .env_remove("PGHOST")
            .current_dir(self.dir());
        cmd
    }

    fn start() -> PgServer {
        let bin = find_bin_dir().expect("checked by the caller");
        let dir = tempfile::Builder::new()
            .prefix("kuaibao-pg")
            .tempdir()
            .expect("temporary directory");
        // SAFETY: geteuid has no preconditions.
        let run_as = (unsafe { libc::geteuid() } == 0).then(unprivileged_user);
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown");
        }
        let server = PgServer {
            dir: Some(dir),
            bin,
            run_as,
            next_db: AtomicUsize::new(0),
        };
        let data = server.data();
        let out = server
            .command("initdb")
            .arg("--pgdata")
            .arg(&data)
            .args(["--username=postgres", "--auth=trust", "--encoding=UTF8"])
            // A UTF-8 ctype: pg_trgm finds the trigrams of Chinese text
            // only under one (see src/store/postgres/schema.rs).
            .args(["--locale=C.UTF-8", "--no-sync", "--no-instructions"])
            .stdin(Stdio::null())
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let socket_dir = server.dir().display().to_string();
        // Durability off: the data is thrown away with the directory. The
        // write-ahead log is kept small (by default it may reach 1 GB
        // before a checkpoint recycles it): every CREATE DATABASE writes
        // its template's pages into it.
        let options = format!(
            "-c listen_addresses='' -c unix_socket_directories='{socket_dir}' \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
             -c max_wal_size=96MB -c min_wal_size=32MB \
             -c max_connections=200{}",
            // What each statement costs, for the scaling benchmark.
            if std::env::var_os("KUAIBAO_PG_STATEMENTS").is_some() {
                " -c shared_preload_libraries=pg_stat_statements"
            } else {
                ""
            }
        );
        let log = server.dir().join("server.log");
        let out = server
            .command("pg_ctl")
            .arg("--pgdata")
            .arg(&data)
            .arg("--log")
            .arg(&log)
            .args(["--wait", "--timeout=60", "--options", &options, "start"])
            .stdin(Stdio::null())
            .output()
            .expect("run pg_ctl");
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        server
    }

    fn admin(&self) -> Client {
        Client::connect(&self.url("postgres"), NoTls).expect("connect to the test server")
    }

    fn create_database(self: &Arc<Self>, test: &str) -> TestDb {
        let n = self.next_db.fetch_add(1, Ordering::Relaxed);
        let safe: String = test
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        let name = format!("t{n}_{safe}");
        self.admin()
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .expect("create database");
        TestDb {
            url: self.url(&name),
            name,
            server: Arc::clone(self),
        }
    }

    /// The postmaster's pid, from the first line of `postmaster.pid`.
    fn pid(&self) -> Option<libc::pid_t> {
        let text = std::fs::read_to_string(self.data().join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        // A signal rather than `pg_ctl stop`: no process to start (and to
        // start as another user) while the test binary exits. SIGQUIT is
        // the immediate shutdown: nothing here needs to be kept.
        if let Some(pid) = self.pid() {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(pid, libc::SIGQUIT) };
            let deadline = Instant::now() + Duration::from_secs(10);
            // SAFETY: as above; signal 0 only asks whether it still runs.
            while unsafe { libc::kill(pid, 0) } == 0 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}

/// The `postgres` user Debian's package creates, else `nobody`.
fn unprivileged_user() -> (u32, u32) {
    for name in [c"postgres", c"nobody"] {
        // SAFETY: a valid C string; the record is read at once, before any
        // other call could reuse getpwnam's static buffer (the harness
        // starts its server under a mutex).
        let pw = unsafe { libc::getpwnam(name.as_ptr()) };
        if !pw.is_null() {
            // SAFETY: non-null, as checked.
            let pw = unsafe { &*pw };
            return (pw.pw_uid, pw.pw_gid);
        }
    }
    panic!(
        "running as root and there is neither a postgres nor a nobody user to run the server as"
    );
}

/// A fresh database on the test binary's server, or `None` (after saying
/// the test skipped) when PostgreSQL is not installed — except under `CI`,
/// where that fails.
pub fn database(test: &str) -> Option<TestDb> {
    let server = {
        let mut shared = SERVER.lock().unwrap_or_else(PoisonError::into_inner);
        match &*shared {
            Some(server) => Arc::clone(server),
            None => {
                if find_bin_dir().is_none() {
                    assert!(
                        std::env::var_os("CI").is_none(),
                        "{test}: PostgreSQL is missing under CI ({INSTALL}; .ci/run installs it)"
                    );
                    eprintln!("SKIPPED {test}: {INSTALL}");
                    return None;
                }
                let server = Arc::new(PgServer::start());
                // SAFETY: registers a plain function with no arguments.
                unsafe { libc::atexit(stop_at_exit) };
                *shared = Some(Arc::clone(&server));
                server
            }
        }
    };
    Some(server.create_database(test))
}

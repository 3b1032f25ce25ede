//! `kuaibao serve` as a child process, and what watches it: its stderr
//! (kept as a tail, and scanned for the lines a dying process prints), its
//! memory from `/proc/<pid>/status`, and a reader that asks for a feed and
//! `/healthz` every 250 ms and records every request that did not succeed.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The binary under test: `KUAIBAO_HOSTILE_BIN` when set (to measure
/// another build), else this crate's.
pub fn binary() -> PathBuf {
    std::env::var_os("KUAIBAO_HOSTILE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_kuaibao")))
}

#[derive(Default)]
struct Log {
    tail: VecDeque<String>,
    /// Lines that say why a process died (panics, stack overflow, aborts).
    alarms: Vec<String>,
}

const TAIL: usize = 40;

pub struct Daemon {
    child: Child,
    pub base: String,
    pub started: Instant,
    log: Arc<Mutex<Log>>,
    /// When the process was first seen gone, and how it ended.
    exit: Option<(Duration, ExitStatus)>,
}

impl Daemon {
    pub fn start(config: &Path) -> Daemon {
        let started = Instant::now();
        let mut child = Command::new(binary())
            .arg("--config")
            .arg(config)
            .args(["-v", "serve", "--listen", "127.0.0.1:0"])
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kuaibao serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let mut before = Vec::new();
        let base = loop {
            let Some(Ok(line)) = lines.next() else {
                panic!(
                    "kuaibao serve ended before announcing its address:\n{}",
                    before.join("\n")
                );
            };
            if let Some(at) = line.find("http://") {
                break line[at..]
                    .split_whitespace()
                    .next()
                    .expect("url")
                    .to_string();
            }
            before.push(line);
        };
        let log = Arc::new(Mutex::new(Log::default()));
        let sink = log.clone();
        // Drained to the end so the daemon never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut log = sink.lock().expect("log");
                let lower = line.to_lowercase();
                if [
                    "panicked",
                    "overflow",
                    "fatal",
                    "abort",
                    "memory allocation",
                ]
                .iter()
                .any(|w| lower.contains(w))
                    && log.alarms.len() < 10
                {
                    log.alarms.push(line.clone());
                }
                if log.tail.len() == TAIL {
                    log.tail.pop_front();
                }
                log.tail.push_back(line);
            }
        });
        Daemon {
            child,
            base,
            started,
            log,
            exit: None,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path.trim_start_matches('/'))
    }

    /// When and how the process ended, if it has.
    pub fn exited(&mut self) -> Option<(Duration, ExitStatus)> {
        if self.exit.is_none()
            && let Ok(Some(status)) = self.child.try_wait()
        {
            self.exit = Some((self.started.elapsed(), status));
        }
        self.exit
    }

    /// SIGTERM, then SIGKILL after `grace`; how it ended, in words.
    pub fn stop(&mut self, grace: Duration) -> String {
        if let Some((_, status)) = self.exited() {
            return describe_exit(status);
        }
        // SAFETY: kill(2) on our own child's pid, which is not yet reaped.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let asked = Instant::now();
        while asked.elapsed() < grace {
            if let Ok(Some(status)) = self.child.try_wait() {
                return format!(
                    "{} after {:.1}s",
                    describe_exit(status),
                    asked.elapsed().as_secs_f64()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        format!("still running {}s after SIGTERM; killed", grace.as_secs())
    }

    pub fn alarms(&self) -> Vec<String> {
        self.log.lock().expect("log").alarms.clone()
    }

    pub fn tail(&self) -> Vec<String> {
        self.log.lock().expect("log").tail.iter().cloned().collect()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a process ended, in words: exit code or signal.
pub fn describe_exit(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(sig)) => {
            let name = match sig {
                libc::SIGSEGV => "SIGSEGV",
                libc::SIGABRT => "SIGABRT",
                libc::SIGKILL => "SIGKILL",
                libc::SIGBUS => "SIGBUS",
                libc::SIGTERM => "SIGTERM",
                _ => "signal",
            };
            format!("{name} ({sig})")
        }
        _ => "unknown".to_string(),
    }
}

/// Peak memory of the daemon: sampled every 100 ms from
/// `/proc/<pid>/status` (VmHWM is the kernel's own high-water mark, so a
/// spike between samples still counts).
///
/// Not `ru_maxrss`: a child's count starts from its parent's RSS when it
/// was spawned (the kernel keeps the higher-water mark of the address
/// space exec replaced), and the parent here is the whole test binary.
pub struct Memory {
    stop: Arc<AtomicBool>,
    /// KiB: the highest VmHWM seen (never below any VmRSS before it).
    seen: Arc<Mutex<u64>>,
}

impl Memory {
    pub fn watch(pid: u32) -> Memory {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(0));
        let (stop2, seen2) = (stop.clone(), seen.clone());
        std::thread::spawn(move || {
            let path = format!("/proc/{pid}/status");
            while !stop2.load(Ordering::Relaxed) {
                let Ok(text) = std::fs::read_to_string(&path) else {
                    break;
                };
                let hwm = text
                    .lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
                // A zombie has no Vm* lines any more: keep what was seen.
                if let Some(hwm) = hwm {
                    let mut seen = seen2.lock().expect("memory");
                    *seen = (*seen).max(hwm);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Memory { stop, seen }
    }

    /// Peak RSS in MiB, once the child is reaped.
    pub fn peak_mib(&self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        *self.seen.lock().expect("memory") as f64 / 1024.0
    }
}

/// What the feed reader saw.
#[derive(Default)]
pub struct ProbeReport {
    pub requests: usize,
    pub failed: usize,
    /// The first few failures: when (seconds since daemon start), what, why.
    pub failures: Vec<String>,
    pub slowest: Duration,
    pub slowest_path: String,
}

/// How long after start a 503 before the first 200 is forgiven.
const WARM_UP: Duration = Duration::from_secs(10);

/// Asks for `paths` in turn every 250 ms; a request fails unless it is
/// answered 200 with its whole body within `timeout`.
pub struct Probe {
    stop: Arc<AtomicBool>,
    report: Arc<Mutex<ProbeReport>>,
    task: tokio::task::JoinHandle<()>,
}

impl Probe {
    pub fn start(
        rt: &tokio::runtime::Runtime,
        daemon: &Daemon,
        paths: &[&str],
        timeout: Duration,
    ) -> Probe {
        let stop = Arc::new(AtomicBool::new(false));
        let report = Arc::new(Mutex::new(ProbeReport::default()));
        let urls: Vec<(String, String)> = paths
            .iter()
            .map(|p| (p.to_string(), daemon.url(p)))
            .collect();
        let (stop2, report2, started) = (stop.clone(), report.clone(), daemon.started);
        let task = rt.spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .expect("client");
            let mut ready = std::collections::HashSet::new();
            while !stop2.load(Ordering::Relaxed) {
                for (path, url) in &urls {
                    let asked = Instant::now();
                    let outcome = match client.get(url).send().await {
                        Ok(resp) if resp.status() == 200 => {
                            resp.bytes().await.map(|_| ()).map_err(|e| e.to_string())
                        }
                        Ok(resp) => Err(format!("HTTP {}", resp.status())),
                        Err(e) => Err(error_chain(&e)),
                    };
                    let took = asked.elapsed();
                    // Until the first render the daemon answers 503 with
                    // Retry-After: starting up, not failing (for at most
                    // WARM_UP, so a render that never comes still counts).
                    let warming = !ready.contains(path) && started.elapsed() < WARM_UP;
                    if outcome.is_ok() {
                        ready.insert(path.clone());
                    }
                    if warming
                        && outcome
                            .as_ref()
                            .is_err_and(|e| e == "HTTP 503 Service Unavailable")
                    {
                        continue;
                    }
                    let mut r = report2.lock().expect("probe");
                    r.requests += 1;
                    if took > r.slowest {
                        r.slowest = took;
                        r.slowest_path = path.clone();
                    }
                    if let Err(e) = outcome {
                        r.failed += 1;
                        if r.failures.len() < 5 {
                            let at = started.elapsed().as_secs_f64();
                            r.failures.push(format!("{at:.1}s {path}: {e}"));
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        });
        Probe { stop, report, task }
    }

    pub fn finish(self, rt: &tokio::runtime::Runtime) -> ProbeReport {
        self.stop.store(true, Ordering::Relaxed);
        let _ = rt.block_on(self.task);
        std::mem::take(&mut *self.report.lock().expect("probe"))
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

//! The daemon's resident memory over time, measured on the real binary.
//!
//! `cargo bench --bench daemon_memory [-- --seconds 600 --sources 200]`
//! serves N synthetic outlets (see `support`) whose lists keep publishing
//! (5 new items per source every minute), starts `kuaibao serve` on them
//! with a 1-minute interval (adaptation off, so every source is polled
//! every minute), requests the feeds while it runs, and samples the
//! daemon's VmRSS every 30 s. It prints the samples, the items stored and
//! the growth between the second minute and the end: flat means no leak.
//! `KUAIBAO_BENCH_BIN=path` runs another kuaibao binary.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn vm_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: u64| support::arg(&args, name, default);
    let seconds = arg("--seconds", 600);
    let n_sources = arg("--sources", 200) as usize;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sources = rt.block_on(support::start(
        n_sources,
        20,
        Some(Duration::from_secs(60)),
        5,
        "1m",
    ));

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("sources.toml"), sources).expect("write sources");
    std::fs::write(
        dir.path().join("kuaibao.toml"),
        "sources = \"sources.toml\"\n[poll]\nallow_private = true\n[schedule]\nadaptive = false\nmin_interval = \"1m\"\n\
         [review]\nmode = \"auto\"\n[server]\nlisten = \"127.0.0.1:0\"\nstatus_public = true\n",
    )
    .expect("write config");
    let mut child = Command::new(support::kuaibao_bin())
        .arg("--config")
        .arg(dir.path().join("kuaibao.toml"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kuaibao serve");
    let pid = child.id();
    let stderr = child.stderr.take().expect("stderr");
    let base = {
        use std::io::{BufRead, BufReader};
        let mut lines = BufReader::new(stderr).lines();
        let base = loop {
            let line = lines
                .next()
                .expect("serve announces its address")
                .expect("line");
            if let Some(at) = line.find("http://") {
                break line[at..]
                    .split_whitespace()
                    .next()
                    .expect("url")
                    .to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        base
    };
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut samples = Vec::new();
    while started.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(
            Duration::from_secs(30)
                .min(Duration::from_secs(seconds).saturating_sub(started.elapsed())),
        );
        for feed in [
            "feeds/all.xml",
            "feeds/regional.xml",
            "feeds/all.json",
            "metrics",
        ] {
            let _ = rt.block_on(client.get(format!("{base}{feed}")).send());
        }
        let rss = vm_rss_kib(pid).unwrap_or(0);
        println!(
            "{:>5} s  VmRSS {:>6.1} MiB",
            started.elapsed().as_secs(),
            rss as f64 / 1024.0
        );
        samples.push(rss);
    }
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let status = child.wait().expect("wait");
    let conn = rusqlite::Connection::open(dir.path().join("kuaibao.db")).expect("db");
    let items: i64 = conn
        .query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0))
        .expect("count");
    let fetches: i64 = conn
        .query_row("SELECT COUNT(*) FROM fetch_log", [], |r| r.get(0))
        .expect("count");
    let peak = samples.iter().max().copied().unwrap_or(0);
    let after_warmup = samples.get(3).copied().unwrap_or(0);
    let last = samples.last().copied().unwrap_or(0);
    println!(
        "{n_sources} sources, {seconds} s: {items} items stored, {fetches} list fetches; VmRSS peak {:.1} MiB, at 2 min {:.1} MiB, at the end {:.1} MiB; exit {status}",
        peak as f64 / 1024.0,
        after_warmup as f64 / 1024.0,
        last as f64 / 1024.0
    );
}

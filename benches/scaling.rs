//! How polling scales over processes on one PostgreSQL database (issue
//! 15), beside one SQLite process.
//!
//! `cargo bench --bench scaling [-- --sources N --pollers 1,2,4]` serves N
//! synthetic sources (default 10,000: RSS feeds of two full-text items,
//! 25 to a loopback address, so 400 hosts) from this process, then for each
//! poller count starts that many `kuaibao serve --role poller` processes on
//! a fresh database of a PostgreSQL server it starts itself (as the tests
//! do), and measures until every source has been polled once:
//!
//! - sources per second (wall);
//! - CPU per source of the pollers (their user + system time, after they
//!   stop);
//! - the database's share: the server's CPU time (postmaster and its
//!   reaped backends) over all CPU time spent.
//!
//! The SQLite line is one `kuaibao poll --force` over the same sources.
//! Without PostgreSQL only that line is printed. `KUAIBAO_BENCH_BIN=path`
//! runs another kuaibao binary.

mod support;

#[path = "../tests/support/pg_server.rs"]
#[allow(dead_code)]
mod pg_server;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;

const PER_HOST: usize = 25;

/// The feed of source `i`: two items of ~600 characters.
fn feed(i: usize) -> String {
    let mut rss = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel><title>s</title><link>http://example.org/</link><description>d</description>",
    );
    for n in 0..2 {
        let body = support::synthetic_text((i * 10 + n) as u64, 600);
        rss.push_str(&format!(
            "<item><title>第{i}省人社厅第{n}条 就业政策</title><link>http://example.org/{i}/{n}.html</link><guid>s{i}-{n}</guid><pubDate>Tue, 10 Jun 2025 08:{n:02}:00 +0800</pubDate><content:encoded><![CDATA[<p>{body}</p>]]></content:encoded></item>"
        ));
    }
    rss.push_str("</channel></rss>");
    rss
}

/// Serves sources `first..first + PER_HOST` on loopback address `host`;
/// returns their `[[source]]` tables.
async fn serve_host(host: usize, first: usize, count: usize) -> String {
    let ip = [127, 0, 2 + (host / 250) as u8, (host % 250 + 1) as u8];
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((ip, 0)))
        .await
        .expect("bind a loopback address");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().fallback(move |req: Request<Body>| async move {
        let i = req
            .uri()
            .path()
            .strip_prefix("/s")
            .and_then(|p| p.strip_suffix("/feed.xml"))
            .and_then(|n| n.parse::<usize>().ok());
        support::reply(i.map(|i| ("application/rss+xml", feed(i))))
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (first..first + count)
        .map(|i| {
            format!(
                "[[source]]\nid = \"s{i}\"\nname = \"第{i}省人社厅\"\nurl = \"http://{addr}/s{i}/feed.xml\"\nkind = \"feed\"\ninterval = \"6h\"\n\n"
            )
        })
        .collect()
}

/// CPU seconds (user + system, own and reaped children's) of `pid`.
fn cpu_of(pid: i32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // utime, stime, cutime, cstime: fields 14–17 of stat, 12–15 here.
    let ticks: f64 = f.get(11..15).map_or(0.0, |t| t.iter().sum());
    // SAFETY: sysconf only reads a constant.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// User + system CPU seconds of this process's reaped children so far.
fn children_cpu() -> f64 {
    support::cpu_ms(support::Who::Children) / 1000.0
}

fn config(dir: &Path, storage: &str) -> std::path::PathBuf {
    let path = dir.join("kuaibao.toml");
    std::fs::write(
        &path,
        format!(
            "sources = \"sources.toml\"\n[storage]\n{storage}\n[poll]\nallow_private = true\nconcurrency = 32\nper_host = 2\ntimeout = \"20s\"\n[schedule]\nadaptive = false\njitter = 0.0\n"
        ),
    )
    .expect("write config");
    path
}

struct Line {
    label: String,
    wall: f64,
    sources: usize,
    kuaibao_cpu: f64,
    db_cpu: f64,
}

impl Line {
    fn print(&self) {
        let total = self.kuaibao_cpu + self.db_cpu;
        println!(
            "{:<22} {:>8.1} s {:>10.0} {:>12.2} {:>12.2} {:>9.0} %",
            self.label,
            self.wall,
            self.sources as f64 / self.wall,
            self.kuaibao_cpu * 1000.0 / self.sources as f64,
            total * 1000.0 / self.sources as f64,
            if total > 0.0 {
                self.db_cpu * 100.0 / total
            } else {
                0.0
            },
        );
    }
}

fn polled_pg(url: &str) -> i64 {
    let Ok(mut db) = postgres::Client::connect(url, postgres::NoTls) else {
        return 0;
    };
    db.query_one(
        "SELECT count(*) FROM sources WHERE last_attempt_at IS NOT NULL",
        &[],
    )
    .map(|r| r.get(0))
    .unwrap_or(0)
}

/// The statements that took the database's time, with
/// `KUAIBAO_PG_STATEMENTS=1` (pg_stat_statements).
fn print_statements(url: &str) {
    let Ok(mut db) = postgres::Client::connect(url, postgres::NoTls) else {
        return;
    };
    let _ = db.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    let Ok(rows) = db.query(
        "SELECT round(total_exec_time)::bigint, calls, left(regexp_replace(query, '\\s+', ' ', 'g'), 110)
         FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 12",
        &[],
    ) else {
        return;
    };
    for r in rows {
        let (ms, calls, q): (i64, i64, String) = (r.get(0), r.get(1), r.get(2));
        println!("  {ms:>7} ms {calls:>7} calls  {q}");
    }
}

fn run_pollers(bin: &str, sources: &str, n: usize, pollers: usize) -> Option<Line> {
    let db = pg_server::database(&format!("scaling_{pollers}"))?;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("sources.toml"), sources).expect("sources");
    let url = db.url.replace('\\', "\\\\").replace('"', "\\\"");
    let config = config(dir.path(), &format!("url = \"{url}\""));
    // The schema first, so the pollers start on equal terms.
    drop(kuaibao::store::Store::open_configured(
        &kuaibao::config::Config::load(&config)
            .expect("config")
            .storage,
    ));
    let pid = db.server_pid().expect("postmaster pid");
    let db_before = cpu_of(pid);
    let cpu_before = children_cpu();
    let started = Instant::now();
    let mut children: Vec<Child> = (0..pollers)
        .map(|_| {
            Command::new(bin)
                .arg("--config")
                .arg(&config)
                .args(["serve", "--role", "poller", "--listen", "127.0.0.1:0"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn poller")
        })
        .collect();
    loop {
        std::thread::sleep(Duration::from_millis(250));
        if polled_pg(&db.url) >= n as i64 {
            break;
        }
        if started.elapsed() > Duration::from_secs(1800) {
            eprintln!("{pollers} pollers: not done in 30 min");
            break;
        }
    }
    let wall = started.elapsed().as_secs_f64();
    if std::env::var_os("KUAIBAO_PG_STATEMENTS").is_some() {
        print_statements(&db.url);
    }
    for c in &children {
        // SAFETY: signals a child we started.
        unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
    }
    for c in &mut children {
        let _ = c.wait();
    }
    // The backends of the stopped pollers are reaped by now.
    std::thread::sleep(Duration::from_millis(300));
    Some(Line {
        label: format!(
            "PostgreSQL, {pollers} poller{}",
            if pollers == 1 { "" } else { "s" }
        ),
        wall,
        sources: n,
        kuaibao_cpu: children_cpu() - cpu_before,
        db_cpu: cpu_of(pid) - db_before,
    })
}

fn run_sqlite(bin: &str, sources: &str, n: usize) -> Line {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("sources.toml"), sources).expect("sources");
    let config = config(dir.path(), "database = \"kuaibao.db\"");
    let cpu_before = children_cpu();
    let started = Instant::now();
    let out = Command::new(bin)
        .arg("--config")
        .arg(&config)
        .args(["poll", "--force", "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run poll");
    assert!(
        out.status.success(),
        "poll failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wall = started.elapsed().as_secs_f64();
    Line {
        label: "SQLite, 1 process".into(),
        wall,
        sources: n,
        // SQLite runs inside the poller: its share is in the process's.
        kuaibao_cpu: children_cpu() - cpu_before,
        db_cpu: 0.0,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let n: usize = arg("--sources")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let pollers: Vec<usize> = arg("--pollers")
        .unwrap_or_else(|| "1,2,4".into())
        .split(',')
        .filter_map(|p| p.trim().parse().ok())
        .collect();
    let bin = support::kuaibao_bin();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sources: String = rt.block_on(async {
        let mut all = String::new();
        let hosts = n.div_ceil(PER_HOST);
        for h in 0..hosts {
            let first = h * PER_HOST;
            all.push_str(&serve_host(h, first, PER_HOST.min(n - first)).await);
        }
        all
    });
    println!(
        "{n} sources (RSS, 2 full-text items each, {PER_HOST} per host); first poll of every source\n"
    );
    println!(
        "{:<22} {:>10} {:>10} {:>12} {:>12} {:>10}",
        "", "wall", "sources/s", "CPU-ms/src", "+db CPU-ms", "db share"
    );
    run_sqlite(&bin, &sources, n).print();
    for p in pollers {
        match run_pollers(&bin, &sources, n, p) {
            Some(line) => line.print(),
            None => {
                println!("PostgreSQL: skipped (install postgresql for initdb and pg_ctl)");
                break;
            }
        }
    }
}

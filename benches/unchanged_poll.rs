//! CPU time of re-reading an unchanged list in a running poller (issue 15):
//! the per-source work the scheduler runs ([`Poller::poll_source`]) on a
//! source whose list has not changed since the last pass, two ways:
//!
//! - **same body**: the outlet sends no validators, so every poll gets the
//!   full list back (200) and finds every item already stored;
//! - **304**: the outlet sends an ETag and answers the poller's
//!   If-None-Match with 304 Not Modified.
//!
//! The outlets (HTML lists of `--items` articles, default 20, from
//! `support`) run in a child process, so this process's CPU time
//! (getrusage RUSAGE_SELF) is the poller's alone: fetch, extract, the
//! store's look-ups and writes, SQLite. Each case polls once to store the
//! items, once more to settle, then `--polls` times (default 2,000),
//! measured.
//!
//! `cargo bench --bench unchanged_poll -- [--polls N] [--items M]`

mod support;

/// Measured with the allocator of the `kuaibao` binary (src/main.rs).
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use kuaibao::config::Config;
use kuaibao::fetch::Fetcher;
use kuaibao::poll::{PollStatus, Poller};
use kuaibao::store::Store;

fn cpu_ms_self() -> f64 {
    support::cpu_ms(support::Who::Self_)
}

/// The child: serves a plain outlet and one with validators, prints their
/// `[[source]]` tables and a line `END`, then serves until its stdin closes.
fn serve_outlets(items: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut out = String::new();
        for (index, validators) in [(0, false), (2, true)] {
            let mut outlet = support::Outlet::new(index, items, None, 0);
            outlet.validators = validators;
            let outlet = Arc::new(outlet);
            let addr = support::serve(outlet.clone()).await;
            out.push_str(&outlet.source_toml(addr, "30m"));
        }
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{out}END").expect("stdout");
        stdout.flush().expect("flush");
    });
    // The parent closes our stdin when it is done (or dies).
    let _ = std::io::stdin().read_line(&mut String::new());
    rt.shutdown_background();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: usize| support::arg(&args, name, default);
    let items = arg("--items", 20);
    if args.iter().any(|a| a == "--serve-outlets") {
        serve_outlets(items);
        return;
    }
    let polls = arg("--polls", 2_000);

    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .args(["--serve-outlets", "--items", &items.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the outlets");
    let mut sources = String::new();
    let mut lines = BufReader::new(child.stdout.take().expect("child stdout"));
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).expect("read the outlets") == 0 || line.trim() == "END" {
            break;
        }
        sources.push_str(&line);
    }

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("sources.toml"), &sources).expect("write sources");
    let main = dir.path().join("kuaibao.toml");
    std::fs::write(
        &main,
        "sources = \"sources.toml\"\n[poll]\nallow_private = true\n[review]\nmode = \"auto\"\n",
    )
    .expect("write config");
    let config = Arc::new(Config::load(&main).expect("config"));
    let mut store = Store::open(&config.storage.database).expect("store");
    store.sync_sources(&config.sources).expect("sources");
    let store = Arc::new(Mutex::new(store));
    let fetcher = Arc::new(Fetcher::new(&config.poll).expect("fetcher"));
    let poller = Poller::new(config.clone(), fetcher, store);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");

    println!("unchanged list of {items} items, {polls} polls each:");
    for (source, case, expected) in [
        (&config.sources[0], "200, same body", PollStatus::Ok),
        (&config.sources[1], "304", PollStatus::NotModified),
    ] {
        rt.block_on(async {
            // The first pass stores the items; the second is the first
            // unchanged one (validators and counts settle).
            for _ in 0..2 {
                let r = poller.poll_source(source).await;
                assert!(
                    matches!(r.status, PollStatus::Ok | PollStatus::NotModified),
                    "{case}: {r:?}"
                );
            }
            let (cpu, wall) = (cpu_ms_self(), Instant::now());
            for _ in 0..polls {
                let r = poller.poll_source(source).await;
                assert_eq!(r.status, expected, "{case}: {r:?}");
                assert_eq!(r.new, 0, "{case}: {r:?}");
            }
            let cpu = cpu_ms_self() - cpu;
            let wall = wall.elapsed().as_secs_f64() * 1000.0;
            println!(
                "  {case:<15} {:.3} CPU-ms per poll ({:.3} ms wall)",
                cpu / polls as f64,
                wall / polls as f64
            );
        });
    }
    drop(child.stdin.take());
    let _ = child.wait();
}

//! Poll + publish wall time and peak memory, measured on the real binary.
//!
//! `cargo bench --bench pipeline` serves outlets in this process on
//! 127.0.0.x and runs `kuaibao poll --force` then `kuaibao publish` as child
//! processes against them, reporting wall time and the children's peak
//! resident memory (getrusage RUSAGE_CHILDREN). Two workloads:
//!
//! - the demo outlets (the articles of the sample bulletin);
//! - N synthetic sources (default 200) of M items each (default 20), from
//!   `support` (half HTML lists with article pages, half full-text RSS, each
//!   on its own loopback address).
//!
//! Options: `--sources N --items M`; `--html-only` makes every synthetic
//! source an HTML list (issue 15's workload: N × (M + 1) requests);
//! `--skip-demo` skips the demo outlets; `--concurrency N` sets
//! `poll.concurrency` (default the configuration's); `KUAIBAO_BENCH_BIN=path` runs another
//! kuaibao binary (an older build, for a before/after on one machine).

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

struct Measured {
    wall_ms: u128,
    /// User + system CPU time of the child.
    cpu_ms: u128,
    /// CPU time of this process meanwhile: the outlets it serves, which
    /// share the machine's cores with the child.
    server_cpu_ms: u128,
    items: String,
}

fn children_cpu_ms() -> u128 {
    support::cpu_ms(support::Who::Children) as u128
}

fn run(bin: &str, config: &Path, args: &[&str]) -> Measured {
    let cpu_before = children_cpu_ms();
    let server_before = support::cpu_ms(support::Who::Self_) as u128;
    let started = Instant::now();
    let out = Command::new(bin)
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("run kuaibao");
    let wall_ms = started.elapsed().as_millis();
    assert!(
        out.status.success(),
        "kuaibao {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let items = stdout.lines().last().unwrap_or_default().to_string();
    Measured {
        wall_ms,
        cpu_ms: children_cpu_ms() - cpu_before,
        server_cpu_ms: support::cpu_ms(support::Who::Self_) as u128 - server_before,
        items,
    }
}

fn peak_rss_kib_of_children() -> i64 {
    support::peak_rss_kib(support::Who::Children)
}

fn workload(name: &str, sources: &str, concurrency: Option<usize>) {
    let bin = support::kuaibao_bin();
    let bin = bin.as_str();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("sources.toml"), sources).expect("write sources");
    std::fs::write(
        dir.path().join("kuaibao.toml"),
        format!(
            "sources = \"sources.toml\"\n[poll]\nallow_private = true\n{}[review]\nmode = \"auto\"\n",
            concurrency.map_or(String::new(), |n| format!("concurrency = {n}\n"))
        ),
    )
    .expect("write config");
    let config = dir.path().join("kuaibao.toml");
    let out = dir.path().join("public");
    let out_arg = out.to_string_lossy().to_string();
    let started = Instant::now();
    let poll = run(bin, &config, &["poll", "--force"]);
    let publish = run(bin, &config, &["publish", "--out", &out_arg]);
    let total = started.elapsed().as_millis();
    println!(
        "{name}: poll {} ms ({} CPU-ms; the outlets served {} CPU-ms meanwhile), publish {} ms ({} CPU-ms), total {} ms; peak RSS of any child so far {:.1} MiB\n  poll: {}\n  publish: {}",
        poll.wall_ms,
        poll.cpu_ms,
        poll.server_cpu_ms,
        publish.wall_ms,
        publish.cpu_ms,
        total,
        peak_rss_kib_of_children() as f64 / 1024.0,
        poll.items,
        publish.items
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: usize| support::arg(&args, name, default);
    let n_sources = arg("--sources", 200);
    let n_items = arg("--items", 20);
    let flag = |name: &str| args.iter().any(|a| a == name);
    let html_only = flag("--html-only");
    let concurrency = args
        .iter()
        .any(|a| a == "--concurrency")
        .then(|| arg("--concurrency", 8));
    let rt = tokio::runtime::Runtime::new().expect("runtime");

    if !flag("--skip-demo") {
        let outlets = rt
            .block_on(kuaibao::demo::start_outlets(SocketAddr::from((
                [127, 0, 0, 1],
                0,
            ))))
            .expect("demo outlets");
        workload("demo outlets", &outlets.sources_toml(), concurrency);
    }

    let sources = if html_only {
        rt.block_on(support::start_html(n_sources, n_items, "30m"))
    } else {
        rt.block_on(support::start(n_sources, n_items, None, 0, "30m"))
    };
    let kind = if html_only { " HTML-list" } else { "" };
    workload(
        &format!("{n_sources} synthetic{kind} sources × {n_items} items"),
        &sources,
        concurrency,
    );
}

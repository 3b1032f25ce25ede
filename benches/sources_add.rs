//! `kuaibao sources add` on loopback: the wall time of inferring a source
//! from its address, article fetches included, for every template of the
//! outlet corpus (tests/fixtures/outlets/), served in-process.
//!
//! ```text
//! cargo bench --bench sources_add              # 5 rounds per template
//! cargo bench --bench sources_add -- --rounds 20
//! ```
//!
//! Reported per template: requests made, and the median and worst wall
//! time of `onboard::propose` (list or feed or JSON found, up to 10 article
//! pages fetched and read, `[source.article]` inferred, the preview read
//! through the real extractors). The target is under 2 s.

#[path = "../tests/common/outlets.rs"]
#[allow(dead_code)]
mod outlets;

use std::time::{Duration, Instant};

use kuaibao::config::{Config, Poll};
use kuaibao::fetch::Fetcher;
use kuaibao::onboard::{self, AddRequest};

fn main() {
    let rounds: usize = std::env::args()
        .skip_while(|a| a != "--rounds")
        .nth(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(run(rounds));
}

async fn run(rounds: usize) {
    let poll = Poll {
        allow_private: true,
        ..Poll::default()
    };
    let sections = Config::load(std::path::Path::new("config/kuaibao.toml"))
        .map(|c| c.sections)
        .unwrap_or_default();
    let fetcher = Fetcher::new(&poll).expect("fetcher");
    println!(
        "{:<22} {:>8} {:>10} {:>10}",
        "template", "requests", "median ms", "worst ms"
    );
    let mut worst_of_all = Duration::ZERO;
    let mut medians = Vec::new();
    for outlet in outlets::corpus() {
        let base = outlet.serve().await;
        let request = AddRequest {
            url: Some(
                format!("{base}{}", outlet.expect.address)
                    .parse()
                    .expect("url"),
            ),
            ..AddRequest::default()
        };
        let mut times = Vec::new();
        let mut requests = 0;
        for _ in 0..rounds {
            let started = Instant::now();
            let proposal = onboard::propose(&fetcher, &poll, &sections, &[], &request)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", outlet.name));
            times.push(started.elapsed());
            requests = proposal.requests;
        }
        times.sort();
        let median = times[times.len() / 2];
        let worst = times[times.len() - 1];
        worst_of_all = worst_of_all.max(worst);
        medians.push(median);
        println!(
            "{:<22} {:>8} {:>10.1} {:>10.1}",
            outlet.name,
            requests,
            median.as_secs_f64() * 1000.0,
            worst.as_secs_f64() * 1000.0
        );
    }
    medians.sort();
    println!(
        "\nmedian of medians {:.1} ms, worst single run {:.1} ms (target: under 2,000 ms)",
        medians[medians.len() / 2].as_secs_f64() * 1000.0,
        worst_of_all.as_secs_f64() * 1000.0
    );
}

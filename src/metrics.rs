//! Metrics, layer 1 (shared helpers): the counters of `kuaibao serve`. The
//! scheduler (its polls of fetch → extract → normalize → dedup → classify →
//! store) and the HTTP server report here, and `/metrics` exposes it all in
//! the Prometheus text format 0.0.4.
//!
//! | metric | type | labels | meaning |
//! |---|---|---|---|
//! | `kuaibao_fetches_total` | counter | `source`, `outcome` (`ok`, `not-modified`, `partial`, `failed`) | fetches of a source's list page |
//! | `kuaibao_fetch_duration_seconds` | histogram | `source` | how long one fetch took, body included |
//! | `kuaibao_items_ingested_total` | counter | `source` | new items stored |
//! | `kuaibao_poll_limited_total` | counter | `source` | passes in which a `[poll]` budget bit |
//! | `kuaibao_source_repairs_total` | counter | `source`, `outcome` (`applied`, `proposed`, `failed`, `not-a-list`) | passes in which a source's selectors broke, by what heal made of it |
//! | `kuaibao_scheduler_due_sources` | gauge | — | sources due now, not yet started |
//! | `kuaibao_scheduler_waiting_sources` | gauge | — | sources waiting for their next turn |
//! | `kuaibao_scheduler_in_flight_sources` | gauge | — | sources this process is polling now |
//! | `kuaibao_leases_held` | gauge | — | PostgreSQL: sources any poller holds a lease on |
//! | `kuaibao_leases_expired` | gauge | — | PostgreSQL: leases past their expiry not yet taken over (a poller died) |
//! | `kuaibao_shared_due_sources` | gauge | — | PostgreSQL: sources due that no poller holds — the shared queue |
//! | `kuaibao_items` | gauge | `status` (`candidate`, `maybe`, `approved`, `rejected`) | items in the store |
//! | `kuaibao_feed_requests_total` | counter | `feed` (document path under `feeds/`, `index`, `opml`, `unknown`), `status` (HTTP code) | requests for served documents |
//! | `kuaibao_http_connections` | gauge | — | HTTP connections being served (at most `server.max_connections`) |
//! | `kuaibao_websub_pings_total` | counter | `outcome` (`ok`, `rejected`, `refused`, `failed`) | WebSub hub pings: answered 2xx, answered otherwise, refused by the address guard, unreachable |
//!
//! Label values come from configuration (source ids) or from a fixed set,
//! never from request input, so a scanner cannot blow up the series count.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::model::Status;

/// The statuses editors work with, reported even when no item has them:
/// waiting for an editor (candidate, 待定) or decided.
pub const EDITORS_STATUSES: [Status; 4] = [
    Status::Candidate,
    Status::Maybe,
    Status::Approved,
    Status::Rejected,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FetchLabels {
    source: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeedLabels {
    feed: String,
    status: u16,
}

type HistogramFamily = Family<SourceLabels, Histogram, fn() -> Histogram>;

fn fetch_histogram() -> Histogram {
    // 50 ms … 25.6 s: government sites range from instant to very slow.
    Histogram::new(exponential_buckets(0.05, 2.0, 10))
}

/// Every metric of the process; shared (`Arc<Metrics>`) by the scheduler
/// and the HTTP server.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    fetches: Family<FetchLabels, Counter>,
    fetch_duration: HistogramFamily,
    items_ingested: Family<SourceLabels, Counter>,
    poll_limited: Family<SourceLabels, Counter>,
    source_repairs: Family<FetchLabels, Counter>,
    queue_due: Gauge,
    queue_waiting: Gauge,
    queue_in_flight: Gauge,
    leases_held: Gauge,
    leases_expired: Gauge,
    shared_due: Gauge,
    items: Family<StatusLabels, Gauge>,
    feed_requests: Family<FeedLabels, Counter>,
    http_connections: Gauge,
    websub_pings: Family<OutcomeLabels, Counter>,
}

/// Counts one open HTTP connection for as long as it lives.
#[derive(Debug)]
pub struct OpenConnection(Gauge);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let fetches = Family::<FetchLabels, Counter>::default();
        let fetch_duration: HistogramFamily = Family::new_with_constructor(fetch_histogram);
        let items_ingested = Family::<SourceLabels, Counter>::default();
        let poll_limited = Family::<SourceLabels, Counter>::default();
        let source_repairs = Family::<FetchLabels, Counter>::default();
        let queue_due = Gauge::default();
        let queue_waiting = Gauge::default();
        let queue_in_flight = Gauge::default();
        let leases_held = Gauge::default();
        let leases_expired = Gauge::default();
        let shared_due = Gauge::default();
        let items = Family::<StatusLabels, Gauge>::default();
        let feed_requests = Family::<FeedLabels, Counter>::default();
        let http_connections = Gauge::default();
        let websub_pings = Family::<OutcomeLabels, Counter>::default();
        // Counters are registered without `_total`: the library appends it.
        registry.register(
            "kuaibao_fetches",
            "Fetches of source list pages by outcome",
            fetches.clone(),
        );
        registry.register(
            "kuaibao_fetch_duration_seconds",
            "Duration of one fetch of a source, body included",
            fetch_duration.clone(),
        );
        registry.register(
            "kuaibao_items_ingested",
            "New items stored per source",
            items_ingested.clone(),
        );
        registry.register(
            "kuaibao_poll_limited",
            "Passes in which a [poll] budget bit, per source",
            poll_limited.clone(),
        );
        registry.register(
            "kuaibao_source_repairs",
            "Passes in which a source's selectors broke, by repair outcome",
            source_repairs.clone(),
        );
        registry.register(
            "kuaibao_scheduler_due_sources",
            "Sources due now and not yet started",
            queue_due.clone(),
        );
        registry.register(
            "kuaibao_scheduler_waiting_sources",
            "Sources waiting for their next turn",
            queue_waiting.clone(),
        );
        registry.register(
            "kuaibao_scheduler_in_flight_sources",
            "Sources this process is polling now",
            queue_in_flight.clone(),
        );
        registry.register(
            "kuaibao_leases_held",
            "Sources a poller holds a lease on (PostgreSQL)",
            leases_held.clone(),
        );
        registry.register(
            "kuaibao_leases_expired",
            "Leases past their expiry not yet taken over (PostgreSQL)",
            leases_expired.clone(),
        );
        registry.register(
            "kuaibao_shared_due_sources",
            "Sources due that no poller holds (PostgreSQL)",
            shared_due.clone(),
        );
        registry.register(
            "kuaibao_items",
            "Items in the store by review status",
            items.clone(),
        );
        registry.register(
            "kuaibao_feed_requests",
            "Requests for served documents by HTTP status",
            feed_requests.clone(),
        );
        registry.register(
            "kuaibao_http_connections",
            "HTTP connections being served",
            http_connections.clone(),
        );
        registry.register(
            "kuaibao_websub_pings",
            "WebSub hub pings by outcome",
            websub_pings.clone(),
        );
        Metrics {
            registry,
            fetches,
            fetch_duration,
            items_ingested,
            poll_limited,
            source_repairs,
            queue_due,
            queue_waiting,
            queue_in_flight,
            leases_held,
            leases_expired,
            shared_due,
            items,
            feed_requests,
            http_connections,
            websub_pings,
        }
    }

    /// One more open HTTP connection, until the guard is dropped.
    pub fn http_connection(&self) -> OpenConnection {
        self.http_connections.inc();
        OpenConnection(self.http_connections.clone())
    }

    /// One WebSub hub ping: `outcome` is `ok`, `rejected`, `refused` or
    /// `failed`.
    pub fn websub_ping(&self, outcome: &'static str) {
        self.websub_pings
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// One fetch of `source`: `outcome` is `ok`, `not-modified`, `partial`
    /// or `failed`.
    pub fn fetch(&self, source: &str, outcome: &str, duration: Duration) {
        self.fetches
            .get_or_create(&FetchLabels {
                source: source.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
        self.fetch_duration
            .get_or_create(&SourceLabels {
                source: source.to_string(),
            })
            .observe(duration.as_secs_f64());
    }

    /// `n` new items stored from `source`.
    pub fn items_ingested(&self, source: &str, n: u64) {
        self.items_ingested
            .get_or_create(&SourceLabels {
                source: source.to_string(),
            })
            .inc_by(n);
    }

    /// A pass of `source` in which a `[poll]` budget bit.
    pub fn poll_limited(&self, source: &str) {
        self.poll_limited
            .get_or_create(&SourceLabels {
                source: source.to_string(),
            })
            .inc();
    }

    /// A pass of `source` in which its selectors broke; `outcome` is the
    /// report's `repair_outcome` (`applied`, `proposed`, `failed`,
    /// `not-a-list`).
    pub fn source_repair(&self, source: &str, outcome: &str) {
        self.source_repairs
            .get_or_create(&FetchLabels {
                source: source.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
    }

    pub fn set_scheduler_queue(&self, due: i64, waiting: i64) {
        self.queue_due.set(due);
        self.queue_waiting.set(waiting);
    }

    pub fn set_in_flight(&self, in_flight: i64) {
        self.queue_in_flight.set(in_flight);
    }

    /// The leases of a database pollers share.
    pub fn set_leases(&self, held: i64, expired: i64, due: i64) {
        self.leases_held.set(held);
        self.leases_expired.set(expired);
        self.shared_due.set(due);
    }

    /// One request for a served document.
    pub fn feed_request(&self, feed: &str, status: u16) {
        self.feed_request_counter(feed, status).inc();
    }

    /// The counter [`Metrics::feed_request`] increments, for callers that
    /// resolve it once and count many requests without a label lookup (the
    /// feed cache keeps one per document).
    pub fn feed_request_counter(&self, feed: &str, status: u16) -> Counter {
        self.feed_requests.get_or_create_owned(&FeedLabels {
            feed: feed.to_string(),
            status,
        })
    }

    /// Items in the store per status; the statuses editors work with
    /// (candidate and 待定 waiting for them, approved, rejected) are always
    /// reported, 0 when missing.
    pub fn set_items_by_status(&self, counts: &[(Status, i64)]) {
        for status in EDITORS_STATUSES {
            let n = counts
                .iter()
                .find(|(s, _)| *s == status)
                .map_or(0, |(_, n)| *n);
            self.items
                .get_or_create(&StatusLabels {
                    status: status.as_str(),
                })
                .set(n);
        }
    }

    /// Everything, in the Prometheus text format 0.0.4.
    pub fn render(&self) -> String {
        let mut open_metrics = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut open_metrics, &self.registry);
        to_prometheus_text(&open_metrics)
    }
}

/// The library writes OpenMetrics text. Prometheus' 0.0.4 format differs in
/// two ways that matter: a counter's HELP/TYPE lines name the sample
/// (`x_total`, not `x`), and there is no `# EOF` line.
fn to_prometheus_text(open_metrics: &str) -> String {
    let counters: Vec<&str> = open_metrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(open_metrics.len() + 64);
    for line in open_metrics.lines() {
        if line == "# EOF" {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(&name)
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        match renamed {
            Some(l) => out.push_str(&l),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

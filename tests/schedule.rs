//! Specifications of the daemon's scheduler and of the fetcher's per-host
//! politeness, against outlets served on 127.0.0.1.
//!
//! The daemon tests run under paused tokio time: hours pass in
//! milliseconds, and every timestamp they compare is tokio time (the
//! fixture records when each request arrived).

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Outlet, Reply, TestConfig};
use kuaibao::config::{Config, EncodingChoice, Poll};
use kuaibao::fetch::{FetchOutcome, Fetcher};
use kuaibao::poll::{PollOptions, PollStatus, SourceReport};
use kuaibao::schedule::{QueueGauge, ScheduleError, Scheduler};
use kuaibao::store::Store;
use tokio::sync::watch;
use tokio::time::Instant;

const SEC: Duration = Duration::from_secs(1);
const MIN: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

// ---- fixtures --------------------------------------------------------------

const EMPTY_RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>空</title><link>http://example.org/</link><description>d</description></channel></rss>"#;

fn empty_feed() -> Reply {
    Reply::new("application/rss+xml", EMPTY_RSS)
}

/// A feed of `n` items, each with its full text, so no page is fetched.
/// A feed of `n` items published in the last hours: an outlet that
/// publishes a lot.
fn busy_feed(n: usize) -> Reply {
    let published = (chrono::Utc::now() - chrono::Duration::hours(2)).to_rfc2822();
    let mut items = String::new();
    for i in 0..n {
        items.push_str(&format!(
            "<item><title>第{i}条就业政策解读</title><link>http://example.org/news/{i}.htm</link>\
             <guid isPermaLink=\"false\">busy-{i}</guid><pubDate>{published}</pubDate>\
             <content:encoded><![CDATA[<p>第{i}条：人力资源社会保障部发布通知，部署做好高校毕业生就业工作，编号{i}。</p>]]></content:encoded></item>"
        ));
    }
    Reply::new(
        "application/rss+xml",
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>忙</title><link>http://example.org/</link><description>d</description>{items}</channel></rss>"#
        ),
    )
}

fn feed_source(id: &str, url: &str, interval: &str) -> String {
    format!(
        "[[source]]\nid = \"{id}\"\nname = \"{id}\"\nurl = \"{url}\"\nkind = \"feed\"\ninterval = \"{interval}\"\n\n"
    )
}

/// `[schedule]` settings, appended to the main file.
fn schedule(adaptive: bool, jitter: f64, more: &str) -> String {
    format!("[schedule]\nadaptive = {adaptive}\njitter = {jitter}\n{more}\n")
}

/// A running scheduler and the handles a test drives it with.
struct Daemon {
    shutdown: watch::Sender<bool>,
    config: watch::Sender<Arc<Config>>,
    run: tokio::task::JoinHandle<Result<(), ScheduleError>>,
    reports: Arc<Mutex<Vec<SourceReport>>>,
    gauge: QueueGauge,
    store: Arc<Mutex<Store>>,
    started: Instant,
}

impl Daemon {
    fn start(tc: &TestConfig, grace: Duration) -> Daemon {
        let config = Arc::new(tc.load());
        let store = Arc::new(Mutex::new(
            Store::open(&config.storage.database).expect("store"),
        ));
        let (config_tx, config_rx) = watch::channel(config);
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let reports: Arc<Mutex<Vec<SourceReport>>> = Arc::default();
        let seen = reports.clone();
        let scheduler = Scheduler::new(config_rx, store.clone())
            .shutdown_grace(grace)
            .on_polled(move |r| seen.lock().expect("lock").push(r.clone()));
        let gauge = scheduler.queue();
        Daemon {
            shutdown: shutdown_tx,
            config: config_tx,
            run: tokio::spawn(scheduler.run(shutdown_rx)),
            reports,
            gauge,
            store,
            started: Instant::now(),
        }
    }

    /// Arrival times of requests for `path`, from the daemon's start.
    fn arrivals(&self, outlet: &Outlet, path: &str) -> Vec<Duration> {
        outlet
            .arrivals(path)
            .into_iter()
            .map(|t| t - self.started)
            .collect()
    }

    fn reports(&self, id: &str) -> Vec<SourceReport> {
        let reports = self.reports.lock().expect("lock");
        reports.iter().filter(|r| r.id == id).cloned().collect()
    }

    /// Asks for shutdown; returns how long `run` took to return.
    async fn stop(self) -> Duration {
        let asked = Instant::now();
        self.shutdown.send(true).expect("scheduler listening");
        self.run
            .await
            .expect("scheduler task")
            .expect("scheduler ran");
        asked.elapsed()
    }
}

fn gaps(times: &[Duration]) -> Vec<Duration> {
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

fn assert_near(actual: Duration, expected: Duration, what: &str) {
    let diff = actual.abs_diff(expected);
    assert!(
        diff <= SEC,
        "{what}: {actual:?}, expected {expected:?} (± 1 s)"
    );
}

// ---- the schedule ----------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_source_is_polled_at_its_interval_within_the_jitter() {
    let outlet = Outlet::start().await;
    outlet.set("/feed.xml", empty_feed());
    let tc = TestConfig::new(
        &feed_source("s", &outlet.url("/feed.xml"), "30m"),
        &schedule(false, 0.1, ""),
    );
    let daemon = Daemon::start(&tc, 10 * SEC);
    tokio::time::sleep(3 * HOUR).await;
    let arrivals = daemon.arrivals(&outlet, "/feed.xml");
    assert!(
        (5..=7).contains(&arrivals.len()),
        "{} polls in 3 h: {arrivals:?}",
        arrivals.len()
    );
    // Overdue at startup: runs within min(interval × jitter, 5 min).
    assert!(
        arrivals[0] <= 3 * MIN + SEC,
        "first poll at {:?}",
        arrivals[0]
    );
    for gap in gaps(&arrivals) {
        assert!(
            gap >= 27 * MIN - SEC && gap <= 33 * MIN + SEC,
            "gap {gap:?} outside 30 min ± 10 %"
        );
    }
    assert!(
        daemon
            .reports("s")
            .iter()
            .all(|r| r.status == PollStatus::Ok)
    );
    daemon.stop().await;
}

#[tokio::test(start_paused = true)]
async fn failures_back_off_exponentially_up_to_backoff_max_and_reset_after_a_success() {
    let outlet = Outlet::start().await;
    outlet.set("/feed.xml", Reply::status(503));
    let tc = TestConfig::new(
        &feed_source("s", &outlet.url("/feed.xml"), "10m"),
        &schedule(false, 0.0, "backoff_max = \"35m\""),
    );
    let daemon = Daemon::start(&tc, 10 * SEC);
    // Polls at 0, 10, 30, 65, 100 min: gaps 1×, 2×, then 4× capped at 35.
    tokio::time::sleep(101 * MIN).await;
    let arrivals = daemon.arrivals(&outlet, "/feed.xml");
    let expected = [10 * MIN, 20 * MIN, 35 * MIN, 35 * MIN];
    assert_eq!(arrivals.len(), 5, "{arrivals:?}");
    for (gap, want) in gaps(&arrivals).into_iter().zip(expected) {
        assert_near(gap, want, "gap after a failure");
    }

    // What `kuaibao status` shows is the scheduler's next attempt.
    let state = daemon
        .store
        .lock()
        .expect("lock")
        .source_states(&["s"])
        .expect("states")
        .remove(0);
    assert_eq!(state.consecutive_failures, 5);
    assert!(
        state.last_error.as_deref().unwrap_or("").contains("503"),
        "{state:?}"
    );
    let attempt = chrono::DateTime::parse_from_rfc3339(&state.last_attempt_at.expect("attempt"))
        .expect("rfc3339");
    let next = chrono::DateTime::parse_from_rfc3339(&state.next_due_at.expect("next due"))
        .expect("rfc3339");
    assert_near(
        (next - attempt).to_std().expect("next after attempt"),
        35 * MIN,
        "stored next_due_at - last_attempt_at",
    );

    // The outlet recovers: polled at 135 min, then the interval again.
    outlet.set("/feed.xml", empty_feed());
    tokio::time::sleep(50 * MIN).await;
    let arrivals = daemon.arrivals(&outlet, "/feed.xml");
    assert_eq!(arrivals.len(), 7, "{arrivals:?}");
    let gaps = gaps(&arrivals);
    assert_near(gaps[4], 35 * MIN, "gap before the success");
    assert_near(gaps[5], 10 * MIN, "gap after the success");
    let statuses: Vec<_> = daemon.reports("s").iter().map(|r| r.status).collect();
    assert_eq!(statuses[4], PollStatus::Failed);
    assert_eq!(statuses[5], PollStatus::Ok);
    daemon.stop().await;
}

#[tokio::test(start_paused = true)]
async fn retry_after_of_two_hours_is_honoured() {
    let outlet = Outlet::start().await;
    let mut busy = Reply::status(503);
    busy.headers.push(("retry-after".into(), "7200".into()));
    outlet.set("/feed.xml", busy);
    let tc = TestConfig::new(
        &feed_source("s", &outlet.url("/feed.xml"), "10m"),
        &schedule(false, 0.1, ""),
    );
    let daemon = Daemon::start(&tc, 10 * SEC);
    tokio::time::sleep(2 * MIN).await;
    assert_eq!(daemon.arrivals(&outlet, "/feed.xml").len(), 1);
    outlet.set("/feed.xml", empty_feed());
    tokio::time::sleep(150 * MIN).await;
    let arrivals = daemon.arrivals(&outlet, "/feed.xml");
    assert!(arrivals.len() >= 2, "{arrivals:?}");
    let wait = arrivals[1] - arrivals[0];
    assert!(
        wait >= 2 * HOUR && wait <= 2 * HOUR + SEC,
        "second request {wait:?} after the 503, asked for 2 h"
    );
    let reports = daemon.reports("s");
    assert_eq!(reports[0].retry_after_secs, Some(7200));
    assert_eq!(reports[1].status, PollStatus::Ok);
    daemon.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_quiet_source_is_polled_less_often_than_a_busy_one_within_the_bounds() {
    let outlet = Outlet::start().await;
    outlet.set("/quiet.xml", empty_feed());
    outlet.set("/busy.xml", busy_feed(50));
    let sources = feed_source("quiet", &outlet.url("/quiet.xml"), "10m")
        + &feed_source("busy", &outlet.url("/busy.xml"), "10m");
    let tc = TestConfig::new(
        &sources,
        &schedule(true, 0.0, "min_interval = \"5m\"\nmax_interval = \"6h\""),
    );
    let daemon = Daemon::start(&tc, 10 * SEC);
    tokio::time::sleep(11 * HOUR).await;
    assert_eq!(daemon.reports("busy")[0].new, 50);
    let quiet = daemon.arrivals(&outlet, "/quiet.xml");
    let busy = daemon.arrivals(&outlet, "/busy.xml");
    assert!(
        busy.len() > quiet.len(),
        "busy polled {} times, quiet {}",
        busy.len(),
        quiet.len()
    );
    // Nothing new for a week: max_interval.
    assert_eq!(quiet.len(), 2, "{quiet:?}");
    assert_near(quiet[1] - quiet[0], 6 * HOUR, "quiet source's interval");
    // 50 items a week: one every 201.6 min, polled every 100.8 min.
    for gap in gaps(&busy) {
        assert_near(gap, Duration::from_secs(6048), "busy source's interval");
    }
    daemon.stop().await;
}

#[tokio::test(start_paused = true)]
async fn many_sources_on_one_host_respect_per_host_one() {
    let outlet = Outlet::start().await;
    let mut sources = String::new();
    for i in 0..6 {
        let path = format!("/s{i}.xml");
        outlet.set(&path, empty_feed().with_delay(Duration::from_millis(50)));
        sources += &feed_source(&format!("s{i}"), &outlet.url(&path), "30m");
    }
    let tc = TestConfig::new(&sources, &schedule(false, 0.0, ""));
    tc.set_poll("per_host", "1");
    tc.set_poll("concurrency", "8");
    let daemon = Daemon::start(&tc, 10 * SEC);
    tokio::time::sleep(MIN).await;
    for i in 0..6 {
        assert_eq!(daemon.arrivals(&outlet, &format!("/s{i}.xml")).len(), 1);
    }
    assert_eq!(outlet.max_in_flight(), 1);
    let q = daemon.gauge.get();
    assert_eq!((q.sources, q.due, q.in_flight, q.waiting), (6, 0, 0, 6));
    daemon.stop().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_the_loop_promptly() {
    let outlet = Outlet::start().await;
    outlet.set("/feed.xml", empty_feed());
    let tc = TestConfig::new(
        &feed_source("s", &outlet.url("/feed.xml"), "30m"),
        &schedule(false, 0.0, ""),
    );
    let daemon = Daemon::start(&tc, 10 * SEC);
    tokio::time::sleep(MIN).await;
    let took = daemon.stop().await;
    assert!(took < SEC, "shutdown took {took:?}");
    tokio::time::sleep(2 * HOUR).await;
    assert_eq!(outlet.arrivals("/feed.xml").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_in_flight_slow_fetch_is_abandoned_after_the_grace_period() {
    let outlet = Outlet::start().await;
    outlet.set("/slow.xml", empty_feed().with_delay(HOUR));
    let tc = TestConfig::new(
        &feed_source("s", &outlet.url("/slow.xml"), "30m"),
        &schedule(false, 0.0, ""),
    );
    tc.set_poll("timeout", "\"2h\"");
    let daemon = Daemon::start(&tc, 10 * SEC);
    tokio::time::sleep(MIN).await;
    assert_eq!(outlet.arrivals("/slow.xml").len(), 1);
    assert_eq!(daemon.gauge.get().in_flight, 1);
    let reports = daemon.reports.clone();
    let took = daemon.stop().await;
    assert!(
        took >= 10 * SEC && took < 11 * SEC,
        "returned {took:?} after shutdown, grace 10 s"
    );
    assert!(
        reports.lock().expect("lock").is_empty(),
        "the abandoned poll reported nothing"
    );
}

#[tokio::test(start_paused = true)]
async fn reload_adds_and_removes_sources_without_resetting_the_others() {
    let outlet = Outlet::start().await;
    for p in ["/a.xml", "/b.xml", "/c.xml"] {
        outlet.set(p, empty_feed());
    }
    let a = feed_source("a", &outlet.url("/a.xml"), "1h");
    let b = feed_source("b", &outlet.url("/b.xml"), "1h");
    let c = feed_source("c", &outlet.url("/c.xml"), "1h");
    let tc = TestConfig::new(&(a.clone() + &c), &schedule(false, 0.0, ""));
    let daemon = Daemon::start(&tc, 10 * SEC);
    tokio::time::sleep(30 * MIN).await;
    assert_eq!(daemon.gauge.get().sources, 2);

    std::fs::write(tc.dir.path().join("sources.toml"), a + &b).expect("write sources");
    daemon
        .config
        .send(Arc::new(tc.load()))
        .expect("scheduler listening");
    tokio::time::sleep(70 * MIN).await;

    let at_a = daemon.arrivals(&outlet, "/a.xml");
    let at_b = daemon.arrivals(&outlet, "/b.xml");
    let at_c = daemon.arrivals(&outlet, "/c.xml");
    // a keeps its schedule: 0 and 60 min, not polled again at the reload.
    assert_eq!(at_a.len(), 2, "{at_a:?}");
    assert_near(at_a[1], HOUR, "a's second poll");
    // b runs at once, then on its interval.
    assert_eq!(at_b.len(), 2, "{at_b:?}");
    assert_near(at_b[0], 30 * MIN, "b's first poll");
    assert_near(at_b[1], 90 * MIN, "b's second poll");
    // c is gone.
    assert_eq!(at_c.len(), 1, "{at_c:?}");
    assert_eq!(daemon.gauge.get().sources, 2);
    daemon.stop().await;
}

// ---- cron uses the same policy ---------------------------------------------

#[tokio::test]
async fn cron_polls_back_off_a_failing_source_too() {
    let outlet = Outlet::start().await;
    outlet.set("/feed.xml", Reply::status(503));
    let tc = TestConfig::new(
        &feed_source("s", &outlet.url("/feed.xml"), "10m"),
        &schedule(false, 0.0, ""),
    );
    let config = Arc::new(tc.load());
    let store = Arc::new(Mutex::new(
        Store::open(&config.storage.database).expect("store"),
    ));
    let forced = PollOptions {
        only: vec![],
        force: true,
    };
    let mut waits = Vec::new();
    for _ in 0..3 {
        kuaibao::app::poll(config.clone(), store.clone(), &forced, |_| {})
            .await
            .expect("poll");
        let state = store
            .lock()
            .expect("lock")
            .source_states(&["s"])
            .expect("states")
            .remove(0);
        let attempt = chrono::DateTime::parse_from_rfc3339(&state.last_attempt_at.expect("a"))
            .expect("rfc3339");
        let next =
            chrono::DateTime::parse_from_rfc3339(&state.next_due_at.expect("n")).expect("rfc3339");
        waits.push((next - attempt).num_seconds());
    }
    assert!(
        waits
            .iter()
            .zip([600, 1200, 2400])
            .all(|(w, e)| (w - e).abs() <= 1),
        "{waits:?}"
    );
}

// ---- politeness: poll.host_delay -------------------------------------------

fn poll_settings(per_host: usize, host_delay: Duration) -> Poll {
    Poll {
        interval: 30 * MIN,
        timeout: 10 * SEC,
        max_body: 1024 * 1024,
        concurrency: 8,
        per_host,
        user_agent: "kuaibao-test/1.0".into(),
        allow_private: true,
        max_redirects: 5,
        host_delay,
        ..Poll::default()
    }
}

async fn request_starts(poll: Poll, outlet: &Outlet, path: &str) -> Vec<Duration> {
    let fetcher = Arc::new(Fetcher::new(&poll).expect("fetcher"));
    let url = url::Url::parse(&outlet.url(path)).expect("url");
    let began = Instant::now();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (fetcher, url) = (fetcher.clone(), url.clone());
            tokio::spawn(async move { fetcher.fetch(&url, EncodingChoice::Auto, None).await })
        })
        .collect();
    for t in tasks {
        assert!(matches!(t.await.expect("task"), Ok(FetchOutcome::Page(_))));
    }
    let mut starts: Vec<Duration> = outlet
        .arrivals(path)
        .into_iter()
        .map(|t| t - began)
        .collect();
    starts.sort();
    starts
}

#[tokio::test(start_paused = true)]
async fn host_delay_spaces_the_starts_of_requests_to_one_host() {
    let outlet = Outlet::start().await;
    outlet.set("/p", Reply::html("<p>ok</p>"));
    for per_host in [1, 4] {
        let before = outlet.arrivals("/p").len();
        let starts = request_starts(
            poll_settings(per_host, Duration::from_millis(200)),
            &outlet,
            "/p",
        )
        .await;
        let starts = &starts[before..];
        assert_eq!(starts.len(), 4);
        for gap in gaps(starts) {
            assert!(
                gap >= Duration::from_millis(200),
                "per_host {per_host}: gap {gap:?} between request starts: {starts:?}"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn without_host_delay_requests_to_one_host_start_together() {
    let outlet = Outlet::start().await;
    outlet.set(
        "/p",
        Reply::html("<p>ok</p>").with_delay(Duration::from_millis(50)),
    );
    let starts = request_starts(poll_settings(4, Duration::ZERO), &outlet, "/p").await;
    assert_eq!(starts.len(), 4);
    assert!(
        starts[3] - starts[0] < Duration::from_millis(50),
        "{starts:?}"
    );
}

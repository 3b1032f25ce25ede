//! Many machines on one PostgreSQL database (issue 15): `serve --role
//! poller` processes share the sources out by leases, so no source is
//! polled by two at once and a poller killed with -9 loses nothing: its
//! sources are polled again once its leases lapse. Each test has a database
//! of its own on a server the tests start (`support::pg_server`); without
//! PostgreSQL they skip, except under `CI`.

use crate::common;
use crate::support;

use std::time::Duration;

use common::daemon::Daemon;
use common::{Outlet, Reply, TestConfig};
use support::pg_server::database;
use tokio::time::Instant;

/// An article with enough of the field to be a candidate.
fn article(source: usize, n: usize) -> String {
    format!(
        "<html><head><meta charset=\"utf-8\"></head><body><h1>第{source}号来源第{n}条</h1>\
         <div class=\"info\">来源：测试厅</div><div class=\"body\">\
         <p>第{source}号来源第{n}条：省人力资源和社会保障厅印发通知，做好高校毕业生就业创业工作。</p>\
         <p>通知要求落实一次性扩岗补助和社会保险补贴政策，为离校未就业毕业生提供实名制就业服务。</p>\
         </div></body></html>"
    )
}

/// `sources` list pages of `per_list` articles each; every request takes
/// `delay`, so a poll is long enough to be seen overlapping.
fn serve_outlets(outlet: &Outlet, sources: usize, per_list: usize, delay: Duration) -> String {
    let mut config = String::new();
    for s in 0..sources {
        let mut list = String::from("<html><body><ul class=\"list\">");
        for n in 0..per_list {
            list.push_str(&format!(
                "<li><a href=\"/s{s}/a/{n}.html\">第{s}号来源第{n}条</a><span>2025-06-0{}</span></li>",
                n % 9 + 1
            ));
            outlet.set(
                &format!("/s{s}/a/{n}.html"),
                Reply::html(&article(s, n)).with_delay(delay),
            );
        }
        list.push_str("</ul></body></html>");
        outlet.set(
            &format!("/s{s}/list.html"),
            Reply::html(&list).with_delay(delay),
        );
        config.push_str(&format!(
            "[[source]]\nid = \"s{s}\"\nname = \"测试厅{s}\"\nurl = \"{}/s{s}/list.html\"\nkind = \"html\"\ninterval = \"2s\"\n[source.list]\nitem = \"ul.list li\"\nlink = \"a@href\"\ntitle = \"a\"\ndate = \"span\"\n[source.article]\ncontent = \"div.body\"\norigin = \"div.info\"\n\n",
            outlet.base
        ));
    }
    config
}

/// A configuration on the test's PostgreSQL database, polling every two
/// seconds with no jitter, with leases of `lease`.
fn shared_config(sources: &str, url: &str, lease: &str) -> TestConfig {
    let tc = TestConfig::new(
        sources,
        &format!(
            "[server]\nstatus_public = true\n[schedule]\nadaptive = false\njitter = 0.0\nlease = \"{lease}\"\nmin_interval = \"1s\"\n"
        ),
    );
    let main = std::fs::read_to_string(tc.path()).expect("read main");
    let main = main.replace(
        "database = \"kuaibao.db\"",
        &format!(
            "url = \"{}\"",
            url.replace('\\', "\\\\").replace('"', "\\\"")
        ),
    );
    std::fs::write(tc.path(), main).expect("write main");
    tc
}

/// The PostgreSQL driver blocks on a runtime of its own: off the test's.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

/// How many articles the database holds, and how many distinct addresses
/// among them (each stored once: the two are equal).
fn stored(url: &str) -> (i64, i64) {
    let mut db = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    let row = db
        .query_one("SELECT count(*), count(DISTINCT url) FROM items", &[])
        .expect("count");
    (row.get(0), row.get(1))
}

/// The start of every request for `path` that began before the previous
/// one for it could have ended: a poll overlapping another.
fn overlaps(arrivals: &[Instant], delay: Duration) -> usize {
    let mut sorted = arrivals.to_vec();
    sorted.sort();
    sorted
        .windows(2)
        .filter(|w| w[1].duration_since(w[0]) < delay)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_pollers_share_the_sources_and_never_poll_one_at_once() {
    let Some(db) = blocking(|| database("two_pollers_share_the_sources")) else {
        return;
    };
    let outlet = Outlet::start().await;
    let delay = Duration::from_millis(300);
    let sources = serve_outlets(&outlet, 8, 1, delay);
    let tc = shared_config(&sources, &db.url, "5s");
    // Two slots each: neither poller can hold all eight sources at once.
    tc.set_poll("concurrency", "2");
    let a = blocking(|| Daemon::start_with(&tc, &["--role", "poller"]));
    let b = blocking(|| Daemon::start_with(&tc, &["--role", "poller"]));
    tokio::time::sleep(Duration::from_secs(9)).await;

    let mut polls = 0;
    for s in 0..8 {
        let arrivals = outlet.arrivals(&format!("/s{s}/list.html"));
        assert!(
            arrivals.len() >= 2,
            "s{s} is polled on its interval: {} polls",
            arrivals.len()
        );
        assert_eq!(
            overlaps(&arrivals, delay),
            0,
            "s{s} was polled twice at once"
        );
        polls += arrivals.len();
    }
    // Both pollers worked: each reports polls of its own on /metrics.
    let client = reqwest::Client::new();
    for (name, poller) in [("a", &a), ("b", &b)] {
        let metrics = client
            .get(poller.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        let fetched: f64 = metrics
            .lines()
            .filter(|l| l.starts_with("kuaibao_fetches_total{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        assert!(fetched > 0.0, "poller {name} polled nothing:\n{metrics}");
        for gauge in [
            "kuaibao_leases_held ",
            "kuaibao_leases_expired ",
            "kuaibao_shared_due_sources ",
            "kuaibao_scheduler_in_flight_sources ",
        ] {
            assert!(metrics.contains(gauge), "{gauge}missing:\n{metrics}");
        }
    }
    // A poller serves no feed: that is the web nodes' work.
    let feed = client
        .get(a.url("/feeds/all.xml"))
        .send()
        .await
        .expect("get");
    assert_eq!(feed.status(), 404);
    assert!(polls >= 16, "{polls} polls in 9 s of 8 sources every 2 s");
    assert_eq!(
        blocking(|| stored(&db.url)),
        (8, 8),
        "every article stored once"
    );
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poller_killed_mid_poll_loses_nothing_and_another_takes_its_sources_when_the_lease_lapses()
 {
    let Some(db) = blocking(|| database("a_poller_killed_mid_poll_loses_nothing")) else {
        return;
    };
    let outlet = Outlet::start().await;
    // Long articles: the first poller is killed with its polls in flight.
    let delay = Duration::from_millis(1500);
    let sources = serve_outlets(&outlet, 4, 3, delay);
    let lease = Duration::from_secs(3);
    let tc = shared_config(&sources, &db.url, "3s");
    let mut first = blocking(|| Daemon::start_with(&tc, &["--role", "poller"]));
    let deadline = Instant::now() + Duration::from_secs(20);
    while (0..4).any(|s| outlet.arrivals(&format!("/s{s}/a/0.html")).is_empty()) {
        assert!(
            Instant::now() < deadline,
            "the first poller never got to the articles"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.child.kill().expect("kill -9");
    let _ = first.child.wait();
    let killed = Instant::now();
    let (before, _) = blocking(|| stored(&db.url));
    assert!(before < 12, "killed mid-poll: {before} of 12 stored");

    let second = blocking(|| Daemon::start_with(&tc, &["--role", "poller"]));
    // Within the lease and an interval (plus the polls' own time), every
    // source is read again and every article stored.
    let bound = lease + Duration::from_secs(2) + Duration::from_secs(10);
    loop {
        let (n, distinct) = blocking(|| stored(&db.url));
        assert_eq!(n, distinct, "an article stored twice");
        if n == 12 {
            break;
        }
        assert!(
            killed.elapsed() < bound,
            "{n} of 12 articles stored {:?} after the kill",
            killed.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for s in 0..4 {
        let again = outlet
            .arrivals(&format!("/s{s}/list.html"))
            .into_iter()
            .filter(|t| *t > killed)
            .count();
        assert!(again >= 1, "s{s} was polled again after the kill");
    }
    drop(second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_pollers_together_start_at_most_one_request_per_host_delay() {
    let Some(db) = blocking(|| database("two_pollers_together_keep_the_host_delay")) else {
        return;
    };
    let outlet = Outlet::start().await;
    let sources = serve_outlets(&outlet, 6, 1, Duration::ZERO);
    let tc = shared_config(&sources, &db.url, "5s");
    tc.set_poll("host_delay", "\"400ms\"");
    let a = blocking(|| Daemon::start_with(&tc, &["--role", "poller"]));
    let b = blocking(|| Daemon::start_with(&tc, &["--role", "poller"]));
    tokio::time::sleep(Duration::from_secs(7)).await;
    drop((a, b));

    let mut starts: Vec<Instant> = (0..6)
        .flat_map(|s| {
            let mut all = outlet.arrivals(&format!("/s{s}/list.html"));
            all.extend(outlet.arrivals(&format!("/s{s}/a/0.html")));
            all
        })
        .collect();
    starts.sort();
    assert!(starts.len() >= 8, "{} requests in 7 s", starts.len());
    let closest = starts
        .windows(2)
        .map(|w| w[1].duration_since(w[0]))
        .min()
        .expect("two requests");
    // Each poller alone keeps 400 ms; together they keep it only through
    // the database. A few ms go to scheduling between the turn and the send.
    assert!(
        closest >= Duration::from_millis(370),
        "two requests to one host {closest:?} apart"
    );
}

/// Logs `name` in on the desk at `node`; returns the cookie and the CSRF
/// token the queue page carries.
async fn desk_login(client: &reqwest::Client, node: &Daemon, name: &str) -> (String, String) {
    let login = client
        .post(node.url("/desk/login"))
        .header("accept", "text/html")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("name", name),
            ("password", PASSWORD),
            ("next", "/desk/"),
        ]))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 303, "login on the desk");
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_string();
    let page = client
        .get(node.url("/desk/"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("queue")
        .text()
        .await
        .expect("text");
    let csrf = page
        .split("data-csrf=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the queue carries the CSRF token")
        .to_string();
    (cookie, csrf)
}

const PASSWORD: &str = "a long enough passphrase 42";

fn form(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_on_one_web_node_is_served_by_another_at_once() {
    let Some(db) = blocking(|| database("an_approval_on_one_web_node")) else {
        return;
    };
    let outlet = Outlet::start().await;
    let sources = serve_outlets(&outlet, 2, 1, Duration::ZERO);
    let tc = shared_config(&sources, &db.url, "5s");
    // A cron poll fills the database; an editor account for the desk.
    let poll = blocking(|| common::kuaibao(&tc.path(), &["poll"]));
    assert_eq!(
        poll.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&poll.stderr)
    );
    let add = blocking(|| {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kuaibao"))
            .arg("--config")
            .arg(tc.path())
            .args(["user", "add", "alice", "--password-stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("user add");
        writeln!(child.stdin.take().expect("stdin"), "{PASSWORD}").expect("write");
        child.wait().expect("wait")
    });
    assert!(add.success(), "user add");

    let a = blocking(|| Daemon::start_with(&tc, &["--role", "web"]));
    let b = blocking(|| Daemon::start_with(&tc, &["--role", "web"]));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let feed = |node: &Daemon| {
        let client = client.clone();
        let url = node.url("/feeds/all.xml");
        async move {
            let resp = client.get(url).send().await.expect("feed");
            assert_eq!(resp.status(), 200);
            resp.text().await.expect("text").matches("<entry>").count()
        }
    };
    assert_eq!(feed(&b).await, 0, "nothing approved yet");

    // The editor approves on node a's desk…
    let (cookie, csrf) = desk_login(&client, &a, "alice").await;
    let queue = client
        .get(a.url("/desk/?status=all"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("queue")
        .text()
        .await
        .expect("text");
    let id = queue
        .split("/desk/items/")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .expect("an item on the queue")
        .to_string();
    let approved = client
        .post(a.url(&format!("/desk/items/{id}/approve")))
        .header("cookie", &cookie)
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("csrf", csrf.as_str()), ("back", "/desk/")]))
        .send()
        .await
        .expect("approve");
    assert!(approved.status().is_success(), "{}", approved.status());
    let at = Instant::now();
    // …and node b serves it within moments: told by the database's
    // notification, its periodic check being a minute apart.
    loop {
        if feed(&b).await == 1 {
            break;
        }
        assert!(
            at.elapsed() < Duration::from_secs(5),
            "node b still serves no entry 5 s after the approval on node a"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop((a, b));
}

//! The PostgreSQL store (`store::postgres`, issue 15) against a real
//! server that the tests start themselves (`support::pg_server`): its
//! migrations, its schema's parity with SQLite's, the desk's trigram
//! search index, the leases and host budgets that let many pollers share
//! one database, and the announcements of committed changes that web nodes
//! listen for. Each test has a database of its own.
//!
//! Without PostgreSQL installed each test says it skipped and passes,
//! except under `CI`.

use crate::support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use kuaibao::config::{EncodingChoice, Source, SourceKind};
use kuaibao::store::Store;
use kuaibao::store::migrate::COPIED_WITHIN;
use kuaibao::store::postgres::{HostTurn, Lease, PgError, PgStore, listen_for_changes};
use postgres::{Client, NoTls};
use support::pg_server::database;
use url::Url;

fn source(id: &str) -> Source {
    Source {
        id: id.into(),
        name: format!("来源 {id}"),
        url: Url::parse(&format!("http://127.0.0.1/{id}/")).expect("url"),
        kind: SourceKind::Html,
        encoding: EncodingChoice::Auto,
        interval: Duration::from_secs(1800),
        region: None,
        section: None,
        enabled: true,
        list: None,
        json: None,
        article: None,
    }
}

fn sources(n: usize) -> Vec<Source> {
    (0..n).map(|i| source(&format!("s{i:04}"))).collect()
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 8, 0, 0)
        .single()
        .expect("time")
}

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn migrations_apply_on_an_empty_database_and_are_idempotent() {
    let Some(db) = database("migrations_apply") else {
        return;
    };
    let store = PgStore::connect(&db.url).expect("connect and migrate");
    let supported = PgStore::supported_version();
    assert!(supported >= 2);
    assert_eq!(store.schema_version().expect("version"), supported);

    let mut client = Client::connect(&db.url, NoTls).expect("client");
    let applied = |client: &mut Client| -> Vec<(i64, String)> {
        client
            .query(
                "SELECT version, applied_at::text FROM schema_migrations ORDER BY version",
                &[],
            )
            .expect("schema_migrations")
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    };
    let first = applied(&mut client);
    assert_eq!(
        first.iter().map(|(v, _)| *v).collect::<Vec<_>>(),
        (1..=supported).collect::<Vec<_>>()
    );
    drop(store);

    // Connecting again runs nothing: same versions, same times.
    let again = PgStore::connect(&db.url).expect("reconnect");
    assert_eq!(again.schema_version().expect("version"), supported);
    assert_eq!(applied(&mut client), first);
    again.ping().expect("ping");
    assert_eq!(again.counts().expect("counts").items, 0);
}

#[test]
fn processes_starting_at_once_on_a_new_database_migrate_it_once() {
    let Some(db) = database("migrate_at_once") else {
        return;
    };
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (url, barrier) = (db.url.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                PgStore::connect(&url).map(|s| s.schema_version())
            })
        })
        .collect();
    for h in handles {
        let version = h
            .join()
            .expect("thread")
            .expect("connect")
            .expect("version");
        assert_eq!(version, PgStore::supported_version());
    }
}

#[test]
fn a_database_from_a_newer_kuaibao_is_refused() {
    let Some(db) = database("newer_refused") else {
        return;
    };
    drop(PgStore::connect(&db.url).expect("connect"));
    let newer = PgStore::supported_version() + 1;
    let mut client = Client::connect(&db.url, NoTls).expect("client");
    client
        .execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&newer],
        )
        .expect("a later build's migration");

    // With a password in the URL, which the message must not repeat.
    let url = db.url.replacen("postgres@", "postgres:s3cret-pw@", 1);
    let err = PgStore::connect(&url).expect_err("refused");
    match &err {
        PgError::TooNew {
            found, supported, ..
        } => {
            assert_eq!(*found, newer);
            assert_eq!(*supported, PgStore::supported_version());
        }
        other => panic!("expected TooNew, got {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("newer than this kuaibao"), "{message}");
    assert!(message.contains(&db.name), "{message}");
    assert!(!message.contains("s3cret"), "{message}");
    // Nothing was changed by the refusal.
    let max: i64 = client
        .query_one("SELECT MAX(version) FROM schema_migrations", &[])
        .expect("max")
        .get(0);
    assert_eq!(max, newer);
}

#[test]
fn a_bad_url_or_an_absent_server_is_a_clear_error() {
    let err = PgStore::connect("postgres://u:pw@host:notaport/db").expect_err("bad url");
    assert!(matches!(err, PgError::Url(_)), "{err:?}");
    assert!(!err.to_string().contains("pw"), "{err}");

    // Nothing listens in an empty directory.
    let dir = tempfile::tempdir().expect("dir");
    let host = dir.path().display().to_string().replace('/', "%2F");
    let err = PgStore::connect(&format!("postgres://u@{host}/db")).expect_err("no server");
    assert!(matches!(err, PgError::Connect { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("cannot connect"), "{message}");
    // The cause is spelled out, not just the driver's "error connecting
    // to server".
    assert!(message.contains("os error"), "{message}");
}

#[test]
fn a_url_that_requires_tls_is_refused_rather_than_sent_in_clear() {
    let Some(db) = database("tls_required") else {
        return;
    };
    // No TLS yet (NoTls): the default `sslmode=prefer` connects in clear,
    // `require` must not.
    PgStore::connect(&db.url).expect("prefer");
    let err = PgStore::connect(&format!("{}?sslmode=require", db.url)).expect_err("require");
    assert!(matches!(err, PgError::Connect { .. }), "{err:?}");
}

/// Tables and their columns, by name, from SQLite's `PRAGMA table_info`.
fn sqlite_columns() -> BTreeMap<String, BTreeSet<String>> {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("kuaibao.db");
    drop(Store::open(&path).expect("sqlite store"));
    let conn = rusqlite::Connection::open(&path).expect("open");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("tables")
        .collect::<Result<_, _>>()
        .expect("rows");
    tables
        .into_iter()
        // SQLite's search index; PostgreSQL keeps pg_trgm indexes instead.
        .filter(|t| !t.starts_with("items_fts") && t != "search_index_state")
        // Rows of another table held apart for a while (the dedup index's
        // unmerged band keys): PostgreSQL has only that table.
        .filter(|t| !COPIED_WITHIN.iter().any(|(within, _)| within == t))
        .map(|t| {
            let cols = conn
                .prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))
                .expect("prepare")
                .query_map([], |r| r.get(0))
                .expect("columns")
                .collect::<Result<_, _>>()
                .expect("rows");
            (t, cols)
        })
        .collect()
}

#[test]
fn the_schema_has_sqlite_s_tables_and_columns() {
    let Some(db) = database("schema_parity") else {
        return;
    };
    drop(PgStore::connect(&db.url).expect("connect"));
    let mut client = Client::connect(&db.url, NoTls).expect("client");
    let mut pg: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in client
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = 'public'",
            &[],
        )
        .expect("columns")
    {
        pg.entry(r.get(0)).or_default().insert(r.get(1));
    }
    // PostgreSQL's own: migrations, the state of running pollers, and the
    // counter standing in for SQLite's `PRAGMA data_version`.
    for own in [
        "schema_migrations",
        "source_leases",
        "host_budget",
        "data_version",
    ] {
        assert!(pg.remove(own).is_some(), "{own} missing");
    }
    assert_eq!(pg, sqlite_columns());

    // Every text column compares by bytes, as SQLite's do.
    let other: Vec<String> = client
        .query(
            "SELECT table_name || '.' || column_name FROM information_schema.columns
             WHERE table_schema = 'public' AND data_type = 'text'
               AND collation_name IS DISTINCT FROM 'C'",
            &[],
        )
        .expect("collations")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(other.is_empty(), "not COLLATE \"C\": {other:?}");
}

#[test]
fn stored_times_are_sqlite_s_strings_and_order_as_time_does() {
    let Some(db) = database("time_order") else {
        return;
    };
    let mut store = PgStore::connect(&db.url).expect("connect");
    store.sync_sources(&sources(4)).expect("sync");
    let utc = |d, h, m, s| {
        Utc.with_ymd_and_hms(2025, 9, d, h, m, s)
            .single()
            .expect("time")
    };
    // Around midnight Beijing time and across a month's end, where UTC and
    // Beijing dates differ.
    let times = [
        utc(1, 16, 0, 0),
        utc(1, 15, 59, 59),
        utc(30, 16, 0, 0),
        utc(30, 9, 0, 0),
    ];
    let claimed = store
        .claim_due_sources("p", t0(), MINUTE, 10)
        .expect("claim");
    assert_eq!(claimed.len(), times.len());
    for (i, t) in times.iter().enumerate() {
        assert!(
            store
                .release_lease("p", &format!("s{i:04}"), *t)
                .expect("release")
        );
    }
    let ids = ["s0000", "s0001", "s0002", "s0003"];
    let stored: Vec<String> = store
        .source_states(&ids)
        .expect("states")
        .into_iter()
        .map(|s| s.next_due_at.expect("due"))
        .collect();
    // The strings the SQLite store writes: RFC 3339 in Beijing time.
    assert_eq!(
        stored,
        [
            "2025-09-02T00:00:00+08:00",
            "2025-09-01T23:59:59+08:00",
            "2025-10-01T00:00:00+08:00",
            "2025-09-30T17:00:00+08:00",
        ]
    );
    // …which the database orders, as text, the way time goes.
    let mut client = Client::connect(&db.url, NoTls).expect("client");
    let by_db: Vec<String> = client
        .query("SELECT id FROM sources ORDER BY next_due_at", &[])
        .expect("order")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(by_db, ["s0001", "s0000", "s0003", "s0002"]);
    assert_eq!(
        store.next_due("s0001").expect("due").map(|d| d.to_utc()),
        Some(times[1])
    );
    assert_eq!(store.next_due("nope").expect("due"), None);
}

#[test]
fn chinese_text_is_searched_through_the_trigram_indexes() {
    let Some(db) = database("trigram_search") else {
        return;
    };
    drop(PgStore::connect(&db.url).expect("connect"));
    let mut client = Client::connect(&db.url, NoTls).expect("client");
    // pg_trgm sees the trigrams of Chinese text (a UTF-8 ctype).
    let trigrams: i64 = client
        .query_one(
            "SELECT cardinality(show_trgm('人力资源社会保障'))::bigint",
            &[],
        )
        .expect("show_trgm")
        .get(0);
    assert!(trigrams >= 6, "{trigrams} trigrams");
    let texts = [
        ("人社部发布2025年养老保险调整通知", "各地按通知执行。"),
        ("江苏省就业补贴新政", "南京市人力资源和社会保障局解读。"),
        ("无关新闻", "天气晴朗。"),
    ];
    for (i, (title, text)) in texts.iter().enumerate() {
        client
            .execute(
                "INSERT INTO items (uid, canonical_url, url, source_id, title, content_html,
                     content_text, content_hash, origin, first_seen_at, updated_at, story_id)
                 VALUES ($1, $2, $2, 's', $3, '', $4, '', 'o', '2025-09-01T08:00:00+08:00',
                         '2025-09-01T08:00:00+08:00', 1)",
                &[&format!("u{i}"), &format!("http://x/{i}"), title, text],
            )
            .expect("item");
    }
    client.batch_execute("ANALYZE items").expect("analyze");
    let search = |client: &mut Client, term: &str| -> Vec<String> {
        let p = format!("%{term}%");
        client
            .query(
                "SELECT uid FROM items WHERE title ILIKE $1 OR bulletin_title ILIKE $1
                 OR content_text ILIKE $1 ORDER BY uid",
                &[&p],
            )
            .expect("search")
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    assert_eq!(search(&mut client, "养老保险"), ["u0"]);
    assert_eq!(search(&mut client, "人力资源和社会保障局"), ["u1"]);
    assert_eq!(search(&mut client, "NOTICE"), Vec::<String>::new());
    // The plan reads the indexes, not the table (three rows would be
    // scanned otherwise, so sequential scans are ruled out to ask).
    client
        .batch_execute("SET enable_seqscan = off")
        .expect("set");
    let plan: Vec<String> = client
        .query(
            "EXPLAIN SELECT uid FROM items WHERE title ILIKE '%养老保险%'
             OR bulletin_title ILIKE '%养老保险%' OR content_text ILIKE '%养老保险%'",
            &[],
        )
        .expect("explain")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let plan = plan.join("\n");
    for index in [
        "items_title_trgm",
        "items_bulletin_title_trgm",
        "items_content_text_trgm",
    ] {
        assert!(plan.contains(index), "{index} not used:\n{plan}");
    }
}

#[test]
fn two_pollers_claiming_at_once_never_get_the_same_source() {
    let Some(db) = database("claims_disjoint") else {
        return;
    };
    let mut store = PgStore::connect(&db.url).expect("connect");
    let all = sources(300);
    store.sync_sources(&all).expect("sync");

    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = ["poller-a", "poller-b"]
        .into_iter()
        .map(|holder| {
            let (url, barrier) = (db.url.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let mut store = PgStore::connect(&url).expect("connect");
                barrier.wait();
                let mut mine = Vec::new();
                loop {
                    let got = store
                        .claim_due_sources(holder, t0(), MINUTE, 7)
                        .expect("claim");
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got);
                }
            })
        })
        .collect();
    let results: Vec<Vec<String>> = handles
        .into_iter()
        .map(|h| h.join().expect("poller"))
        .collect();
    let a: BTreeSet<_> = results[0].iter().cloned().collect();
    let b: BTreeSet<_> = results[1].iter().cloned().collect();
    assert_eq!(a.len(), results[0].len(), "a claimed a source twice");
    assert_eq!(b.len(), results[1].len(), "b claimed a source twice");
    assert!(
        a.is_disjoint(&b),
        "both claimed {:?}",
        a.intersection(&b).collect::<Vec<_>>()
    );
    let union: BTreeSet<String> = a.union(&b).cloned().collect();
    assert_eq!(union, all.iter().map(|s| s.id.clone()).collect());
    // Both took part (a claim of 7 is a few milliseconds; 300 sources
    // take dozens of rounds).
    assert!(
        !a.is_empty() && !b.is_empty(),
        "a {} b {}",
        a.len(),
        b.len()
    );
    for id in &a {
        let lease = store.source_lease(id).expect("lease").expect("held");
        assert_eq!(
            lease,
            Lease {
                holder: "poller-a".into(),
                expires_at: t0() + TimeDelta::minutes(1)
            }
        );
    }
}

#[test]
fn pollers_claiming_and_releasing_at_once_never_hold_one_source_together() {
    let Some(db) = database("claims_churn") else {
        return;
    };
    let mut store = PgStore::connect(&db.url).expect("connect");
    store.sync_sources(&sources(12)).expect("sync");
    // Who holds what, as the pollers see it: a claim must never return a
    // source another poller has not yet given back. A poller takes a
    // source out of the map before releasing it in the database, so the
    // map never says free what the database still holds.
    let held: Arc<Mutex<HashMap<String, &'static str>>> = Arc::default();
    let barrier = Arc::new(Barrier::new(3));
    let handles: Vec<_> = ["p1", "p2", "p3"]
        .into_iter()
        .map(|holder| {
            let (url, barrier, held) = (db.url.clone(), Arc::clone(&barrier), Arc::clone(&held));
            std::thread::spawn(move || {
                let mut store = PgStore::connect(&url).expect("connect");
                barrier.wait();
                let mut claims = 0;
                for round in 0..150 {
                    let now = Utc::now();
                    let got = store
                        .claim_due_sources(holder, now, MINUTE, 2)
                        .expect("claim");
                    {
                        let mut held = held.lock().expect("map");
                        for id in &got {
                            if let Some(other) = held.insert(id.clone(), holder) {
                                panic!(
                                    "{holder} claimed {id} while {other} held it (round {round})"
                                );
                            }
                        }
                    }
                    claims += got.len();
                    for id in got {
                        held.lock().expect("map").remove(&id);
                        // Due again at once: the others race for it.
                        assert!(store.release_lease(holder, &id, now).expect("release"));
                    }
                }
                claims
            })
        })
        .collect();
    let claims: usize = handles.into_iter().map(|h| h.join().expect("poller")).sum();
    assert!(claims > 100, "only {claims} claims");
}

#[test]
fn an_expired_lease_is_taken_over_and_a_live_one_is_not() {
    let Some(db) = database("lease_takeover") else {
        return;
    };
    let mut a = PgStore::connect(&db.url).expect("a");
    let mut b = PgStore::connect(&db.url).expect("b");
    a.sync_sources(&[source("gov")]).expect("sync");

    let lease = Duration::from_secs(300);
    assert_eq!(
        a.claim_due_sources("a", t0(), lease, 10).expect("claim"),
        ["gov"]
    );
    // Held: nobody else gets it while the lease runs, however due it is.
    for later in [0, 60, 299] {
        let now = t0() + TimeDelta::seconds(later);
        assert!(
            b.claim_due_sources("b", now, lease, 10)
                .expect("claim")
                .is_empty()
        );
    }
    // a renews at +200 s: now held to +500 s.
    assert!(
        a.renew_lease("a", "gov", t0() + TimeDelta::seconds(200), lease)
            .expect("renew")
    );
    assert!(
        b.claim_due_sources("b", t0() + TimeDelta::seconds(400), lease, 10)
            .expect("claim")
            .is_empty()
    );
    // a is presumed dead: at +500 s its lease has lapsed and b takes over.
    let takeover = t0() + TimeDelta::seconds(500);
    assert_eq!(
        b.claim_due_sources("b", takeover, lease, 10)
            .expect("claim"),
        ["gov"]
    );
    assert_eq!(
        a.source_lease("gov").expect("lease"),
        Some(Lease {
            holder: "b".into(),
            expires_at: takeover + TimeDelta::seconds(300)
        })
    );
    // a, back from the dead, has lost it: it can neither renew nor
    // release, so it cannot move b's next due time.
    assert!(!a.renew_lease("a", "gov", takeover, lease).expect("renew"));
    assert!(
        !a.release_lease("a", "gov", takeover + TimeDelta::days(9))
            .expect("release")
    );
    assert_eq!(
        a.source_lease("gov").expect("lease").map(|l| l.holder),
        Some("b".into())
    );
}

#[test]
fn a_released_source_is_claimed_again_when_it_is_next_due() {
    let Some(db) = database("release_next_due") else {
        return;
    };
    let mut store = PgStore::connect(&db.url).expect("connect");
    store.sync_sources(&sources(2)).expect("sync");
    let got = store
        .claim_due_sources("p", t0(), MINUTE, 10)
        .expect("claim");
    assert_eq!(got, ["s0000", "s0001"]);
    let next = t0() + TimeDelta::minutes(30);
    assert!(store.release_lease("p", "s0000", next).expect("release"));
    assert_eq!(store.source_lease("s0000").expect("lease"), None);
    assert_eq!(
        store.next_due("s0000").expect("due").map(|d| d.to_utc()),
        Some(next)
    );
    // Half a minute on: s0001 is p's (a live lease), s0000 not yet due.
    let now = t0() + TimeDelta::seconds(30);
    assert!(
        store
            .claim_due_sources("q", now, MINUTE, 10)
            .expect("claim")
            .is_empty()
    );
    // p's lease on s0001 lapsed long ago; s0000, released with no lease on
    // it, is still not due. (q's lease, 5 minutes, outlasts the next
    // claim: a lease ends at its expiry, inclusive.)
    let now = t0() + TimeDelta::minutes(29);
    assert_eq!(
        store
            .claim_due_sources("q", now, 5 * MINUTE, 10)
            .expect("claim"),
        ["s0001"]
    );
    let now = t0() + TimeDelta::minutes(30);
    assert_eq!(
        store
            .claim_due_sources("r", now, MINUTE, 10)
            .expect("claim"),
        ["s0000"]
    );
    // A limit takes the never polled first (then the longest overdue).
    store.sync_sources(&sources(5)).expect("sync");
    let got = store.claim_due_sources("r", now, MINUTE, 2).expect("claim");
    assert_eq!(got, ["s0002", "s0003"]);
}

#[test]
fn two_pollers_never_exceed_a_host_s_budget_together() {
    let Some(db) = database("host_budget") else {
        return;
    };
    drop(PgStore::connect(&db.url).expect("connect"));
    let delay = Duration::from_millis(50);
    let run_for = Duration::from_millis(1200);
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let (url, barrier) = (db.url.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let mut store = PgStore::connect(&url).expect("connect");
                let own_host = format!("poller{i}.example");
                barrier.wait();
                let start = std::time::Instant::now();
                let mut granted = Vec::new();
                while start.elapsed() < run_for {
                    let now = Utc::now();
                    match store
                        .take_host_turn("www.mohrss.gov.cn", now, delay)
                        .expect("turn")
                    {
                        HostTurn::Granted => granted.push(now),
                        HostTurn::Wait { until } => {
                            assert!(until > now, "told to wait until {until}, now {now}");
                            // Come back a little early, to keep asking
                            // while the other poller asks too.
                            let wait = (until - now).to_std().unwrap_or_default();
                            std::thread::sleep(wait.saturating_sub(Duration::from_millis(2)));
                        }
                    }
                    // Another host's budget is its own.
                    assert_eq!(
                        store
                            .take_host_turn(&own_host, now, Duration::ZERO)
                            .expect("turn"),
                        HostTurn::Granted
                    );
                }
                granted
            })
        })
        .collect();
    let per_poller: Vec<Vec<DateTime<Utc>>> = handles
        .into_iter()
        .map(|h| h.join().expect("poller"))
        .collect();
    let mut all: Vec<DateTime<Utc>> = per_poller.iter().flatten().copied().collect();
    all.sort();
    for pair in all.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= TimeDelta::from_std(delay).expect("delay"),
            "two requests {gap} apart: {} and {}",
            pair[0],
            pair[1]
        );
    }
    // At most one per delay over the run, and the budget was used.
    let most = (run_for.as_millis() / delay.as_millis()) as usize + 1;
    assert!(all.len() <= most, "{} turns in {run_for:?}", all.len());
    assert!(
        all.len() >= most / 3,
        "only {} turns in {run_for:?}",
        all.len()
    );
    assert!(
        per_poller.iter().all(|g| !g.is_empty()),
        "one poller never got a turn"
    );
}

#[test]
fn a_poller_claims_only_among_its_sources_and_the_lease_counts_show_held_expired_and_due() {
    let Some(db) = database("lease_counts") else {
        return;
    };
    let mut a = PgStore::connect(&db.url).expect("a");
    a.sync_sources(&[source("s1"), source("s2"), source("s3")])
        .expect("sync");
    let among = ["s1".to_string(), "s2".to_string()];
    let lease = Duration::from_secs(60);
    let mut claimed = a
        .claim_due_among("a", t0(), lease, 10, Some(&among))
        .expect("claim");
    claimed.sort();
    assert_eq!(
        claimed,
        ["s1", "s2"],
        "s3 is not in this poller's configuration"
    );
    let counts = a.count_leases(t0()).expect("counts");
    assert_eq!((counts.held, counts.expired, counts.due), (2, 0, 1));
    // The holder died: a minute later both leases have lapsed.
    let later = a
        .count_leases(t0() + TimeDelta::seconds(61))
        .expect("counts");
    assert_eq!((later.held, later.expired, later.due), (2, 2, 1));
}

/// A change listener on `url` (`store::postgres::notify`): each call of
/// its `on_change` arrives on the receiver; it stops when the flag is set.
struct Listening {
    changes: mpsc::Receiver<()>,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Listening {
    fn start(url: &str) -> Listening {
        let (tx, changes) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = Arc::clone(&stop);
        let handle = listen_for_changes(
            url,
            move || {
                let _ = tx.send(());
            },
            move || stop_flag.load(Ordering::SeqCst),
        )
        .expect("listen");
        Listening {
            changes,
            stop,
            handle: Some(handle),
        }
    }

    /// Whether a change was announced within `d`.
    fn announced_within(&self, d: Duration) -> bool {
        self.changes.recv_timeout(d).is_ok()
    }

    /// Forgets the announcements so far (those of earlier steps).
    fn drain(&self) {
        while self.changes.try_recv().is_ok() {}
    }
}

/// Stops the listener; one that does not stop is left behind rather than
/// hanging the test (`the_listener_stops_when_asked` fails then).
impl Drop for Listening {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let Some(handle) = self.handle.take() else {
            return;
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !handle.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if handle.is_finished() {
            let _ = handle.join();
        }
    }
}

#[test]
fn a_commit_on_one_connection_is_announced_to_a_listener_on_another() {
    let Some(db) = database("notify_commit") else {
        return;
    };
    let mut store = PgStore::connect(&db.url).expect("connect and migrate");
    let listening = Listening::start(&db.url);

    store.sync_sources(&sources(3)).expect("sync");
    assert!(
        listening.announced_within(Duration::from_secs(5)),
        "a commit was not announced"
    );

    // Reading changes nothing, so nothing is announced.
    listening.drain();
    store.counts().expect("counts");
    store.source_states(&["s0000", "s0001"]).expect("states");
    assert!(
        !listening.announced_within(Duration::from_secs(1)),
        "a read was announced"
    );

    // Another write, another announcement.
    store.sync_sources(&sources(4)).expect("sync again");
    assert!(
        listening.announced_within(Duration::from_secs(5)),
        "the second commit was not announced"
    );
}

#[test]
fn a_rolled_back_write_announces_nothing() {
    let Some(db) = database("notify_rollback") else {
        return;
    };
    drop(PgStore::connect(&db.url).expect("connect and migrate"));
    let listening = Listening::start(&db.url);
    let mut client = Client::connect(&db.url, NoTls).expect("client");
    let insert = "INSERT INTO sources (id, name, url, kind)
                  VALUES ('s1', '来源', 'http://127.0.0.1/s1/', 'html')";

    client
        .batch_execute(&format!("BEGIN; {insert}; ROLLBACK"))
        .expect("rolled back");
    assert!(
        !listening.announced_within(Duration::from_secs(1)),
        "a rolled-back write was announced"
    );

    // The same write committed is announced: the silence above was the
    // rollback's.
    client
        .batch_execute(&format!("BEGIN; {insert}; COMMIT"))
        .expect("committed");
    assert!(
        listening.announced_within(Duration::from_secs(5)),
        "the committed write was not announced"
    );
}

#[test]
fn the_listener_stops_when_asked() {
    let Some(db) = database("notify_stop") else {
        return;
    };
    drop(PgStore::connect(&db.url).expect("connect and migrate"));
    let mut listening = Listening::start(&db.url);
    let handle = listening.handle.take().expect("running");
    std::thread::sleep(Duration::from_millis(200));
    assert!(!handle.is_finished(), "stopped before it was asked to");

    listening.stop.store(true, Ordering::SeqCst);
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    while !handle.is_finished() {
        assert!(
            std::time::Instant::now() < deadline,
            "still listening 3 s after it was asked to stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    handle.join().expect("the listener's thread");
}

#[test]
fn a_listener_whose_connection_drops_reconnects_and_says_so() {
    let Some(db) = database("notify_reconnect") else {
        return;
    };
    let mut store = PgStore::connect(&db.url).expect("connect and migrate");
    let listening = Listening::start(&db.url);

    // What an operator's restart or a failover does to the connection.
    let mut admin = Client::connect(&db.url, NoTls).expect("admin");
    let ended: i64 = admin
        .query_one(
            "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = $1 AND application_name = 'kuaibao listener') t",
            &[&db.name],
        )
        .expect("terminate")
        .get(0);
    assert_eq!(ended, 1, "the listener's own connection, named");

    // Changes may have been missed meanwhile: said after reconnecting
    // (after a pause of 1 s).
    assert!(
        listening.announced_within(Duration::from_secs(10)),
        "no change announced after reconnecting"
    );
    // And it listens again.
    listening.drain();
    store.sync_sources(&sources(2)).expect("sync");
    assert!(
        listening.announced_within(Duration::from_secs(5)),
        "a commit after the reconnect was not announced"
    );
}

#[test]
fn a_listener_that_cannot_connect_fails_at_once_and_keeps_the_password() {
    let dir = tempfile::tempdir().expect("dir");
    let host = dir.path().display().to_string().replace('/', "%2F");
    let err = listen_for_changes(&format!("postgres://u:s3cret-pw@{host}/db"), || {}, || true)
        .expect_err("no server");
    assert!(matches!(err, PgError::Connect { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("cannot connect"), "{message}");
    assert!(!message.contains("s3cret"), "{message}");
}

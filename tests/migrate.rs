//! `kuaibao migrate` (issue 15, "Moving"): a SQLite database with real
//! content — items seen on several pages, a story, decisions and the model
//! trained on them, an editor with a session, the audit log, an issue,
//! fetch state, HTTP validators, a selector repair — copied into an empty
//! PostgreSQL database and checked row for row; a target holding rows is
//! refused and left as it was.
//!
//! Each test has a PostgreSQL database of its own (`support::pg_server`);
//! without PostgreSQL installed the tests that need it say they skipped
//! and pass, except under `CI`.

use crate::common;
use crate::support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use kuaibao::accounts::{self, Role};
use kuaibao::config::{EncodingChoice, Source, SourceKind};
use kuaibao::model::{NewItem, Validators};
use kuaibao::normalize::sanitize_html;
use kuaibao::store::migrate::{
    COPIED_TABLES, COPIED_WITHIN, MigrateError, MigrationReport, migrate_sqlite_to_postgres,
};
use kuaibao::store::postgres::PgStore;
use kuaibao::store::{
    AuditEntry, FetchOutcomeKind, FetchRecord, NewRepair, NewSessionRow, Status, Store, StoreError,
};
use postgres::{Client, NoTls};
use support::pg_server::database;

fn source(id: &str, name: &str) -> Source {
    Source {
        id: id.into(),
        name: name.into(),
        url: url::Url::parse(&format!("http://127.0.0.1:9/{id}/list.html")).expect("url"),
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

fn item(source: &str, slug: &str, title: &str, body: &str) -> NewItem {
    NewItem {
        source_id: source.into(),
        guid: Some(format!("guid-{slug}")),
        url: format!("https://www.example.gov.cn/{slug}.html?from=feed"),
        canonical_url: format!("http://example.gov.cn/{slug}.html"),
        title: title.into(),
        content_html: sanitize_html(
            &format!("<p>{body}</p><p>“引号” &amp; <b>粗体</b></p>"),
            &url::Url::parse("https://www.example.gov.cn/").expect("base"),
        ),
        content_text: format!("{body}\n“引号” & 粗体"),
        content_hash: format!("hash-{slug}"),
        origin: "人力资源和社会保障部".into(),
        section: Some("policy".into()),
        region: Some("广东".into()),
        published: Some(DateTime::parse_from_rfc3339("2025-06-18T09:30:00+08:00").expect("date")),
        bulletin_title: Some(format!("广东：{title}")),
        // Not a round decimal: the copy must keep every bit.
        relevance: Some(0.1 + 0.2),
        explanation: Some(r#"{"reasons":["关键词 社保"],"scores":[0.7,0.2]}"#.into()),
    }
}

const BODY_A: &str = "6月16日，龙岩市人力资源和社会保障局在新罗区举办农民工专场招聘会，组织120家企业提供就业岗位3600余个，涵盖制造业、物流和家政服务等行业。";
const BODY_B: &str = "广东省人力资源和社会保障厅发布通知，自7月1日起调整全省最低工资标准，一类地区月最低工资标准提高到2500元，各地要做好宣传解释工作。";
const BODY_C: &str = "人力资源社会保障部印发《关于加强技能人才培养的意见》，提出到2027年新增高技能人才500万人以上，完善职业技能等级认定制度。";

/// A SQLite database in `dir` holding a little of everything kuaibao
/// keeps, written through the public API; its path.
fn populated_sqlite(dir: &Path) -> PathBuf {
    let path = dir.join("kuaibao.db");
    let mut store = Store::open(&path).expect("open SQLite");
    let cfg = kuaibao::dedup::DedupConfig::default();
    store
        .sync_sources(&[source("gd", "广东人社"), source("mohrss", "人社部")])
        .expect("sources");

    let a = kuaibao::poll::store_item(
        &mut store,
        &item("gd", "a", "龙岩市举办农民工专场招聘会", BODY_A),
        Status::Candidate,
        &cfg,
    )
    .expect("a")
    .id();
    // The same story from another outlet: a second item joined to a's story.
    let a2 = kuaibao::poll::store_item(
        &mut store,
        &NewItem {
            source_id: "mohrss".into(),
            guid: None,
            url: "https://www.mohrss.gov.cn/a-copy.html".into(),
            canonical_url: "http://mohrss.gov.cn/a-copy.html".into(),
            ..item("mohrss", "a", "龙岩市举办农民工专场招聘会", BODY_A)
        },
        Status::Candidate,
        &cfg,
    )
    .expect("a2")
    .id();
    let b = kuaibao::poll::store_item(
        &mut store,
        &item("gd", "b", "广东调整最低工资标准", BODY_B),
        Status::Candidate,
        &cfg,
    )
    .expect("b")
    .id();
    let c = kuaibao::poll::store_item(
        &mut store,
        &NewItem {
            section: None,
            region: None,
            published: None,
            bulletin_title: None,
            relevance: None,
            explanation: None,
            ..item("mohrss", "c", "关于加强技能人才培养的意见", BODY_C)
        },
        Status::Candidate,
        &cfg,
    )
    .expect("c")
    .id();
    assert_ne!(a, a2);

    // Editors decide: decisions, the audit log, statuses.
    kuaibao::app::review(&mut store, &[a], Status::Approved, "cli:tester").expect("approve");
    kuaibao::app::review(&mut store, &[b], Status::Rejected, "cli:tester").expect("reject");
    kuaibao::app::review(&mut store, &[c], Status::Approved, "cli:tester").expect("approve");
    // The model trained on them (classifier_model).
    kuaibao::classify::current_model(&mut store, &kuaibao::classify::Rules::default(), &|_| None)
        .expect("model")
        .expect("a model after decisions");

    // An editor, a session, an audit entry of theirs.
    let user =
        accounts::add_user(&store, "editor1", Role::Admin, "a long enough password").expect("user");
    let now = Utc::now();
    store
        .insert_session(&NewSessionRow {
            token_hash: "0f3c9a",
            user_id: user,
            csrf_token: "csrf-token",
            created_at: now,
            expires_at: now + TimeDelta::hours(8),
            max_expires_at: now + TimeDelta::days(7),
            idle_secs: 28_800,
            address: Some("127.0.0.1"),
            user_agent: None,
        })
        .expect("session");
    store
        .record_audit(
            &AuditEntry {
                user_name: "editor1",
                action: "title",
                item_id: Some(a),
                story_id: None,
                before: None,
                after: Some("新标题 with 'quotes' and \"double\""),
                detail: Some("line one\nline two\ttab"),
            },
            now,
        )
        .expect("audit");

    // An issue holding the approved stories.
    store
        .create_issue(
            "202509",
            NaiveDate::from_ymd_opt(2025, 9, 1).expect("date"),
            &["policy".to_string()],
        )
        .expect("issue");

    // Fetch state, HTTP validators, a repair.
    store
        .record_fetch(&FetchRecord {
            source_id: "gd",
            url: "http://127.0.0.1:9/gd/list.html",
            started_at: now,
            duration: Duration::from_millis(1234),
            outcome: FetchOutcomeKind::Failed,
            items_found: Some(20),
            items_new: None,
            error: Some("HTTP 503".into()),
            limits: Some("max_new_items".into()),
            next_due_at: now + TimeDelta::minutes(30),
        })
        .expect("fetch");
    store
        .set_validators(
            "http://127.0.0.1:9/gd/list.html",
            &Validators {
                etag: Some("W/\"abc\"".into()),
                last_modified: None,
            },
        )
        .expect("validators");
    store
        .record_repair(&NewRepair {
            source_id: "gd",
            status: "proposed",
            what: "list",
            confidence: 0.87,
            old_toml: "item = \"ul li\"",
            new_toml: "item = \"ul.news li\"",
            evidence: "{}",
            decided_by: None,
        })
        .expect("repair");
    path
}

/// Rows per table, read straight from the SQLite file (with the rows of
/// the tables copied within it: the dedup index's unmerged band keys).
fn sqlite_counts(path: &Path) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(path).expect("open");
    let count = |t: &str| -> i64 {
        conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
            .expect("count")
    };
    COPIED_TABLES
        .iter()
        .map(|t| {
            let within: i64 = COPIED_WITHIN
                .iter()
                .filter(|(_, into)| into == t)
                .map(|(w, _)| count(w))
                .sum();
            (t.to_string(), count(t) + within)
        })
        .collect()
}

fn postgres_counts(url: &str) -> Vec<(String, i64)> {
    let mut client = Client::connect(url, NoTls).expect("connect");
    COPIED_TABLES
        .iter()
        .map(|t| {
            let n: i64 = client
                .query_one(&format!("SELECT count(*) FROM {t}"), &[])
                .expect("count")
                .get(0);
            (t.to_string(), n)
        })
        .collect()
}

fn migrate(path: &Path, url: &str) -> Result<MigrationReport, StoreError> {
    migrate_sqlite_to_postgres(path, url, |_| {})
}

#[test]
fn every_table_is_copied_with_its_ids_and_verified_by_counts_and_checksums() {
    let Some(db) = database("every_table_is_copied") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = populated_sqlite(dir.path());
    let counts = sqlite_counts(&path);
    for table in [
        "sources",
        "http_cache",
        "fetch_log",
        "items",
        "item_links",
        "stories",
        "item_fingerprints",
        "item_bands",
        "decisions",
        "classifier_model",
        "users",
        "sessions",
        "audit_log",
        "issues",
        "issue_stories",
        "source_repairs",
    ] {
        let n = counts.iter().find(|(t, _)| t == table).map(|(_, n)| *n);
        assert!(n > Some(0), "the fixture leaves {table} empty: {counts:?}");
    }

    let mut seen = Vec::new();
    let report = migrate_sqlite_to_postgres(&path, &db.url, |p| seen.push(format!("{p:?}")))
        .expect("migrate");
    assert!(report.verified(), "{report:#?}");
    assert!(report.committed);
    assert!(!seen.is_empty(), "progress is reported");
    assert_eq!(
        report
            .tables
            .iter()
            .map(|t| t.table.as_str())
            .collect::<Vec<_>>(),
        COPIED_TABLES
    );
    for t in &report.tables {
        let n = counts
            .iter()
            .find(|(name, _)| *name == t.table)
            .map(|(_, n)| *n as u64);
        assert_eq!(Some(t.sqlite_rows), n, "{}", t.table);
        assert_eq!(t.sqlite_rows, t.postgres_rows, "{}", t.table);
        assert_eq!(t.sqlite_checksum, t.postgres_checksum, "{}", t.table);
        assert_eq!(t.sqlite_checksum.len(), 64);
    }
    assert!(report.not_copied.iter().any(|t| t == "items_fts"));
    assert_eq!(postgres_counts(&db.url), counts);

    // Values read back from PostgreSQL equal SQLite's, ids included.
    let sqlite = rusqlite::Connection::open(&path).expect("open");
    let mut pg = Client::connect(&db.url, NoTls).expect("connect");
    type ItemRow = (
        i64,
        String,
        String,
        Option<String>,
        Option<f64>,
        String,
        i64,
        Option<String>,
    );
    let sqlite_items: Vec<ItemRow> = sqlite
        .prepare(
            "SELECT id, title, content_html, bulletin_title, relevance, status, story_id, published_at
             FROM items ORDER BY id",
        )
        .expect("prepare")
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let pg_items: Vec<ItemRow> = pg
        .query(
            "SELECT id, title, content_html, bulletin_title, relevance, status, story_id, published_at
             FROM items ORDER BY id",
            &[],
        )
        .expect("items")
        .iter()
        .map(|r| {
            (
                r.get(0),
                r.get(1),
                r.get(2),
                r.get(3),
                r.get(4),
                r.get(5),
                r.get(6),
                r.get(7),
            )
        })
        .collect();
    assert_eq!(pg_items, sqlite_items);
    assert_eq!(pg_items.len(), 4);
    assert!(pg_items.iter().any(|i| i.4 == Some(0.1 + 0.2)));

    let minhash = |sql: &str| -> Vec<u8> {
        sqlite
            .query_row(sql, [], |r| r.get(0))
            .expect("sqlite minhash")
    };
    let pg_minhash: Vec<u8> = pg
        .query_one(
            "SELECT minhash FROM item_fingerprints ORDER BY item_id LIMIT 1",
            &[],
        )
        .expect("minhash")
        .get(0);
    assert_eq!(
        pg_minhash,
        minhash("SELECT minhash FROM item_fingerprints ORDER BY item_id LIMIT 1")
    );
    let model: String = pg
        .query_one("SELECT model FROM classifier_model", &[])
        .expect("model")
        .get(0);
    let sqlite_model: String = sqlite
        .query_row("SELECT model FROM classifier_model", [], |r| r.get(0))
        .expect("sqlite model");
    assert_eq!(model, sqlite_model);
    let hash: String = pg
        .query_one(
            "SELECT password_hash FROM users WHERE name = 'editor1'",
            &[],
        )
        .expect("user")
        .get(0);
    assert!(hash.starts_with("$argon2id$"), "{hash}");

    // Each BIGSERIAL sequence is past the largest copied id: a new row
    // gets the next id, not one already taken.
    let max_user: i64 = pg
        .query_one("SELECT MAX(id) FROM users", &[])
        .expect("max")
        .get(0);
    let new_user: i64 = pg
        .query_one(
            "INSERT INTO users (name, role, password_hash, created_at, password_changed_at)
             VALUES ('editor2', 'editor', 'x', 'now', 'now') RETURNING id",
            &[],
        )
        .expect("insert user")
        .get(0);
    assert_eq!(new_user, max_user + 1);
    let max_audit: i64 = pg
        .query_one("SELECT MAX(id) FROM audit_log", &[])
        .expect("max")
        .get(0);
    let new_audit: i64 = pg
        .query_one(
            "INSERT INTO audit_log (at, user_name, action) VALUES ('now', 'x', 'y') RETURNING id",
            &[],
        )
        .expect("insert audit")
        .get(0);
    assert_eq!(new_audit, max_audit + 1);

    // The copy is a database the PostgreSQL store opens and reads.
    let store = PgStore::connect(&db.url).expect("PgStore");
    let counts = store.counts().expect("counts");
    assert_eq!(counts.items, 4);
    assert_eq!(counts.pages, 4);
    let leases: i64 = pg
        .query_one("SELECT count(*) FROM source_leases", &[])
        .expect("leases")
        .get(0);
    assert_eq!(leases, 2, "a lease row per copied source");
}

#[test]
fn a_target_holding_rows_is_refused_by_name_and_left_untouched() {
    let Some(db) = database("a_target_holding_rows") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = populated_sqlite(dir.path());
    // Someone's data already: a user and a source.
    drop(PgStore::connect(&db.url).expect("schema"));
    let mut pg = Client::connect(&db.url, NoTls).expect("connect");
    pg.batch_execute(
        "INSERT INTO users (name, role, password_hash, created_at, password_changed_at)
         VALUES ('someone', 'admin', 'h', '2025-01-01T00:00:00+08:00', '2025-01-01T00:00:00+08:00');
         INSERT INTO sources (id, name, url, kind) VALUES ('x', 'X', 'http://x/', 'html');",
    )
    .expect("rows");
    let before = postgres_counts(&db.url);

    let err = migrate(&path, &db.url).expect_err("refused");
    assert!(
        matches!(err, StoreError::Migrate(MigrateError::NotEmpty { .. })),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("not empty"), "{message}");
    assert!(message.contains("users has 1 row"), "{message}");
    assert!(message.contains("sources has 1 row"), "{message}");
    assert!(
        !message.contains("items"),
        "only what holds rows: {message}"
    );

    assert_eq!(postgres_counts(&db.url), before);
    let name: String = pg
        .query_one("SELECT name FROM users", &[])
        .expect("user")
        .get(0);
    assert_eq!(name, "someone");
}

#[test]
fn a_second_migration_into_the_same_database_is_refused() {
    let Some(db) = database("a_second_migration") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = populated_sqlite(dir.path());
    assert!(migrate(&path, &db.url).expect("first").verified());
    let after_first = postgres_counts(&db.url);

    let err = migrate(&path, &db.url).expect_err("second");
    assert!(
        matches!(err, StoreError::Migrate(MigrateError::NotEmpty { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("items has 4 rows"), "{err}");
    assert_eq!(postgres_counts(&db.url), after_first);
}

#[test]
fn a_value_that_cannot_be_copied_stops_the_migration_and_leaves_the_target_empty() {
    let Some(db) = database("a_value_that_cannot") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = populated_sqlite(dir.path());
    // SQLite keeps text in a REAL column as text (dynamic typing); it has
    // no DOUBLE PRECISION form. Items come after sources in the copy, so
    // rows were already sent when it is met.
    let conn = rusqlite::Connection::open(&path).expect("open");
    let id: i64 = conn
        .query_row("SELECT MAX(id) FROM items", [], |r| r.get(0))
        .expect("id");
    conn.execute("UPDATE items SET relevance = 'high' WHERE id = ?1", [id])
        .expect("update");
    drop(conn);

    let err = migrate(&path, &db.url).expect_err("refused");
    let message = err.to_string();
    assert!(
        matches!(err, StoreError::Migrate(MigrateError::Value { .. })),
        "{err:?}"
    );
    assert!(message.contains("items"), "{message}");
    assert!(message.contains(&format!("id = {id}")), "{message}");
    assert!(message.contains("relevance"), "{message}");
    assert!(
        postgres_counts(&db.url).iter().all(|(_, n)| *n == 0),
        "{:?}",
        postgres_counts(&db.url)
    );

    // Fixed, it goes through into the same (still empty) database.
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.execute("UPDATE items SET relevance = 0.5 WHERE id = ?1", [id])
        .expect("update");
    drop(conn);
    assert!(migrate(&path, &db.url).expect("retry").verified());
}

#[test]
fn a_missing_sqlite_file_is_an_error_not_an_empty_migration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.db");
    // The URL is never reached: the source is checked first.
    let err = migrate(&missing, "postgres://nobody@127.0.0.1:1/none").expect_err("refused");
    assert!(
        matches!(err, StoreError::Migrate(MigrateError::NoSource { .. })),
        "{err:?}"
    );
    assert!(!missing.exists(), "no database was created");
}

#[test]
fn the_command_prints_each_table_and_exits_non_zero_when_refused() {
    let Some(db) = database("the_command_prints") else {
        return;
    };
    let tc = common::TestConfig::new(
        "[[source]]\nid = \"gd\"\nname = \"广东人社\"\nurl = \"http://127.0.0.1:9/gd/list.xml\"\nkind = \"feed\"\n",
        "",
    );
    let path = populated_sqlite(tc.dir.path());

    // A value that cannot be copied: exit 1, the row named, nothing kept.
    let set_relevance = |value: &str| {
        rusqlite::Connection::open(&path)
            .expect("open")
            .execute(
                &format!("UPDATE items SET relevance = {value} WHERE id = 1"),
                [],
            )
            .expect("update");
    };
    set_relevance("'high'");
    let failed = common::kuaibao(&tc.path(), &["migrate", "--to", &db.url]);
    assert_eq!(failed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("items, row id = 1, column relevance"),
        "{stderr}"
    );
    assert!(postgres_counts(&db.url).iter().all(|(_, n)| *n == 0));
    set_relevance("0.25");

    let out = common::kuaibao(&tc.path(), &["migrate", "--to", &db.url]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Shown with `--nocapture`: what an operator reads.
    println!("{stdout}");
    for table in COPIED_TABLES {
        let line = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(table))
            .unwrap_or_else(|| panic!("no line for {table}: {stdout}"));
        assert_eq!(line.matches("match").count(), 2, "{line}");
    }
    assert!(stdout.contains("the copy is committed"), "{stdout}");
    assert!(
        !stdout.contains(&db.url),
        "the URL (which may hold a password) is not echoed"
    );

    let again = common::kuaibao(&tc.path(), &["migrate", "--to", &db.url]);
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("is not empty"), "{stderr}");
    assert!(stderr.contains("items has 4 rows"), "{stderr}");
}

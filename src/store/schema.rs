//! The schema, in one place: every migration the store has ever applied,
//! in order. Part of the store layer; its one job is to say what the
//! database looks like.
//!
//! A database records how many of [`MIGRATIONS`] it has run in `PRAGMA
//! user_version` (0: a new file). Opening a database runs the ones it has
//! not (see `Store::setup`); one with a higher version than this list is
//! refused as made by a newer kuaibao. So the list only grows at the end,
//! and a migration that shipped is never edited: its text is what every
//! existing database ran. The tests below check that a new database ends
//! with exactly the schema recorded in `schema.sql` (what databases created
//! by earlier kuaibao versions have), and that such a database opens.
//!
//! | `user_version` after | migration |
//! | --- | --- |
//! | 1 | [`BASE`]: sources, HTTP validators, items and their links, fetch log |
//! | 2 | [`STORIES_AND_CLASSIFICATION`]: stories, classification, the dedup index, decisions, the classifier's model |
//! | 3 | [`ACCOUNTS`]: users, sessions, audit log |
//! | 4 | [`ISSUES`]: issues of the bulletin |
//! | 5 | [`ITEMS_FTS`]: the desk's full-text search |
//! | 6 | [`SOURCE_LIMITS`]: which poll budgets bit |
//! | 7 | [`SOURCE_REPAIRS`]: selectors repaired after a redesign |
//! | 8 | [`MAYBE_STATUS`]: the 待定 (maybe) review status |
//! | 9 | [`RECENT_BANDS`]: the dedup index's newest band keys, merged later |

/// Schema migrations, applied in order; `user_version` = how many ran.
pub(super) const MIGRATIONS: &[&str] = &[
    BASE,
    STORIES_AND_CLASSIFICATION,
    ACCOUNTS,
    ISSUES,
    ITEMS_FTS,
    SOURCE_LIMITS,
    SOURCE_REPAIRS,
    MAYBE_STATUS,
    RECENT_BANDS,
];

/// Migration 9: new band keys of the dedup index are written to this small
/// table and merged into `item_bands` 512 items at a time
/// (`dedup::merge_recent_bands`); look-ups read both. Each band key is a
/// random key, so 42 keys written straight into the large index dirtied
/// about one page of it each at every commit, and those pages went to the
/// log again and again; merged in bulk, each page of the large index is
/// written once per merge. Nothing in it is ever only here for long: the
/// same rows, the same primary key, the same meaning as `item_bands`.
const RECENT_BANDS: &str = r#"
CREATE TABLE item_bands_recent (
    band    INTEGER NOT NULL,
    key     INTEGER NOT NULL,
    item_id INTEGER NOT NULL,
    PRIMARY KEY (band, key, item_id)
) WITHOUT ROWID;
"#;

/// Migration 1: what the first kuaibao stored. An item is stored once (one
/// guid from one source, one canonical URL); `item_links` keeps every page
/// it was seen on.
const BASE: &str = r#"
CREATE TABLE sources (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    url                  TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    last_attempt_at      TEXT,
    last_success_at      TEXT,
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_item_count      INTEGER,
    next_due_at          TEXT
);
CREATE TABLE http_cache (
    url           TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    updated_at    TEXT NOT NULL
);
CREATE TABLE items (
    id            INTEGER PRIMARY KEY,
    uid           TEXT NOT NULL UNIQUE,
    canonical_url TEXT NOT NULL UNIQUE,
    url           TEXT NOT NULL,
    source_id     TEXT NOT NULL,
    title         TEXT NOT NULL,
    content_html  TEXT NOT NULL,
    content_text  TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    origin        TEXT NOT NULL,
    section       TEXT,
    region        TEXT,
    published_at  TEXT,
    first_seen_at TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'candidate'
                  CHECK (status IN ('candidate', 'approved', 'rejected')),
    reviewed_at   TEXT
);
CREATE INDEX items_by_content_hash ON items(content_hash) WHERE content_hash <> '';
CREATE INDEX items_by_status_published ON items(status, published_at);
CREATE TABLE item_links (
    item_id       INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    source_id     TEXT NOT NULL,
    guid          TEXT,
    url           TEXT NOT NULL,
    canonical_url TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    PRIMARY KEY (source_id, canonical_url)
);
CREATE UNIQUE INDEX item_links_by_guid ON item_links(source_id, guid) WHERE guid IS NOT NULL;
CREATE INDEX item_links_by_canonical_url ON item_links(canonical_url);
CREATE INDEX item_links_by_item ON item_links(item_id);
CREATE TABLE fetch_log (
    id          INTEGER PRIMARY KEY,
    source_id   TEXT NOT NULL,
    url         TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('ok', 'not-modified', 'failed')),
    items_found INTEGER,
    items_new   INTEGER,
    error       TEXT
);
CREATE INDEX fetch_log_by_source ON fetch_log(source_id, started_at);
"#;

/// Migration 6: which `[poll]` budgets bit in a pass, per fetch and per source, so a
/// source that keeps hitting one is flagged rather than throttled unseen.
const SOURCE_LIMITS: &str = r#"
ALTER TABLE fetch_log ADD COLUMN limits TEXT;
ALTER TABLE sources ADD COLUMN last_limits TEXT;
ALTER TABLE sources ADD COLUMN limited_passes INTEGER NOT NULL DEFAULT 0;
"#;

/// Migration 7: repairs of a source's selectors after its site was
/// redesigned (issue 13): proposed, applied, failed or dismissed, with the
/// tables before and after and the evidence that proved the new ones.
const SOURCE_REPAIRS: &str = r#"
CREATE TABLE source_repairs (
    id          INTEGER PRIMARY KEY,
    source_id   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('proposed', 'applied', 'failed', 'dismissed')),
    what        TEXT NOT NULL,
    confidence  REAL NOT NULL,
    old_toml    TEXT NOT NULL,
    new_toml    TEXT NOT NULL,
    evidence    TEXT NOT NULL,
    decided_at  TEXT,
    decided_by  TEXT
);
CREATE INDEX source_repairs_by_source ON source_repairs(source_id, id);
"#;

/// Migration 2: stories (one story carried by several outlets, issue 4),
/// the classification of each item and the editors' decisions (issue 5).
/// `items` is rebuilt because its status CHECK gains `irrelevant`; every
/// existing item becomes a story of its own. Runs with foreign keys off
/// (see `Store::setup`), as SQLite's table-rebuild procedure requires.
///
/// It also holds the dedup stage's candidate index (the only definition of
/// these tables): `item_fingerprints` keeps each item's MinHash signature,
/// its shingle-set size and its `day` (days since 1970-01-01 in Beijing
/// time, published or first seen) so a look-up can be limited to a window;
/// `item_bands` maps each LSH band key to the items that have it. The
/// primary key of the `WITHOUT ROWID` band table is the (band, key) index
/// itself, so a band row costs no separate index entry.
const STORIES_AND_CLASSIFICATION: &str = r#"
CREATE TABLE stories (
    id           INTEGER PRIMARY KEY,
    -- The feed entry's identity: the uid of the item that opened the story.
    uid          TEXT NOT NULL UNIQUE,
    primary_item INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE TABLE items_v2 (
    id             INTEGER PRIMARY KEY,
    uid            TEXT NOT NULL UNIQUE,
    canonical_url  TEXT NOT NULL UNIQUE,
    url            TEXT NOT NULL,
    source_id      TEXT NOT NULL,
    title          TEXT NOT NULL,
    content_html   TEXT NOT NULL,
    content_text   TEXT NOT NULL,
    content_hash   TEXT NOT NULL,
    origin         TEXT NOT NULL,
    section        TEXT,
    region         TEXT,
    published_at   TEXT,
    first_seen_at  TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'candidate'
                   CHECK (status IN ('candidate', 'approved', 'rejected', 'irrelevant')),
    reviewed_at    TEXT,
    story_id       INTEGER NOT NULL,
    -- `地区：…` title for the bulletin; NULL = the outlet's title.
    bulletin_title TEXT,
    relevance      REAL,
    -- Why it was classified so (JSON: rules that fired, model scores).
    explanation    TEXT,
    -- An editor set the section / the bulletin title: the classifier
    -- leaves them alone from then on.
    section_fixed  INTEGER NOT NULL DEFAULT 0,
    title_fixed    INTEGER NOT NULL DEFAULT 0
);
INSERT INTO items_v2 (id, uid, canonical_url, url, source_id, title, content_html, content_text,
                      content_hash, origin, section, region, published_at, first_seen_at,
                      updated_at, status, reviewed_at, story_id)
    SELECT id, uid, canonical_url, url, source_id, title, content_html, content_text,
           content_hash, origin, section, region, published_at, first_seen_at,
           updated_at, status, reviewed_at, id FROM items;
INSERT INTO stories (id, uid, primary_item, created_at, updated_at)
    SELECT id, uid, id, first_seen_at, updated_at FROM items;
DROP TABLE items;
ALTER TABLE items_v2 RENAME TO items;
CREATE INDEX items_by_content_hash ON items(content_hash) WHERE content_hash <> '';
CREATE INDEX items_by_status_published ON items(status, published_at);
CREATE INDEX items_by_story ON items(story_id);
CREATE TABLE item_fingerprints (
    item_id  INTEGER PRIMARY KEY,
    day      INTEGER NOT NULL,
    shingles INTEGER NOT NULL,
    minhash  BLOB NOT NULL
);
CREATE TABLE item_bands (
    band    INTEGER NOT NULL,
    key     INTEGER NOT NULL,
    item_id INTEGER NOT NULL,
    PRIMARY KEY (band, key, item_id)
) WITHOUT ROWID;
-- Every approve / reject / move an editor made: the classifier's training
-- data. `section` is the label (NULL = off-topic).
CREATE TABLE decisions (
    id      INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL,
    at      TEXT NOT NULL,
    action  TEXT NOT NULL CHECK (action IN ('approve', 'reject', 'move', 'relevant')),
    section TEXT,
    editor  TEXT
);
CREATE INDEX decisions_by_item ON decisions(item_id);
CREATE TABLE classifier_model (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    decisions  INTEGER NOT NULL,
    trained_at TEXT NOT NULL,
    model      TEXT NOT NULL
);
"#;

/// Migration 8: items whose relevance lies between `relevance.maybe` and
/// the threshold are 待定 (`maybe`, issue 14). `items` is rebuilt because
/// its status CHECK gains `maybe` (SQLite cannot alter a CHECK); its
/// indexes and the full-text triggers of migration 5 go with the old table
/// and are made again. Runs with foreign keys off, like migration 2.
const MAYBE_STATUS: &str = r#"
CREATE TABLE items_v8 (
    id             INTEGER PRIMARY KEY,
    uid            TEXT NOT NULL UNIQUE,
    canonical_url  TEXT NOT NULL UNIQUE,
    url            TEXT NOT NULL,
    source_id      TEXT NOT NULL,
    title          TEXT NOT NULL,
    content_html   TEXT NOT NULL,
    content_text   TEXT NOT NULL,
    content_hash   TEXT NOT NULL,
    origin         TEXT NOT NULL,
    section        TEXT,
    region         TEXT,
    published_at   TEXT,
    first_seen_at  TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'candidate'
                   CHECK (status IN ('candidate', 'approved', 'rejected', 'maybe', 'irrelevant')),
    reviewed_at    TEXT,
    story_id       INTEGER NOT NULL,
    -- `地区：…` title for the bulletin; NULL = the outlet's title.
    bulletin_title TEXT,
    relevance      REAL,
    -- Why it was classified so (JSON: rules that fired, model scores).
    explanation    TEXT,
    -- An editor set the section / the bulletin title: the classifier
    -- leaves them alone from then on.
    section_fixed  INTEGER NOT NULL DEFAULT 0,
    title_fixed    INTEGER NOT NULL DEFAULT 0
);
INSERT INTO items_v8 SELECT * FROM items;
DROP TABLE items;
ALTER TABLE items_v8 RENAME TO items;
CREATE INDEX items_by_content_hash ON items(content_hash) WHERE content_hash <> '';
CREATE INDEX items_by_status_published ON items(status, published_at);
CREATE INDEX items_by_story ON items(story_id);
CREATE TRIGGER items_fts_delete AFTER DELETE ON items
WHEN old.id <= (SELECT indexed_upto FROM search_index_state) BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, bulletin_title, content_text)
        VALUES ('delete', old.id, old.title, old.bulletin_title, old.content_text);
END;
CREATE TRIGGER items_fts_update AFTER UPDATE OF title, bulletin_title, content_text ON items
WHEN old.id <= (SELECT indexed_upto FROM search_index_state) BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, bulletin_title, content_text)
        VALUES ('delete', old.id, old.title, old.bulletin_title, old.content_text);
    INSERT INTO items_fts (rowid, title, bulletin_title, content_text)
        VALUES (new.id, new.title, new.bulletin_title, new.content_text);
END;
"#;

/// Migration 4: issues (期) of the bulletin and the stories each holds, in
/// print order (see `store::issues`). `story_id` has no foreign key: merging
/// stories deletes one, and the issue then simply no longer lists it.
const ISSUES: &str = r#"
CREATE TABLE issues (
    id           INTEGER PRIMARY KEY,
    number       TEXT NOT NULL UNIQUE,
    issue_date   TEXT NOT NULL, -- YYYY-MM-DD, printed under the masthead
    status       TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    published_at TEXT
);
CREATE TABLE issue_stories (
    issue_id INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    story_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (issue_id, story_id)
);
CREATE INDEX issue_stories_by_story ON issue_stories(story_id);
"#;

/// Migration 5: full-text search for the editors' desk (`store::desk`).
/// FTS5 with the trigram tokenizer matches any substring of three or more
/// characters, which Chinese needs (no spaces between words). External
/// content: the text stays only in `items`, the index follows it through
/// triggers, and the updates that leave the text alone (status, section)
/// do not touch the index. A later rebuild of `items` must recreate the
/// triggers.
const ITEMS_FTS: &str = r#"
CREATE VIRTUAL TABLE items_fts USING fts5(
    title, bulletin_title, content_text,
    content = 'items', content_rowid = 'id', tokenize = 'trigram'
);
-- Items up to this id are in the index. New items are indexed in batches
-- (`Store::index_search_text`), not by an insert trigger: a trigram index
-- of a whole article costs milliseconds, which would multiply a poll's
-- time; the daemon indexes after each refresh and a search first catches up.
CREATE TABLE search_index_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_upto INTEGER NOT NULL
);
INSERT INTO search_index_state (id, indexed_upto) VALUES (1, 0);
CREATE TRIGGER items_fts_delete AFTER DELETE ON items
WHEN old.id <= (SELECT indexed_upto FROM search_index_state) BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, bulletin_title, content_text)
        VALUES ('delete', old.id, old.title, old.bulletin_title, old.content_text);
END;
CREATE TRIGGER items_fts_update AFTER UPDATE OF title, bulletin_title, content_text ON items
WHEN old.id <= (SELECT indexed_upto FROM search_index_state) BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, bulletin_title, content_text)
        VALUES ('delete', old.id, old.title, old.bulletin_title, old.content_text);
    INSERT INTO items_fts (rowid, title, bulletin_title, content_text)
        VALUES (new.id, new.title, new.bulletin_title, new.content_text);
END;
"#;

/// Migration 3: the desk's accounts (see `crate::accounts`, which keeps
/// the logic; `store::accounts` reads and writes these tables).
///
/// `login_attempts` is deliberately not here: the limiter is in memory (see
/// `accounts::LoginLimiter` for why). `sessions` keeps a SHA-256 of each token, so a
/// copy of the database (a backup, a stolen file) opens no session; the
/// CSRF token is kept as is because the desk must print it into its forms,
/// and it is worthless without the session cookie. `idle_secs` and
/// `max_expires_at` fix each session's sliding and absolute expiry when it
/// is created, so checking a session needs no configuration. `audit_log`
/// keeps the user's name rather than a reference: entries must outlive the
/// account, and items are never a foreign key either, so that pruning items
/// leaves the record of what was done to them.
const ACCOUNTS: &str = r#"
CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    role                TEXT NOT NULL CHECK (role IN ('editor', 'admin')),
    password_hash       TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    disabled            INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
    token_hash     TEXT PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    max_expires_at TEXT NOT NULL,
    idle_secs      INTEGER NOT NULL,
    last_seen_at   TEXT NOT NULL,
    address        TEXT,
    user_agent     TEXT
);
CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    user_name TEXT NOT NULL,
    action    TEXT NOT NULL,
    item_id   INTEGER,
    story_id  INTEGER,
    before    TEXT,
    after     TEXT,
    detail    TEXT
);
CREATE INDEX audit_log_by_at ON audit_log(at);
CREATE INDEX audit_log_by_item ON audit_log(item_id) WHERE item_id IS NOT NULL;
"#;

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::MIGRATIONS;
    use crate::store::{ItemStore, SqliteStore};

    /// The schema as `schema.sql` records it: every object's SQL, by type
    /// and name.
    fn dump(conn: &Connection) -> String {
        let mut stmt = conn
            .prepare(
                "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL
                 ORDER BY type, name",
            )
            .expect("prepare");
        let rows = stmt
            .query_map([], |r| {
                Ok(format!(
                    "\n-- {} {}\n{};\n",
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?
                ))
            })
            .expect("query");
        rows.collect::<Result<String, _>>().expect("rows")
    }

    fn recorded() -> &'static str {
        let file = include_str!("schema.sql");
        // Past the header comment.
        &file[file.find("\n\n-- ").expect("objects") + 1..]
    }

    #[test]
    fn a_new_database_has_the_recorded_schema() {
        let store = SqliteStore::open_in_memory().expect("open");
        assert_eq!(store.schema_version().expect("version"), 9);
        assert_eq!(dump(&store.conn), recorded());
    }

    #[test]
    fn a_database_left_at_any_earlier_version_opens_with_the_recorded_schema() {
        for version in 0..=MIGRATIONS.len() {
            let conn = Connection::open_in_memory().expect("open");
            for sql in &MIGRATIONS[..version] {
                conn.execute_batch(sql).expect("migration");
            }
            conn.pragma_update(None, "user_version", version as i64)
                .expect("version");
            let store = SqliteStore::setup(conn, ":memory:").expect("opens");
            assert_eq!(
                store.schema_version().expect("version"),
                MIGRATIONS.len() as i64
            );
            assert_eq!(dump(&store.conn), recorded(), "from version {version}");
        }
    }

    #[test]
    fn a_database_from_a_newer_kuaibao_is_refused() {
        let conn = Connection::open_in_memory().expect("open");
        conn.pragma_update(None, "user_version", MIGRATIONS.len() as i64 + 1)
            .expect("version");
        assert!(matches!(
            SqliteStore::setup(conn, ":memory:"),
            Err(crate::store::StoreError::TooNew { .. })
        ));
    }
}

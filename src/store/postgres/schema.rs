//! The PostgreSQL schema, in one place: every migration the PostgreSQL
//! backend has ever applied, in order. Part of the store layer; its one job
//! is to say what a PostgreSQL database of kuaibao looks like.
//!
//! The list is this backend's own, versioned apart from SQLite's
//! (`store::schema`): a database records each migration it ran as a row of
//! `schema_migrations` (version = position in [`MIGRATIONS`], from 1), and
//! one holding a version past the end of the list is refused as made by a
//! newer kuaibao. So, as for SQLite, the list only grows at the end and a
//! migration that shipped is never edited.
//!
//! | version | migration |
//! | --- | --- |
//! | 1 | [`BASE`]: the tables of a SQLite database at `user_version` 8 |
//! | 2 | [`COORDINATION`]: source leases and per-host budgets, for many pollers |
//! | 3 | [`DATA_VERSION`]: a counter every writing transaction bumps (SQLite's `PRAGMA data_version`) |
//! | 4 | [`NOTIFY_DATA`]: each bump also notifies channel `kuaibao_data`, for listeners (`store::postgres::notify`) |
//!
//! Migration 1 is the PostgreSQL form of the SQLite schema as its eight
//! migrations left it (`src/store/schema.sql`): the same tables with the
//! same columns, so `kuaibao migrate` copies table to table. Where the two
//! differ, it is on purpose:
//!
//! - ids are `BIGSERIAL` and every integer `BIGINT`: SQLite's INTEGER is 64
//!   bits, and the driver binds an `i64` only to an 8-byte column;
//! - the flags (`section_fixed`, `title_fixed`, `users.disabled`) stay
//!   `BIGINT` 0/1 rather than `BOOLEAN`, so a row reads back into the same
//!   Rust types from either backend and copies without conversion;
//! - `REAL` is `DOUBLE PRECISION` (SQLite's REAL is 8 bytes), `BLOB` is
//!   `BYTEA`;
//! - timestamps stay `TEXT`, the same RFC 3339 strings in Beijing time that
//!   the SQLite store writes (`store::ts`), so that text order is time
//!   order on both backends and copied values are byte for byte the same;
//! - every `TEXT` column is `COLLATE "C"`: SQLite compares text by bytes
//!   (BINARY), and a database's default collation (en_US.UTF-8,
//!   zh_CN.UTF-8) would not — it orders Chinese titles by pinyin and skips
//!   punctuation on a first pass — so ORDER BY, `<=` on timestamps and
//!   uniqueness would differ between the backends;
//! - desk search: SQLite's FTS5 trigram table (`items_fts`) and its
//!   catch-up marker (`search_index_state`) have no counterpart; `pg_trgm`
//!   GIN indexes on `items.title`, `bulletin_title` and `content_text`
//!   serve the same substring search (`ILIKE '%term%'`, case-insensitive
//!   like FTS5's trigram tokenizer and SQLite's LIKE) and PostgreSQL keeps
//!   them up to date itself. `pg_trgm` finds the trigrams of Chinese text
//!   only in a database whose `LC_CTYPE` is a UTF-8 locale (`C.UTF-8`,
//!   `zh_CN.UTF-8`…): under plain `C` a search is still right but reads
//!   every row;
//! - the story index (MinHash bands) is the same two tables;
//!   `item_bands`' primary key is its (band, key) index, as SQLite's
//!   `WITHOUT ROWID` table is.

/// Schema migrations, applied in order; version = position + 1.
pub(super) const MIGRATIONS: &[&str] = &[BASE, COORDINATION, DATA_VERSION, NOTIFY_DATA];

/// Migration 1: the SQLite schema at `user_version` 8, table for table.
/// `pg_trgm` is a trusted extension (PostgreSQL 13+): the database's owner
/// may create it without being a superuser.
const BASE: &str = r#"
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE sources (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    name                 TEXT COLLATE "C" NOT NULL,
    url                  TEXT COLLATE "C" NOT NULL,
    kind                 TEXT COLLATE "C" NOT NULL,
    last_attempt_at      TEXT COLLATE "C",
    last_success_at      TEXT COLLATE "C",
    last_error           TEXT COLLATE "C",
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    last_item_count      BIGINT,
    next_due_at          TEXT COLLATE "C",
    last_limits          TEXT COLLATE "C",
    limited_passes       BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE http_cache (
    url           TEXT COLLATE "C" PRIMARY KEY,
    etag          TEXT COLLATE "C",
    last_modified TEXT COLLATE "C",
    updated_at    TEXT COLLATE "C" NOT NULL
);

CREATE TABLE items (
    id             BIGSERIAL PRIMARY KEY,
    uid            TEXT COLLATE "C" NOT NULL UNIQUE,
    canonical_url  TEXT COLLATE "C" NOT NULL UNIQUE,
    url            TEXT COLLATE "C" NOT NULL,
    source_id      TEXT COLLATE "C" NOT NULL,
    title          TEXT COLLATE "C" NOT NULL,
    content_html   TEXT COLLATE "C" NOT NULL,
    content_text   TEXT COLLATE "C" NOT NULL,
    content_hash   TEXT COLLATE "C" NOT NULL,
    origin         TEXT COLLATE "C" NOT NULL,
    section        TEXT COLLATE "C",
    region         TEXT COLLATE "C",
    published_at   TEXT COLLATE "C",
    first_seen_at  TEXT COLLATE "C" NOT NULL,
    updated_at     TEXT COLLATE "C" NOT NULL,
    status         TEXT COLLATE "C" NOT NULL DEFAULT 'candidate'
                   CHECK (status IN ('candidate', 'approved', 'rejected', 'maybe', 'irrelevant')),
    reviewed_at    TEXT COLLATE "C",
    story_id       BIGINT NOT NULL,
    -- `地区：…` title for the bulletin; NULL = the outlet's title.
    bulletin_title TEXT COLLATE "C",
    relevance      DOUBLE PRECISION,
    -- Why it was classified so (JSON: rules that fired, model scores).
    explanation    TEXT COLLATE "C",
    -- An editor set the section / the bulletin title: the classifier
    -- leaves them alone from then on.
    section_fixed  BIGINT NOT NULL DEFAULT 0,
    title_fixed    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX items_by_content_hash ON items(content_hash) WHERE content_hash <> '';
CREATE INDEX items_by_status_published ON items(status, published_at);
CREATE INDEX items_by_story ON items(story_id);
-- The desk's search (SQLite: items_fts). One index per column, so that
-- `title ILIKE p OR bulletin_title ILIKE p OR content_text ILIKE p` is a
-- BitmapOr of the three.
CREATE INDEX items_title_trgm ON items USING gin (title gin_trgm_ops);
CREATE INDEX items_bulletin_title_trgm ON items USING gin (bulletin_title gin_trgm_ops);
CREATE INDEX items_content_text_trgm ON items USING gin (content_text gin_trgm_ops);

CREATE TABLE item_links (
    item_id       BIGINT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    source_id     TEXT COLLATE "C" NOT NULL,
    guid          TEXT COLLATE "C",
    url           TEXT COLLATE "C" NOT NULL,
    canonical_url TEXT COLLATE "C" NOT NULL,
    first_seen_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (source_id, canonical_url)
);
CREATE UNIQUE INDEX item_links_by_guid ON item_links(source_id, guid) WHERE guid IS NOT NULL;
CREATE INDEX item_links_by_canonical_url ON item_links(canonical_url);
CREATE INDEX item_links_by_item ON item_links(item_id);

CREATE TABLE fetch_log (
    id          BIGSERIAL PRIMARY KEY,
    source_id   TEXT COLLATE "C" NOT NULL,
    url         TEXT COLLATE "C" NOT NULL,
    started_at  TEXT COLLATE "C" NOT NULL,
    duration_ms BIGINT NOT NULL,
    outcome     TEXT COLLATE "C" NOT NULL CHECK (outcome IN ('ok', 'not-modified', 'failed')),
    items_found BIGINT,
    items_new   BIGINT,
    error       TEXT COLLATE "C",
    limits      TEXT COLLATE "C"
);
CREATE INDEX fetch_log_by_source ON fetch_log(source_id, started_at);

CREATE TABLE stories (
    id           BIGSERIAL PRIMARY KEY,
    -- The feed entry's identity: the uid of the item that opened the story.
    uid          TEXT COLLATE "C" NOT NULL UNIQUE,
    primary_item BIGINT NOT NULL,
    created_at   TEXT COLLATE "C" NOT NULL,
    updated_at   TEXT COLLATE "C" NOT NULL
);

-- The dedup stage's candidate index (see `store::schema`, migration 2).
CREATE TABLE item_fingerprints (
    item_id  BIGINT PRIMARY KEY,
    day      BIGINT NOT NULL,
    shingles BIGINT NOT NULL,
    minhash  BYTEA NOT NULL
);
CREATE TABLE item_bands (
    band    BIGINT NOT NULL,
    key     BIGINT NOT NULL,
    item_id BIGINT NOT NULL,
    PRIMARY KEY (band, key, item_id)
);

-- Every approve / reject / move an editor made: the classifier's training
-- data. `section` is the label (NULL = off-topic).
CREATE TABLE decisions (
    id      BIGSERIAL PRIMARY KEY,
    item_id BIGINT NOT NULL,
    at      TEXT COLLATE "C" NOT NULL,
    action  TEXT COLLATE "C" NOT NULL CHECK (action IN ('approve', 'reject', 'move', 'relevant')),
    section TEXT COLLATE "C",
    editor  TEXT COLLATE "C"
);
CREATE INDEX decisions_by_item ON decisions(item_id);
CREATE TABLE classifier_model (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    decisions  BIGINT NOT NULL,
    trained_at TEXT COLLATE "C" NOT NULL,
    model      TEXT COLLATE "C" NOT NULL
);

-- The desk's accounts (see `store::schema`, migration 3, for why the
-- audit log names users rather than referring to them).
CREATE TABLE users (
    id                  BIGSERIAL PRIMARY KEY,
    name                TEXT COLLATE "C" NOT NULL UNIQUE,
    role                TEXT COLLATE "C" NOT NULL CHECK (role IN ('editor', 'admin')),
    password_hash       TEXT COLLATE "C" NOT NULL,
    created_at          TEXT COLLATE "C" NOT NULL,
    password_changed_at TEXT COLLATE "C" NOT NULL,
    disabled            BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
    token_hash     TEXT COLLATE "C" PRIMARY KEY,
    user_id        BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token     TEXT COLLATE "C" NOT NULL,
    created_at     TEXT COLLATE "C" NOT NULL,
    expires_at     TEXT COLLATE "C" NOT NULL,
    max_expires_at TEXT COLLATE "C" NOT NULL,
    idle_secs      BIGINT NOT NULL,
    last_seen_at   TEXT COLLATE "C" NOT NULL,
    address        TEXT COLLATE "C",
    user_agent     TEXT COLLATE "C"
);
CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);
CREATE TABLE audit_log (
    id        BIGSERIAL PRIMARY KEY,
    at        TEXT COLLATE "C" NOT NULL,
    user_name TEXT COLLATE "C" NOT NULL,
    action    TEXT COLLATE "C" NOT NULL,
    item_id   BIGINT,
    story_id  BIGINT,
    before    TEXT COLLATE "C",
    after     TEXT COLLATE "C",
    detail    TEXT COLLATE "C"
);
CREATE INDEX audit_log_by_at ON audit_log(at);
CREATE INDEX audit_log_by_item ON audit_log(item_id) WHERE item_id IS NOT NULL;

-- Issues (期) of the bulletin and the stories each holds, in print order.
CREATE TABLE issues (
    id           BIGSERIAL PRIMARY KEY,
    number       TEXT COLLATE "C" NOT NULL UNIQUE,
    issue_date   TEXT COLLATE "C" NOT NULL, -- YYYY-MM-DD, printed under the masthead
    status       TEXT COLLATE "C" NOT NULL CHECK (status IN ('draft', 'published')),
    created_at   TEXT COLLATE "C" NOT NULL,
    updated_at   TEXT COLLATE "C" NOT NULL,
    published_at TEXT COLLATE "C"
);
CREATE TABLE issue_stories (
    issue_id BIGINT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    story_id BIGINT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (issue_id, story_id)
);
CREATE INDEX issue_stories_by_story ON issue_stories(story_id);

-- Selectors repaired after a redesign (issue 13).
CREATE TABLE source_repairs (
    id          BIGSERIAL PRIMARY KEY,
    source_id   TEXT COLLATE "C" NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL,
    status      TEXT COLLATE "C" NOT NULL CHECK (status IN ('proposed', 'applied', 'failed', 'dismissed')),
    what        TEXT COLLATE "C" NOT NULL,
    confidence  DOUBLE PRECISION NOT NULL,
    old_toml    TEXT COLLATE "C" NOT NULL,
    new_toml    TEXT COLLATE "C" NOT NULL,
    evidence    TEXT COLLATE "C" NOT NULL,
    decided_at  TEXT COLLATE "C",
    decided_by  TEXT COLLATE "C"
);
CREATE INDEX source_repairs_by_source ON source_repairs(source_id, id);
"#;

/// Migration 2: what lets many pollers share one database (issue 15);
/// PostgreSQL only, and never copied by `kuaibao migrate` (it is the state
/// of running processes, not data).
///
/// `source_leases`: one row per source, which poller holds it and until
/// when. A row exists for every source (the trigger adds it, the INSERT
/// below adds those already there), so that a claim can lock the source's
/// row and its lease row together: see `PgStore::claim_due_sources` for
/// why both. `host_budget`: per host, when the next request may start,
/// shared by every poller (`PgStore::take_host_turn`).
///
/// Unlike the tables of migration 1 these keep `TIMESTAMPTZ`: nothing
/// compares them with SQLite's strings, and a host's turn needs
/// sub-second precision that the stored strings (whole seconds) lack.
const COORDINATION: &str = r#"
CREATE TABLE source_leases (
    source_id  TEXT COLLATE "C" PRIMARY KEY REFERENCES sources(id) ON DELETE CASCADE,
    -- NULL: nobody holds the source.
    holder     TEXT COLLATE "C",
    expires_at TIMESTAMPTZ,
    claimed_at TIMESTAMPTZ,
    CHECK ((holder IS NULL) = (expires_at IS NULL))
);
INSERT INTO source_leases (source_id) SELECT id FROM sources;
CREATE FUNCTION kuaibao_source_lease_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO source_leases (source_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER sources_lease_row AFTER INSERT ON sources
    FOR EACH ROW EXECUTE FUNCTION kuaibao_source_lease_row();

CREATE TABLE host_budget (
    host            TEXT COLLATE "C" PRIMARY KEY,
    -- No request to this host starts before this.
    next_allowed_at TIMESTAMPTZ NOT NULL
);
"#;

/// Migration 3: what `ItemStore::data_version` reads, PostgreSQL having no
/// `PRAGMA data_version`. The served documents' cheap check compares it to
/// learn whether another process committed anything.
///
/// One row, bumped once per transaction that inserts, updates or deletes
/// rows of a data table, by triggers, so that every writer bumps it
/// without having to remember to (the other traits' writes included). The
/// triggers are constraint triggers `INITIALLY DEFERRED`: they run at
/// commit, so the row is locked only for the commit's last moment (an
/// ordinary trigger would hold its lock from a transaction's first write
/// to its commit, serialising every writer on it), and a reader never sees
/// the new number before the data it stands for: the bump commits with
/// that data. A sequence would not do: `nextval` is visible to others at
/// once, before the data commits, and is never rolled back.
///
/// Left out: the dedup index (`item_fingerprints`, `item_bands`, written
/// only with an item or by a backfill that changes nothing readers see),
/// and migration 2's coordination tables (leases and host turns change
/// every few seconds and are no data).
const DATA_VERSION: &str = r#"
CREATE TABLE data_version (
    id      BIGINT PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO data_version (id, version) VALUES (1, 0);

-- Once per transaction: the first row event at commit bumps, the others
-- find the transaction-local mark and return.
CREATE FUNCTION kuaibao_bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('kuaibao.data_version_bumped', true) IS DISTINCT FROM txid_current()::text THEN
        PERFORM set_config('kuaibao.data_version_bumped', txid_current()::text, true);
        UPDATE data_version SET version = version + 1 WHERE id = 1;
    END IF;
    RETURN NULL;
END
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['sources', 'http_cache', 'items', 'item_links', 'fetch_log',
                             'stories', 'decisions', 'classifier_model', 'users', 'sessions',
                             'audit_log', 'issues', 'issue_stories', 'source_repairs']
    LOOP
        EXECUTE format(
            'CREATE CONSTRAINT TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
             EXECUTE FUNCTION kuaibao_bump_data_version()',
            t || '_data_version', t);
    END LOOP;
END
$$;
"#;

/// Migration 4: every bump of migration 3's counter also announces itself
/// on channel `kuaibao_data` (payload: the new version), so that a process
/// serving documents from the database learns of another's commit by
/// `LISTEN` (`store::postgres::notify`) instead of reading
/// `data_version` over and over.
///
/// Only the function changes: the triggers of migration 3 call it by name.
/// They run at commit, and PostgreSQL delivers a notification only when,
/// and if, its transaction commits: a listener is told of exactly the
/// transactions whose data others can now read, after they can read it,
/// and never of one rolled back. Once per transaction, as the bump is.
/// Since the database does it, no writer can forget to: every store
/// method that writes a data table notifies, and so does a change made by
/// hand in `psql`.
const NOTIFY_DATA: &str = r#"
CREATE OR REPLACE FUNCTION kuaibao_bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v BIGINT;
BEGIN
    IF current_setting('kuaibao.data_version_bumped', true) IS DISTINCT FROM txid_current()::text THEN
        PERFORM set_config('kuaibao.data_version_bumped', txid_current()::text, true);
        UPDATE data_version SET version = version + 1 WHERE id = 1 RETURNING version INTO v;
        PERFORM pg_notify('kuaibao_data', v::text);
    END IF;
    RETURN NULL;
END
$$;
"#;

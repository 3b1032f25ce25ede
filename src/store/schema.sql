-- The schema of a kuaibao database at user_version 8, as sqlite_master
-- holds it, written from the migrations as they shipped before the store
-- kept them in src/store/schema.rs. A new migration changes this file in
-- the same commit; a change to an object that shipped is a bug (see the
-- tests in src/store/schema.rs).

-- index audit_log_by_at
CREATE INDEX audit_log_by_at ON audit_log(at);

-- index audit_log_by_item
CREATE INDEX audit_log_by_item ON audit_log(item_id) WHERE item_id IS NOT NULL;

-- index decisions_by_item
CREATE INDEX decisions_by_item ON decisions(item_id);

-- index fetch_log_by_source
CREATE INDEX fetch_log_by_source ON fetch_log(source_id, started_at);

-- index issue_stories_by_story
CREATE INDEX issue_stories_by_story ON issue_stories(story_id);

-- index item_links_by_canonical_url
CREATE INDEX item_links_by_canonical_url ON item_links(canonical_url);

-- index item_links_by_guid
CREATE UNIQUE INDEX item_links_by_guid ON item_links(source_id, guid) WHERE guid IS NOT NULL;

-- index item_links_by_item
CREATE INDEX item_links_by_item ON item_links(item_id);

-- index items_by_content_hash
CREATE INDEX items_by_content_hash ON items(content_hash) WHERE content_hash <> '';

-- index items_by_status_published
CREATE INDEX items_by_status_published ON items(status, published_at);

-- index items_by_story
CREATE INDEX items_by_story ON items(story_id);

-- index sessions_by_expiry
CREATE INDEX sessions_by_expiry ON sessions(expires_at);

-- index sessions_by_user
CREATE INDEX sessions_by_user ON sessions(user_id);

-- index source_repairs_by_source
CREATE INDEX source_repairs_by_source ON source_repairs(source_id, id);

-- table audit_log
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

-- table classifier_model
CREATE TABLE classifier_model (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    decisions  INTEGER NOT NULL,
    trained_at TEXT NOT NULL,
    model      TEXT NOT NULL
);

-- table decisions
CREATE TABLE decisions (
    id      INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL,
    at      TEXT NOT NULL,
    action  TEXT NOT NULL CHECK (action IN ('approve', 'reject', 'move', 'relevant')),
    section TEXT,
    editor  TEXT
);

-- table fetch_log
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
, limits TEXT);

-- table http_cache
CREATE TABLE http_cache (
    url           TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    updated_at    TEXT NOT NULL
);

-- table issue_stories
CREATE TABLE issue_stories (
    issue_id INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    story_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (issue_id, story_id)
);

-- table issues
CREATE TABLE issues (
    id           INTEGER PRIMARY KEY,
    number       TEXT NOT NULL UNIQUE,
    issue_date   TEXT NOT NULL, -- YYYY-MM-DD, printed under the masthead
    status       TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    published_at TEXT
);

-- table item_bands
CREATE TABLE item_bands (
    band    INTEGER NOT NULL,
    key     INTEGER NOT NULL,
    item_id INTEGER NOT NULL,
    PRIMARY KEY (band, key, item_id)
) WITHOUT ROWID;

-- table item_bands_recent
CREATE TABLE item_bands_recent (
    band    INTEGER NOT NULL,
    key     INTEGER NOT NULL,
    item_id INTEGER NOT NULL,
    PRIMARY KEY (band, key, item_id)
) WITHOUT ROWID;

-- table item_fingerprints
CREATE TABLE item_fingerprints (
    item_id  INTEGER PRIMARY KEY,
    day      INTEGER NOT NULL,
    shingles INTEGER NOT NULL,
    minhash  BLOB NOT NULL
);

-- table item_links
CREATE TABLE item_links (
    item_id       INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    source_id     TEXT NOT NULL,
    guid          TEXT,
    url           TEXT NOT NULL,
    canonical_url TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    PRIMARY KEY (source_id, canonical_url)
);

-- table items
CREATE TABLE "items" (
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

-- table items_fts
CREATE VIRTUAL TABLE items_fts USING fts5(
    title, bulletin_title, content_text,
    content = 'items', content_rowid = 'id', tokenize = 'trigram'
);

-- table items_fts_config
CREATE TABLE 'items_fts_config'(k PRIMARY KEY, v) WITHOUT ROWID;

-- table items_fts_data
CREATE TABLE 'items_fts_data'(id INTEGER PRIMARY KEY, block BLOB);

-- table items_fts_docsize
CREATE TABLE 'items_fts_docsize'(id INTEGER PRIMARY KEY, sz BLOB);

-- table items_fts_idx
CREATE TABLE 'items_fts_idx'(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID;

-- table search_index_state
CREATE TABLE search_index_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_upto INTEGER NOT NULL
);

-- table sessions
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

-- table source_repairs
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

-- table sources
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
, last_limits TEXT, limited_passes INTEGER NOT NULL DEFAULT 0);

-- table stories
CREATE TABLE stories (
    id           INTEGER PRIMARY KEY,
    -- The feed entry's identity: the uid of the item that opened the story.
    uid          TEXT NOT NULL UNIQUE,
    primary_item INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

-- table users
CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    role                TEXT NOT NULL CHECK (role IN ('editor', 'admin')),
    password_hash       TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    disabled            INTEGER NOT NULL DEFAULT 0
);

-- trigger items_fts_delete
CREATE TRIGGER items_fts_delete AFTER DELETE ON items
WHEN old.id <= (SELECT indexed_upto FROM search_index_state) BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, bulletin_title, content_text)
        VALUES ('delete', old.id, old.title, old.bulletin_title, old.content_text);
END;

-- trigger items_fts_update
CREATE TRIGGER items_fts_update AFTER UPDATE OF title, bulletin_title, content_text ON items
WHEN old.id <= (SELECT indexed_upto FROM search_index_state) BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, bulletin_title, content_text)
        VALUES ('delete', old.id, old.title, old.bulletin_title, old.content_text);
    INSERT INTO items_fts (rowid, title, bulletin_title, content_text)
        VALUES (new.id, new.title, new.bulletin_title, new.content_text);
END;

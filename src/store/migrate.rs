//! `kuaibao migrate`: a SQLite database copied into an empty PostgreSQL
//! one, table for table, every row with its ids, and checked (issue 15,
//! "Moving"). Part of the store layer because it is SQL on both sides; its
//! one job is the copy and the proof that it is whole.
//!
//! How, and why so:
//!
//! - **One PostgreSQL transaction** holds the whole copy, the sequence
//!   resets and the verification. It commits only when every table
//!   verified, so a migration that fails or does not match leaves the
//!   target as it found it: empty (with kuaibao's schema, which
//!   [`PgStore::connect`] creates and a second attempt reuses).
//! - **The target must be empty**: every table of the PostgreSQL database
//!   (but `schema_migrations`) is locked against writers and counted first,
//!   and one holding rows is refused by name. Copying into a database in
//!   use would mix two histories under the same ids. The lock also makes a
//!   second `migrate` started at the same time wait, then find the rows of
//!   the first and refuse.
//! - **One SQLite read transaction** reads every table from one snapshot
//!   (WAL), so a poller still writing to the SQLite file cannot leave the
//!   copy half old, half new; what it writes later is not copied.
//! - **COPY … FROM STDIN (binary)** streams the rows: no statement per
//!   row, no row count limit, the values in the driver's binary form (a
//!   REAL keeps its every bit). Ids are copied as they are and each
//!   `BIGSERIAL` sequence is then set past the largest, so the next row
//!   PostgreSQL numbers does not collide.
//! - **Verification** reads every table back from PostgreSQL, inside the
//!   same transaction, in primary-key order, and hashes each value in one
//!   canonical form (below) — the same function over what SQLite gave and
//!   over what PostgreSQL gives back, each through its own driver. Equal
//!   row counts and equal SHA-256 per table is the proof; nothing is taken
//!   on trust from the writing side.
//! - Values are copied only when the types agree exactly (an INTEGER into
//!   BIGINT, REAL into DOUBLE PRECISION, TEXT into TEXT, BLOB into BYTEA).
//!   SQLite is dynamically typed; a value that does not fit (text in an
//!   integer column, text that is not UTF-8 or holds a NUL, which
//!   PostgreSQL's text cannot) stops the migration with the table, the
//!   row's key and the column, rather than being changed on the way.
//!
//! The tables copied are those of the SQLite schema (`store/schema.sql`)
//! (`item_bands_recent`'s rows as rows of `item_bands`, which they are,
//! not yet merged) but its full-text search index (`items_fts*`,
//! `search_index_state`):
//! PostgreSQL searches with `pg_trgm` indexes that it builds from the
//! copied items itself. The PostgreSQL-only tables (leases, host budgets)
//! hold the state of running pollers, not data; the lease rows that a
//! trigger adds for each source are all that appears there.

use std::path::Path;
use std::time::Duration;

use ::postgres::binary_copy::BinaryCopyInWriter;
use ::postgres::fallible_iterator::FallibleIterator;
use ::postgres::types::{ToSql, Type};
use ::postgres::{Row, Transaction};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use sha2::{Digest, Sha256};

use super::postgres::PgStore;
use super::{SqliteStore, StoreError};

/// The tables copied, each before any table that refers to it (PostgreSQL
/// checks `item_links → items`, `sessions → users`, `issue_stories →
/// issues` row by row).
pub const COPIED_TABLES: &[&str] = &[
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
];

/// SQLite tables whose rows are copied as rows of another: the dedup
/// index's newest band keys (`item_bands_recent`, migration 9) are
/// `item_bands` rows not yet merged into it. PostgreSQL has the one table.
pub const COPIED_WITHIN: &[(&str, &str)] = &[("item_bands_recent", "item_bands")];

/// SQLite's full-text search index (the FTS5 table, its shadow tables, its
/// catch-up marker): no PostgreSQL counterpart, see the module doc.
pub const SQLITE_ONLY_TABLES: &[&str] = &[
    "items_fts",
    "items_fts_config",
    "items_fts_data",
    "items_fts_docsize",
    "items_fts_idx",
    "search_index_state",
];

/// The PostgreSQL tables that hold kuaibao's bookkeeping, not data: the
/// migrations applied, and the one-row counter of committed writes that
/// the schema creates (`data_version`).
const BOOKKEEPING_TABLES: [&str; 2] = ["schema_migrations", "data_version"];

/// How often (in rows) the copy reports progress.
const PROGRESS_EVERY: u64 = 2_000;

/// Why a migration did not start or could not go on.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "{path}: no such SQLite database (the `[storage] database` of the configuration); nothing to migrate"
    )]
    NoSource { path: String },
    #[error(
        "PostgreSQL {target} is not empty: {found}. kuaibao migrate copies only into an empty database \
         (create a new one); nothing was changed"
    )]
    NotEmpty { target: String, found: String },
    #[error(
        "SQLite table {table} has no PostgreSQL counterpart in this kuaibao: the database is newer \
         than this build or was changed by hand; nothing was copied"
    )]
    UnknownTable { table: String },
    #[error("SQLite database has no table {table}; nothing was copied")]
    MissingTable { table: String },
    #[error(
        "table {table}: the columns differ — SQLite has ({sqlite}), PostgreSQL has ({postgres}); nothing was copied"
    )]
    Columns {
        table: String,
        sqlite: String,
        postgres: String,
    },
    #[error(
        "table {table}, column {column}: PostgreSQL type {pg_type} is not one kuaibao copies into"
    )]
    ColumnType {
        table: String,
        column: String,
        pg_type: String,
    },
    #[error("table {table}, row {key}, column {column}: {problem}; nothing was copied")]
    Value {
        table: String,
        key: String,
        column: String,
        problem: String,
    },
    #[error("table {table}: {read} rows read from SQLite but COPY stored {stored}")]
    Stored {
        table: String,
        read: u64,
        stored: u64,
    },
}

/// What the migration is doing, for a progress display.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// `rows` of `table` copied so far (reported every few thousand rows
    /// and once at the end of the table).
    Copying { table: &'a str, rows: u64 },
    /// Reading `table` back from PostgreSQL to check it.
    Verifying { table: &'a str },
}

/// One table, counted and hashed on both sides.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableCheck {
    pub table: String,
    pub sqlite_rows: u64,
    pub postgres_rows: u64,
    /// SHA-256 of the table's rows in canonical form, hex.
    pub sqlite_checksum: String,
    pub postgres_checksum: String,
}

impl TableCheck {
    pub fn rows_match(&self) -> bool {
        self.sqlite_rows == self.postgres_rows
    }

    pub fn checksum_matches(&self) -> bool {
        self.sqlite_checksum == self.postgres_checksum
    }
}

/// What a migration did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationReport {
    /// The target as messages name it (`user@host:port/db`, no password).
    pub target: String,
    /// Every copied table, in copy order.
    pub tables: Vec<TableCheck>,
    /// SQLite tables deliberately not copied (present in this database).
    pub not_copied: Vec<String>,
    /// Whether the copy was committed: only when every table matched.
    /// Otherwise it was rolled back and the target is empty.
    pub committed: bool,
}

impl MigrationReport {
    /// Every table's rows and checksum match, and the copy is committed.
    pub fn verified(&self) -> bool {
        self.committed
            && self
                .tables
                .iter()
                .all(|t| t.rows_match() && t.checksum_matches())
    }
}

/// Copies the SQLite database at `sqlite_path` into the empty PostgreSQL
/// database at `pg_url` and verifies the copy (see the module doc). The
/// SQLite database is first brought to this build's schema, as any command
/// does on opening it; otherwise it is only read.
///
/// A target that holds rows is refused ([`MigrateError::NotEmpty`]); a
/// copy whose verification fails is rolled back and reported with
/// `committed: false`.
pub fn migrate_sqlite_to_postgres(
    sqlite_path: &Path,
    pg_url: &str,
    mut progress: impl FnMut(Progress<'_>),
) -> Result<MigrationReport, StoreError> {
    // `SqliteStore::open` would create a missing file: a mistyped path
    // must not "migrate" an empty database.
    if !sqlite_path.is_file() {
        return Err(MigrateError::NoSource {
            path: sqlite_path.display().to_string(),
        }
        .into());
    }
    // Migrations, as any command runs them, so that the columns are this
    // build's; closed again (checkpointing its log) before the copy.
    drop(SqliteStore::open(sqlite_path)?);
    let mut sqlite = Connection::open_with_flags(
        sqlite_path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|source| StoreError::Open {
        path: sqlite_path.display().to_string(),
        source,
    })?;
    // A writer's commit briefly blocks the start of a read transaction.
    sqlite.busy_timeout(Duration::from_secs(30))?;
    // Deferred: the snapshot is taken at the first read and kept to the end.
    let snapshot = sqlite.transaction_with_behavior(TransactionBehavior::Deferred)?;
    let not_copied = check_sqlite_tables(&snapshot)?;

    let (mut client, target) = PgStore::connect(pg_url)?.into_parts();
    let mut tx = client.transaction()?;
    refuse_unless_empty(&mut tx, &target)?;

    let mut plans = Vec::with_capacity(COPIED_TABLES.len());
    for table in COPIED_TABLES {
        plans.push(plan(&snapshot, &mut tx, table)?);
    }
    let mut sqlite_sums = Vec::with_capacity(plans.len());
    for p in &plans {
        sqlite_sums.push(copy_table(&snapshot, &mut tx, p, &mut progress)?);
    }
    // SQLite has given all it will: end its read transaction before the
    // PostgreSQL commit, so that nothing can fail after that commit.
    snapshot.finish()?;
    for p in &plans {
        reset_sequences(&mut tx, p)?;
    }
    let mut tables = Vec::with_capacity(plans.len());
    for (p, (sqlite_rows, sqlite_checksum)) in plans.iter().zip(sqlite_sums) {
        progress(Progress::Verifying { table: &p.table });
        let (postgres_rows, postgres_checksum) = postgres_checksum(&mut tx, p)?;
        tables.push(TableCheck {
            table: p.table.clone(),
            sqlite_rows,
            postgres_rows,
            sqlite_checksum,
            postgres_checksum,
        });
    }
    let all_match = tables
        .iter()
        .all(|t| t.rows_match() && t.checksum_matches());
    if all_match {
        tx.commit()?;
    } else {
        // Explicit, though dropping would do the same: nothing is kept.
        tx.rollback()?;
    }
    Ok(MigrationReport {
        target,
        tables,
        not_copied,
        committed: all_match,
    })
}

/// Every SQLite table is one this build copies or knows to leave out;
/// returns those left out that the database has.
fn check_sqlite_tables(sqlite: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = sqlite.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
         ORDER BY name",
    )?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut not_copied = Vec::new();
    for name in &names {
        if SQLITE_ONLY_TABLES.contains(&name.as_str()) {
            not_copied.push(name.clone());
        } else if COPIED_WITHIN.iter().any(|(t, _)| t == name) {
            continue;
        } else if !COPIED_TABLES.contains(&name.as_str()) {
            return Err(MigrateError::UnknownTable {
                table: name.clone(),
            }
            .into());
        }
    }
    if let Some(missing) = COPIED_TABLES
        .iter()
        .find(|t| !names.iter().any(|n| n == *t))
    {
        return Err(MigrateError::MissingTable {
            table: missing.to_string(),
        }
        .into());
    }
    Ok(not_copied)
}

/// Locks every table of the target against writers for the rest of the
/// transaction, then refuses if any holds a row.
fn refuse_unless_empty(tx: &mut Transaction<'_>, target: &str) -> Result<(), StoreError> {
    let tables: Vec<String> = tx
        .query(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
               AND table_name <> ALL($1)
             ORDER BY table_name",
            &[&&BOOKKEEPING_TABLES[..]],
        )?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    if tables.is_empty() {
        return Ok(());
    }
    let list = tables
        .iter()
        .map(|t| quote(t))
        .collect::<Vec<_>>()
        .join(", ");
    // SHARE ROW EXCLUSIVE: readers go on, writers (and another migrate,
    // which asks for the same lock) wait until this one ends.
    tx.batch_execute(&format!("LOCK TABLE {list} IN SHARE ROW EXCLUSIVE MODE"))?;
    let mut found = Vec::new();
    for t in &tables {
        // Counting stops past 1000: the message needs no exact figure, and
        // a full count of a large table would take a while.
        let n: i64 = tx
            .query_one(
                &format!(
                    "SELECT count(*) FROM (SELECT 1 FROM {} LIMIT 1001) AS t",
                    quote(t)
                ),
                &[],
            )?
            .try_get(0)?;
        match n {
            0 => {}
            1 => found.push(format!("{t} has 1 row")),
            1001.. => found.push(format!("{t} has more than 1000 rows")),
            n => found.push(format!("{t} has {n} rows")),
        }
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(MigrateError::NotEmpty {
            target: target.to_string(),
            found: found.join(", "),
        }
        .into())
    }
}

/// A PostgreSQL column's type, as the copy handles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Real,
    Text,
    Blob,
}

impl Kind {
    fn of(data_type: &str) -> Option<Kind> {
        match data_type {
            "bigint" => Some(Kind::Int),
            "double precision" => Some(Kind::Real),
            "text" => Some(Kind::Text),
            "bytea" => Some(Kind::Blob),
            _ => None,
        }
    }

    fn pg_type(self) -> Type {
        match self {
            Kind::Int => Type::INT8,
            Kind::Real => Type::FLOAT8,
            Kind::Text => Type::TEXT,
            Kind::Blob => Type::BYTEA,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Int => "BIGINT",
            Kind::Real => "DOUBLE PRECISION",
            Kind::Text => "TEXT",
            Kind::Blob => "BYTEA",
        }
    }
}

/// How one table is copied: its columns (SQLite's order) with their
/// PostgreSQL types, and the order rows are read in on both sides.
#[derive(Debug)]
struct Plan {
    table: String,
    columns: Vec<(String, Kind)>,
    /// Indexes into `columns`: the primary key, in key order (every column
    /// when a table has none, so that the order is still total).
    key: Vec<usize>,
}

impl Plan {
    fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(c, _)| quote(c))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `ORDER BY` the key. Both sides compare text by its bytes (SQLite's
    /// BINARY, PostgreSQL's "C", which every kuaibao text column has and
    /// which is spelled out here all the same), so the orders agree.
    fn order_by(&self, postgres: bool) -> String {
        self.key
            .iter()
            .map(|&i| {
                let (name, kind) = &self.columns[i];
                if postgres && *kind == Kind::Text {
                    format!("{} COLLATE \"C\"", quote(name))
                } else {
                    quote(name)
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn select(&self, postgres: bool) -> String {
        format!(
            "SELECT {} FROM {} ORDER BY {}",
            self.column_list(),
            if postgres {
                quote(&self.table)
            } else {
                sqlite_source(&self.table)
            },
            self.order_by(postgres)
        )
    }
}

/// Where a table's rows are read on the SQLite side: the table, and the
/// tables copied within it ([`COPIED_WITHIN`], the same columns in the same
/// order).
fn sqlite_source(table: &str) -> String {
    let within: Vec<String> = COPIED_WITHIN
        .iter()
        .filter(|(_, into)| *into == table)
        .map(|(t, _)| format!(" UNION SELECT * FROM {}", quote(t)))
        .collect();
    if within.is_empty() {
        quote(table)
    } else {
        format!("(SELECT * FROM {}{})", quote(table), within.concat())
    }
}

fn plan(sqlite: &Connection, tx: &mut Transaction<'_>, table: &str) -> Result<Plan, StoreError> {
    let mut stmt = sqlite.prepare("SELECT name, pk FROM pragma_table_info(?1) ORDER BY cid")?;
    let sqlite_cols = stmt
        .query_map([table], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let pg_cols: Vec<(String, String)> = tx
        .query(
            "SELECT column_name::text, data_type::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1
             ORDER BY ordinal_position",
            &[&table],
        )?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, ::postgres::Error>>()?;

    let mut sqlite_names: Vec<&str> = sqlite_cols.iter().map(|(n, _)| n.as_str()).collect();
    let mut pg_names: Vec<&str> = pg_cols.iter().map(|(n, _)| n.as_str()).collect();
    sqlite_names.sort_unstable();
    pg_names.sort_unstable();
    if sqlite_names != pg_names {
        return Err(MigrateError::Columns {
            table: table.to_string(),
            sqlite: sqlite_names.join(", "),
            postgres: pg_names.join(", "),
        }
        .into());
    }
    let mut columns = Vec::with_capacity(sqlite_cols.len());
    for (name, _) in &sqlite_cols {
        let data_type = pg_cols
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
            .unwrap_or_default();
        let kind = Kind::of(data_type).ok_or_else(|| MigrateError::ColumnType {
            table: table.to_string(),
            column: name.clone(),
            pg_type: data_type.to_string(),
        })?;
        columns.push((name.clone(), kind));
    }
    let mut key: Vec<(i64, usize)> = sqlite_cols
        .iter()
        .enumerate()
        .filter(|(_, (_, pk))| *pk > 0)
        .map(|(i, (_, pk))| (*pk, i))
        .collect();
    key.sort_unstable();
    let mut key: Vec<usize> = key.into_iter().map(|(_, i)| i).collect();
    if key.is_empty() {
        key = (0..columns.len()).collect();
    }
    Ok(Plan {
        table: table.to_string(),
        columns,
        key,
    })
}

/// A value on its way to PostgreSQL, typed as its column is (a NULL too:
/// the binary COPY checks each value's type against the column's).
enum Cell<'a> {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<&'a str>),
    Blob(Option<&'a [u8]>),
}

impl Cell<'_> {
    fn as_sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Cell::Int(v) => v,
            Cell::Real(v) => v,
            Cell::Text(v) => v,
            Cell::Blob(v) => v,
        }
    }
}

/// SQLite's value as the column's PostgreSQL type, or why it cannot be.
fn convert(value: ValueRef<'_>, kind: Kind) -> Result<Cell<'_>, String> {
    let mismatch = |what: &str| {
        format!(
            "SQLite holds {what} where PostgreSQL has {}, and kuaibao does not convert values",
            kind.name()
        )
    };
    Ok(match (value, kind) {
        (ValueRef::Null, Kind::Int) => Cell::Int(None),
        (ValueRef::Null, Kind::Real) => Cell::Real(None),
        (ValueRef::Null, Kind::Text) => Cell::Text(None),
        (ValueRef::Null, Kind::Blob) => Cell::Blob(None),
        (ValueRef::Integer(i), Kind::Int) => Cell::Int(Some(i)),
        (ValueRef::Real(f), Kind::Real) => Cell::Real(Some(f)),
        (ValueRef::Text(bytes), Kind::Text) => {
            let text = std::str::from_utf8(bytes)
                .map_err(|e| format!("SQLite holds text that is not UTF-8 ({e})"))?;
            if text.contains('\0') {
                return Err(
                    "SQLite holds text with a NUL character, which PostgreSQL text cannot store"
                        .into(),
                );
            }
            Cell::Text(Some(text))
        }
        (ValueRef::Blob(bytes), Kind::Blob) => Cell::Blob(Some(bytes)),
        (ValueRef::Integer(_), _) => return Err(mismatch("an integer")),
        (ValueRef::Real(_), _) => return Err(mismatch("a real number")),
        (ValueRef::Text(_), _) => return Err(mismatch("text")),
        (ValueRef::Blob(_), _) => return Err(mismatch("a blob")),
    })
}

/// The canonical form both sides hash: per value a tag byte, then for a
/// number its 8 bytes (big-endian; a REAL's IEEE bits, so -0.0 and every
/// last bit count), for text or bytes their length (8 bytes) and the bytes
/// themselves, for NULL nothing. Self-delimiting, so the concatenation of
/// a table's rows (fixed column count, key order) has one reading.
enum Canon<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

fn hash_value(h: &mut Sha256, v: Canon<'_>) {
    match v {
        Canon::Null => h.update(b"N"),
        Canon::Int(i) => {
            h.update(b"I");
            h.update(i.to_be_bytes());
        }
        Canon::Real(f) => {
            h.update(b"R");
            h.update(f.to_bits().to_be_bytes());
        }
        Canon::Text(b) => {
            h.update(b"T");
            h.update((b.len() as u64).to_be_bytes());
            h.update(b);
        }
        Canon::Blob(b) => {
            h.update(b"B");
            h.update((b.len() as u64).to_be_bytes());
            h.update(b);
        }
    }
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Copies one table; returns SQLite's row count and checksum.
fn copy_table(
    sqlite: &Connection,
    tx: &mut Transaction<'_>,
    p: &Plan,
    progress: &mut impl FnMut(Progress<'_>),
) -> Result<(u64, String), StoreError> {
    let mut stmt = sqlite.prepare(&p.select(false))?;
    let mut rows = stmt.query([])?;
    let types: Vec<Type> = p.columns.iter().map(|(_, k)| k.pg_type()).collect();
    let copy = tx.copy_in(&format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary)",
        quote(&p.table),
        p.column_list()
    ))?;
    let mut writer = BinaryCopyInWriter::new(copy, &types);
    let mut hasher = Sha256::new();
    let mut read: u64 = 0;
    while let Some(row) = rows.next()? {
        // Per row: the cells borrow from the row, which the next step of
        // the cursor invalidates.
        let mut cells = Vec::with_capacity(p.columns.len());
        for (i, (column, kind)) in p.columns.iter().enumerate() {
            let value = row.get_ref(i)?;
            hash_value(&mut hasher, canon_sqlite(value));
            let cell = convert(value, *kind).map_err(|problem| MigrateError::Value {
                table: p.table.clone(),
                key: sqlite_key(row, p),
                column: column.clone(),
                problem,
            })?;
            cells.push(cell);
        }
        let values: Vec<&(dyn ToSql + Sync)> = cells.iter().map(Cell::as_sql).collect();
        writer.write(&values)?;
        read += 1;
        if read.is_multiple_of(PROGRESS_EVERY) {
            progress(Progress::Copying {
                table: &p.table,
                rows: read,
            });
        }
    }
    let stored = writer.finish()?;
    if stored != read {
        return Err(MigrateError::Stored {
            table: p.table.clone(),
            read,
            stored,
        }
        .into());
    }
    progress(Progress::Copying {
        table: &p.table,
        rows: read,
    });
    Ok((read, hex(&hasher.finalize())))
}

fn canon_sqlite(v: ValueRef<'_>) -> Canon<'_> {
    match v {
        ValueRef::Null => Canon::Null,
        ValueRef::Integer(i) => Canon::Int(i),
        ValueRef::Real(f) => Canon::Real(f),
        ValueRef::Text(b) => Canon::Text(b),
        ValueRef::Blob(b) => Canon::Blob(b),
    }
}

/// The row's key for a message, e.g. `id = 42` or `source_id = 'x',
/// canonical_url = '…'`.
fn sqlite_key(row: &rusqlite::Row<'_>, p: &Plan) -> String {
    p.key
        .iter()
        .map(|&i| {
            let value = match row.get_ref(i) {
                Ok(ValueRef::Null) => "NULL".to_string(),
                Ok(ValueRef::Integer(n)) => n.to_string(),
                Ok(ValueRef::Real(f)) => f.to_string(),
                Ok(ValueRef::Text(b)) => format!("{:?}", String::from_utf8_lossy(b)),
                Ok(ValueRef::Blob(b)) => format!("<{} bytes>", b.len()),
                Err(_) => "?".to_string(),
            };
            format!("{} = {value}", p.columns[i].0)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sets each sequence behind a `BIGSERIAL` column of the table past the
/// largest value copied; an empty table keeps its fresh sequence.
fn reset_sequences(tx: &mut Transaction<'_>, p: &Plan) -> Result<(), StoreError> {
    for (column, kind) in &p.columns {
        if *kind != Kind::Int {
            continue;
        }
        let seq: Option<String> = tx
            .query_one(
                "SELECT pg_get_serial_sequence($1, $2)",
                &[&quote(&p.table), &column],
            )?
            .try_get(0)?;
        let Some(seq) = seq else { continue };
        // setval is strict: with MAX() NULL (no rows) it changes nothing.
        // `true`: the value given is taken, the next one is MAX + 1.
        tx.query_one(
            &format!(
                "SELECT setval($1::text::regclass, (SELECT MAX({}) FROM {}), true)",
                quote(column),
                quote(&p.table)
            ),
            &[&seq],
        )?;
    }
    Ok(())
}

/// Reads the table back from PostgreSQL in key order and hashes it as
/// [`copy_table`] hashed SQLite's rows.
fn postgres_checksum(tx: &mut Transaction<'_>, p: &Plan) -> Result<(u64, String), StoreError> {
    let no_params: [&(dyn ToSql + Sync); 0] = [];
    let mut rows = tx.query_raw(&p.select(true), no_params)?;
    let mut hasher = Sha256::new();
    let mut count: u64 = 0;
    while let Some(row) = rows.next()? {
        for (i, (_, kind)) in p.columns.iter().enumerate() {
            hash_postgres(&mut hasher, &row, i, *kind)?;
        }
        count += 1;
    }
    Ok((count, hex(&hasher.finalize())))
}

fn hash_postgres(h: &mut Sha256, row: &Row, i: usize, kind: Kind) -> Result<(), StoreError> {
    let canon = match kind {
        Kind::Int => row.try_get::<_, Option<i64>>(i)?.map(Canon::Int),
        Kind::Real => row.try_get::<_, Option<f64>>(i)?.map(Canon::Real),
        Kind::Text => row
            .try_get::<_, Option<&str>>(i)?
            .map(|s| Canon::Text(s.as_bytes())),
        Kind::Blob => row.try_get::<_, Option<&[u8]>>(i)?.map(Canon::Blob),
    };
    hash_value(h, canon.unwrap_or(Canon::Null));
    Ok(())
}

/// An identifier, double-quoted for either database (the names come from
/// the databases' own catalogues, checked against [`COPIED_TABLES`], but a
/// column name is quoted all the same).
fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_form_tells_apart_what_concatenation_would_not() {
        let sum = |values: &[Canon<'_>]| {
            let mut h = Sha256::new();
            for v in values {
                let v = match v {
                    Canon::Null => Canon::Null,
                    Canon::Int(i) => Canon::Int(*i),
                    Canon::Real(f) => Canon::Real(*f),
                    Canon::Text(b) => Canon::Text(b),
                    Canon::Blob(b) => Canon::Blob(b),
                };
                hash_value(&mut h, v);
            }
            hex(&h.finalize())
        };
        assert_ne!(
            sum(&[Canon::Text(b"ab"), Canon::Text(b"c")]),
            sum(&[Canon::Text(b"a"), Canon::Text(b"bc")])
        );
        assert_ne!(sum(&[Canon::Null]), sum(&[Canon::Text(b"")]));
        assert_ne!(sum(&[Canon::Text(b"x")]), sum(&[Canon::Blob(b"x")]));
        assert_ne!(sum(&[Canon::Int(1)]), sum(&[Canon::Real(1.0)]));
        assert_ne!(sum(&[Canon::Real(0.0)]), sum(&[Canon::Real(-0.0)]));
    }

    #[test]
    fn a_value_of_another_type_is_refused_not_converted() {
        assert!(convert(ValueRef::Text(b"12"), Kind::Int).is_err());
        assert!(convert(ValueRef::Integer(1), Kind::Real).is_err());
        assert!(convert(ValueRef::Text(b"a\0b"), Kind::Text).is_err());
        assert!(convert(ValueRef::Text(&[0xff, 0xfe]), Kind::Text).is_err());
        assert!(matches!(
            convert(ValueRef::Null, Kind::Blob),
            Ok(Cell::Blob(None))
        ));
        assert!(matches!(
            convert(ValueRef::Integer(7), Kind::Int),
            Ok(Cell::Int(Some(7)))
        ));
    }

    #[test]
    fn every_table_of_the_sqlite_schema_is_copied_or_deliberately_left_out() {
        let store = SqliteStore::open_in_memory().expect("store");
        assert!(check_sqlite_tables(&store.conn).is_ok());
        let mut stmt = store
            .conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'",
            )
            .expect("prepare");
        let names: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("names");
        for name in &names {
            assert!(
                COPIED_TABLES.contains(&name.as_str())
                    || SQLITE_ONLY_TABLES.contains(&name.as_str())
                    || COPIED_WITHIN.iter().any(|(t, _)| t == name),
                "{name}"
            );
        }
        assert_eq!(
            names.len(),
            COPIED_TABLES.len() + SQLITE_ONLY_TABLES.len() + COPIED_WITHIN.len()
        );
    }
}

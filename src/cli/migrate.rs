//! `kuaibao migrate --to postgres://…`: copies the configured SQLite
//! database into an empty PostgreSQL one (`store::migrate`) and prints,
//! per table, whether the rows and the checksum match.

use std::io::{IsTerminal, Write};
use std::path::Path;

use kuaibao::app::AppError;
use kuaibao::store::StoreError;
use kuaibao::store::migrate::{self, MigrateError, MigrationReport, Progress};

use super::{load_config, print_json};
use crate::exit;

pub(crate) fn migrate(config_path: &Path, to: &str, json: bool, quiet: bool) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let source = &config.storage.database;
    // A running count on a terminal only: a log or cron mail gets the table.
    let live = !quiet && std::io::stderr().is_terminal();
    let result = migrate::migrate_sqlite_to_postgres(source, to, |p| {
        if live {
            let line = match p {
                Progress::Copying { table, rows } => format!("copying {table}: {rows} rows"),
                Progress::Verifying { table } => format!("verifying {table}"),
            };
            eprint!("\r\x1b[2K{line}");
            let _ = std::io::stderr().flush();
        }
    });
    if live {
        eprint!("\r\x1b[2K");
    }
    let report = match result {
        Ok(report) => report,
        // A refusal, or a row that cannot be copied, is the command not
        // doing its work (the target is left empty), not a broken setup:
        // exit 1, like any command that could not do what it was asked.
        Err(StoreError::Migrate(
            e @ (MigrateError::NotEmpty { .. }
            | MigrateError::Value { .. }
            | MigrateError::Stored { .. }),
        )) => {
            eprintln!("kuaibao: {e}");
            return Ok(exit::FAILED);
        }
        Err(e) => return Err(AppError::from(e).into()),
    };
    if json {
        print_json(&report)?;
    } else if !quiet || !report.verified() {
        print!("{}", report_text(source, &report));
    }
    if report.verified() {
        Ok(exit::OK)
    } else {
        eprintln!(
            "kuaibao: the copy in {} did not match the SQLite database; it was rolled back and the target is empty",
            report.target
        );
        Ok(exit::FAILED)
    }
}

fn report_text(source: &Path, report: &MigrationReport) -> String {
    let mut out = format!(
        "{} → PostgreSQL {}\n{:<18} {:>12} {:>12}  {:<8} checksum (SHA-256)\n",
        source.display(),
        report.target,
        "table",
        "SQLite",
        "PostgreSQL",
        "rows"
    );
    for t in &report.tables {
        let rows = if t.rows_match() { "match" } else { "DIFFER" };
        let sum = if t.checksum_matches() {
            format!("match {}", short(&t.sqlite_checksum))
        } else {
            format!(
                "DIFFER {} ≠ {}",
                short(&t.sqlite_checksum),
                short(&t.postgres_checksum)
            )
        };
        out.push_str(&format!(
            "{:<18} {:>12} {:>12}  {:<8} {sum}\n",
            t.table, t.sqlite_rows, t.postgres_rows, rows
        ));
    }
    if !report.not_copied.is_empty() {
        out.push_str(&format!(
            "not copied: {} (SQLite's search index; PostgreSQL indexes the items itself)\n",
            report.not_copied.join(", ")
        ));
    }
    if report.verified() {
        let rows: u64 = report.tables.iter().map(|t| t.postgres_rows).sum();
        out.push_str(&format!(
            "{} tables, {rows} rows: every table matches; the copy is committed\n",
            report.tables.len()
        ));
    }
    out
}

/// The first 16 hex digits: enough to compare by eye.
fn short(sum: &str) -> &str {
    sum.get(..16).unwrap_or(sum)
}

//! `kuaibao poll`, `publish`, `status`, `sources` and `check`: the pipeline
//! run from the command line, and what it reports.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use kuaibao::app::{self, AppError};
use kuaibao::fetch::Fetcher;
use kuaibao::lock::Job;
use kuaibao::poll::{PollOptions, PollStatus, SourceReport};
use kuaibao::report;

use super::{load_config, print_json, runtime};
use crate::PollArgs;
use crate::exit;

pub(crate) fn poll(config_path: &Path, args: PollArgs, quiet: bool) -> anyhow::Result<u8> {
    let config = Arc::new(load_config(config_path)?);
    let wait = match &args.wait {
        None => Duration::ZERO,
        Some(text) => humantime::parse_duration(text)
            .with_context(|| format!("--wait {text}: expected a duration such as 30s, 10m, 1h"))?,
    };
    let _lock = kuaibao::store::lock_job(&config.storage, Job::Poll, wait)?;
    let mut store = app::open_store(&config)?;
    store.poll_only()?;
    let store = Arc::new(Mutex::new(store));
    let opts = PollOptions {
        only: args.sources,
        force: args.force,
    };
    let total = if opts.only.is_empty() {
        config.sources.iter().filter(|s| s.enabled).count()
    } else {
        opts.only.len()
    };
    let progress = if std::io::stdout().is_terminal()
        && std::io::stderr().is_terminal()
        && !args.json
        && !quiet
    {
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template("{spinner} polling [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let reports = runtime()?.block_on(app::poll(config, store, &opts, |r: &SourceReport| {
        progress.set_message(r.id.clone());
        progress.inc(1);
    }))?;
    progress.finish_and_clear();
    if args.json {
        print_json(&reports)?;
    } else if quiet {
        let failures: Vec<SourceReport> = reports
            .into_iter()
            // A repaired source is news for the operator too.
            .filter(|r| {
                matches!(r.status, PollStatus::Failed | PollStatus::Partial) || r.repair.is_some()
            })
            .collect();
        if !failures.is_empty() {
            print!("{}", report::poll_table(&failures));
        }
    } else {
        print!("{}", report::poll_table(&reports));
        let sum = |f: fn(&SourceReport) -> usize| reports.iter().map(f).sum::<usize>();
        let failed_sources = reports
            .iter()
            .filter(|r| r.status == PollStatus::Failed)
            .count();
        let maybe = sum(|r| r.maybe);
        println!(
            "\n{} sources polled, {} failed; {} new items{}, {} failed items",
            reports
                .iter()
                .filter(|r| r.status != PollStatus::NotDue)
                .count(),
            failed_sources,
            sum(|r| r.new),
            if maybe > 0 {
                format!(" ({maybe} maybe, awaiting an editor: kuaibao review list --status maybe)")
            } else {
                String::new()
            },
            sum(|r| r.failed)
        );
    }
    Ok(exit::OK)
}

pub(crate) fn publish(config_path: &Path, out: Option<PathBuf>, quiet: bool) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    // Publishing takes a moment: wait for another publish to finish.
    let _lock = kuaibao::store::lock_job(&config.storage, Job::Publish, Duration::from_secs(120))?;
    let store = app::open_store(&config)?;
    let out = out.unwrap_or_else(|| config.publish.out.clone());
    let published = app::publish(&config, &store, &out)?;
    let entries = published.feeds.first().map_or(0, |f| f.entries);
    if quiet {
        return Ok(exit::OK);
    }
    println!(
        "published {entries} entries to {} ({} files, {} changed)",
        out.display(),
        published.files.len(),
        published.changed.len()
    );
    Ok(exit::OK)
}

pub(crate) fn status(config_path: &Path, json: bool) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let store = app::open_store(&config)?;
    let ids: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
    let states = store.source_states(&ids).map_err(AppError::from)?;
    let mut repairs = Vec::new();
    for id in &ids {
        if let Some(r) = store.latest_repair(id).map_err(AppError::from)? {
            repairs.push(r);
        }
    }
    if json {
        let rows: Vec<serde_json::Value> = states
            .iter()
            .map(|s| {
                let mut v = serde_json::to_value(s).unwrap_or_default();
                if let Some(r) = repairs.iter().find(|r| r.source_id == s.id) {
                    v["repair"] = serde_json::json!({
                        "id": r.id,
                        "status": r.status,
                        "what": r.what,
                        "confidence": r.confidence,
                        "created_at": r.created_at,
                        "decided_at": r.decided_at,
                        "decided_by": r.decided_by,
                        "evidence": serde_json::from_str::<kuaibao::heal::Evidence>(&r.evidence).ok(),
                    });
                }
                v
            })
            .collect();
        print_json(&rows)?;
        return Ok(exit::OK);
    }
    print!("{}", report::status_table(&states));
    let repaired = report::repair_lines(&repairs);
    if !repaired.is_empty() {
        print!("\nselectors:\n{repaired}");
    }
    let counts = store.status_counts().map_err(AppError::from)?;
    let counts: Vec<String> = counts
        .iter()
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    println!(
        "\nitems: {}",
        if counts.is_empty() {
            "none".into()
        } else {
            counts.join(", ")
        }
    );
    Ok(exit::OK)
}

pub(crate) fn sources_list(config_path: &Path, json: bool) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    if json {
        let rows: Vec<serde_json::Value> = config
            .sources
            .iter()
            .map(|s| {
                serde_json::json!({
                    "id": s.id, "name": s.name, "url": s.url.as_str(), "kind": s.kind.as_str(),
                    "section": s.section, "region": s.region, "enabled": s.enabled,
                    "interval_secs": s.interval.as_secs(),
                })
            })
            .collect();
        print_json(&rows)?;
        return Ok(exit::OK);
    }
    let table: Vec<Vec<String>> = config
        .sources
        .iter()
        .map(|s| {
            vec![
                s.id.clone(),
                s.kind.as_str().into(),
                s.section.clone().unwrap_or_else(|| "-".into()),
                humantime::format_duration(s.interval).to_string(),
                s.name.clone(),
                s.url.to_string(),
            ]
        })
        .collect();
    print!(
        "{}",
        report::table(
            &["ID", "KIND", "SECTION", "INTERVAL", "NAME", "URL"],
            &table
        )
    );
    Ok(exit::OK)
}

pub(crate) fn sources_test(
    config_path: &Path,
    id: &str,
    articles: usize,
    json: bool,
) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let source = config
        .source(id)
        .with_context(|| format!("no source with id \"{id}\" in {}", config_path.display()))?
        .clone();
    let fetcher = Fetcher::new(&config.poll).map_err(AppError::from)?;
    let tested = runtime()?.block_on(kuaibao::poll::test_source(
        &fetcher,
        &config.poll,
        &source,
        articles,
    ))?;
    if json {
        print_json(&tested)?;
    } else {
        print!("{}", report::source_test_text(&tested));
    }
    let failed = tested.items.is_empty()
        || tested
            .items
            .iter()
            .any(|i| i.article.as_ref().is_some_and(|a| a.error.is_some()));
    Ok(if failed { exit::FAILED } else { exit::OK })
}

pub(crate) fn check(config_path: &Path) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    println!(
        "{}: ok — {} sources ({} enabled), {} sections, database {}, review mode {:?}",
        config_path.display(),
        config.sources.len(),
        config.sources.iter().filter(|s| s.enabled).count(),
        config.sections.len(),
        match &config.storage.url {
            Some(url) => url.to_string(),
            None => config.storage.database.display().to_string(),
        },
        config.review.mode
    );
    Ok(exit::OK)
}

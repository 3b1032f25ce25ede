//! `kuaibao sources add` and `sources discover`: an outlet added by its
//! address, and a site's columns found from its home page.

use std::path::Path;
use std::time::Duration;

use kuaibao::app::AppError;
use kuaibao::config::edit;
use kuaibao::fetch::Fetcher;
use kuaibao::heal;
use kuaibao::onboard::{self, AddRequest};
use kuaibao::report;

use super::{load_config, print_json, runtime};
use crate::SourcesAddArgs;
use crate::exit;

pub(crate) fn add(config_path: &Path, args: SourcesAddArgs) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let fetcher = Fetcher::new(&config.poll).map_err(AppError::from)?;
    let request = AddRequest {
        url: Some(args.url.clone()),
        name: args.name,
        id: args.id,
        section: args.section,
        region: args.region,
    };
    let proposed = runtime()?.block_on(onboard::propose(
        &fetcher,
        &config.poll,
        &config.sections,
        &config.sources,
        &request,
    ));
    let proposal = match proposed {
        Ok(p) => p,
        Err(e) => {
            if args.json {
                print_json(
                    &serde_json::json!({ "url": args.url.as_str(), "error": e.to_string() }),
                )?;
            }
            eprintln!("kuaibao: {e}");
            return Ok(exit::FAILED);
        }
    };
    let written = if args.write {
        edit::append_source(
            &config.sources_path,
            &proposal.toml,
            config.poll.interval,
            &config.sections,
        )
        .map(|()| true)
        .map_err(|e| anyhow::anyhow!("not written: {e}"))?
    } else {
        false
    };
    if args.json {
        let mut value = serde_json::to_value(&proposal)?;
        value["written"] = serde_json::Value::Bool(written);
        print_json(&value)?;
    } else {
        print!("{}", report::proposal_text(&proposal));
        if written {
            println!(
                "\nAppended to {}. A running daemon reads it on reload (SIGHUP, or `systemctl reload kuaibao`); cron's next `kuaibao poll` reads it anyway.",
                config.sources_path.display()
            );
        } else {
            println!(
                "\nNot written: run again with --write to append it to {}.",
                config.sources_path.display()
            );
        }
    }
    Ok(exit::OK)
}

pub(crate) fn discover(
    config_path: &Path,
    url: &url::Url,
    budget: Duration,
    json: bool,
) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let fetcher = Fetcher::new(&config.poll).map_err(AppError::from)?;
    let columns = match runtime()?.block_on(onboard::discover(&fetcher, &config.poll, url, budget))
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kuaibao: {e}");
            return Ok(exit::FAILED);
        }
    };
    if json {
        print_json(&columns)?;
    } else {
        print!("{}", report::columns_text(&columns));
    }
    Ok(if columns.is_empty() {
        exit::FAILED
    } else {
        exit::OK
    })
}

pub(crate) fn heal(
    config_path: &Path,
    id: Option<&str>,
    apply: bool,
    json: bool,
) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let sources: Vec<_> = match id {
        Some(id) => vec![
            config
                .source(id)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "no source with id \"{id}\" in {}",
                        config.sources_path.display()
                    )
                })?
                .clone(),
        ],
        None => config
            .sources
            .iter()
            .filter(|s| s.enabled)
            .cloned()
            .collect(),
    };
    let fetcher = Fetcher::new(&config.poll).map_err(AppError::from)?;
    let store = std::sync::Mutex::new(kuaibao::app::open_store(&config)?);
    let rt = runtime()?;
    let mut exams = Vec::new();
    let mut failed = false;
    for source in &sources {
        let urls = store
            .lock()
            .map_err(|_| anyhow::anyhow!("store lock"))?
            .source_urls(&source.id, 1_000)?;
        let history = heal::History {
            urls: urls.into_iter().collect(),
        };
        let stored = |url: &str| {
            store
                .lock()
                .ok()
                .and_then(|s| s.text_at(url).ok().flatten())
        };
        let exam = match rt.block_on(heal::examine(
            &fetcher,
            &config.poll,
            source,
            &history,
            &stored,
        )) {
            Ok(e) => e,
            Err(e) => {
                failed = true;
                eprintln!("kuaibao: {}: {e}", source.id);
                continue;
            }
        };
        let mut written = None;
        if let Some(repair) = exam.repair.as_ref() {
            let status = if apply && repair.passed {
                let backup = edit::replace_tables(
                    &config.sources_path,
                    &source.id,
                    &repair.new_toml,
                    &format!(
                        "repaired by `kuaibao sources heal --apply` ({})",
                        repair.what
                    ),
                    source.interval,
                    &config.sections,
                )
                .map_err(|e| anyhow::anyhow!("{}: not written: {e}", source.id))?;
                written = Some(backup);
                "applied"
            } else if repair.passed {
                "proposed"
            } else {
                failed = true;
                "failed"
            };
            let evidence = serde_json::to_string(&repair.evidence)?;
            let mut guard = store.lock().map_err(|_| anyhow::anyhow!("store lock"))?;
            kuaibao::poll::store_repair(&mut guard, source, repair, status, &evidence)
                .map_err(|e| anyhow::anyhow!("{}: recording the repair: {e}", source.id))?;
        } else if exam.error.is_some() {
            failed = true;
        }
        exams.push((exam, written));
    }
    if json {
        let values: Vec<serde_json::Value> = exams
            .iter()
            .map(|(e, w)| {
                let mut v = serde_json::to_value(e).unwrap_or_default();
                v["written"] = serde_json::Value::Bool(w.is_some());
                v
            })
            .collect();
        print_json(&values)?;
    } else {
        for (exam, written) in &exams {
            print!("{}", report::examination_text(exam));
            if let Some(backup) = written {
                println!(
                    "  written to {} (backup {}); a running daemon reads it on reload\n",
                    config.sources_path.display(),
                    backup.display()
                );
            }
        }
    }
    Ok(if failed { exit::FAILED } else { exit::OK })
}

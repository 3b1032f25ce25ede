//! `kuaibao sources add` and `sources discover`: an outlet added by its
//! address, and a site's columns found from its home page.

use std::path::Path;
use std::time::Duration;

use kuaibao::app::AppError;
use kuaibao::config::edit;
use kuaibao::fetch::Fetcher;
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

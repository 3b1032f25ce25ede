//! `kuaibao review`, `stories` and `classify`: the editors' decisions and
//! the classifier, from the command line.

use std::path::Path;

use kuaibao::app::{self, AppError};
use kuaibao::report;
use kuaibao::store::Status;

use super::{load_config, print_json};
use crate::exit;
use crate::{ClassifyCommand, ReviewCommand, StoriesCommand};

pub(crate) fn review(config_path: &Path, cmd: ReviewCommand) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let mut store = app::open_store(&config)?;
    match cmd {
        ReviewCommand::List {
            status,
            limit,
            json,
        } => {
            let items = store
                .review_items(status.status(), limit)
                .map_err(AppError::from)?;
            if json {
                print_json(&items)?;
            } else {
                print!("{}", report::review_table(&items));
                // 待定 items are not candidates but wait for an editor too.
                if status.status() == Some(Status::Candidate) {
                    let counts = store.status_counts().map_err(AppError::from)?;
                    if let Some((_, n)) = counts.iter().find(|(s, n)| *s == Status::Maybe && *n > 0)
                    {
                        println!(
                            "\n{n} items are 待定 (maybe) and await an editor too: kuaibao review list --status maybe"
                        );
                    }
                }
            }
            Ok(exit::OK)
        }
        ReviewCommand::Show { id, json } => {
            let item = store.review_item(id).map_err(AppError::from)?;
            if json {
                print_json(&item)?;
            } else {
                let text = store.item_text(id).map_err(AppError::from)?;
                print!("{}", report::review_text(&item, &text));
            }
            Ok(exit::OK)
        }
        ReviewCommand::Approve { ids } => set_status(&mut store, &ids, Status::Approved),
        ReviewCommand::Reject { ids } => set_status(&mut store, &ids, Status::Rejected),
        ReviewCommand::Move { id, section } => {
            if config.section(&section).is_none() {
                let ids: Vec<&str> = config.sections.iter().map(|s| s.id.as_str()).collect();
                eprintln!(
                    "kuaibao: unknown section \"{section}\"; expected one of {}",
                    ids.join(", ")
                );
                return Ok(exit::USAGE);
            }
            let before = app::move_to_section(&mut store, id, &section, &app::cli_editor())?;
            println!("{id}: {} → {section}", before.as_deref().unwrap_or("-"));
            Ok(exit::OK)
        }
        ReviewCommand::Title { id, title } => {
            let before = app::set_title(&mut store, id, title.as_deref(), &app::cli_editor())?;
            println!(
                "{id}: {} → {}",
                before.as_deref().unwrap_or("-"),
                title.as_deref().unwrap_or("-")
            );
            Ok(exit::OK)
        }
    }
}

pub(crate) fn stories(config_path: &Path, cmd: StoriesCommand) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let mut store = app::open_store(&config)?;
    match cmd {
        StoriesCommand::List { all, limit, json } => {
            let stories = store.stories(!all, limit).map_err(AppError::from)?;
            if json {
                print_json(&stories)?;
            } else {
                print!("{}", report::stories_table(&stories));
            }
        }
        StoriesCommand::Show { id, json } => {
            let story = store.story(id).map_err(AppError::from)?;
            if json {
                print_json(&story)?;
            } else {
                print!("{}", report::story_text(&story));
            }
        }
        StoriesCommand::Split { item } => {
            let from = store.story_of(item).map_err(AppError::from)?;
            let new = store.split_item(item).map_err(AppError::from)?;
            println!("item {item} left story {from}: it is story {new} now");
        }
        StoriesCommand::Merge { a, b } => {
            store.merge_stories(a, b).map_err(AppError::from)?;
            println!("story {b} merged into story {a}");
        }
        StoriesCommand::Eval { .. } => unreachable!("handled before the store is opened"),
    }
    Ok(exit::OK)
}

pub(crate) fn set_status(
    store: &mut kuaibao::store::Store,
    ids: &[i64],
    status: Status,
) -> anyhow::Result<u8> {
    for (id, before) in app::review(store, ids, status, &app::cli_editor())? {
        println!("{id}: {} → {}", before.as_str(), status.as_str());
    }
    Ok(exit::OK)
}

/// The classification rules: the file the configuration names, else the
/// built-in ones (also when there is no configuration file at all).
pub(crate) fn classify_rules(config_path: &Path) -> anyhow::Result<kuaibao::classify::Rules> {
    Ok(if config_path.exists() {
        load_config(config_path)?.rules
    } else {
        kuaibao::classify::Rules::default()
    })
}

pub(crate) fn classify(config_path: &Path, cmd: ClassifyCommand) -> anyhow::Result<u8> {
    let rules = classify_rules(config_path)?;
    match cmd {
        ClassifyCommand::Eval {
            file,
            train,
            curve,
            json,
        } => {
            use kuaibao::classify::{evaluate_items, learning_curve, load_set, train_on};
            let set = load_set(&file)?;
            if let Some(steps) = curve {
                let curve = learning_curve(&set, &rules, &steps).ok_or_else(|| {
                    anyhow::anyhow!(
                        "{}: {} items, not more than the largest step of --curve",
                        file.display(),
                        set.len()
                    )
                })?;
                if json {
                    print_json(&curve)?;
                } else {
                    print!("{curve}");
                }
                return Ok(exit::OK);
            }
            let model = match train {
                Some(path) => Some(train_on(&load_set(&path)?, &rules)),
                None => None,
            };
            let report = evaluate_items(&set, &rules, model.as_ref());
            if json {
                print_json(&report)?;
            } else {
                print!("{report}");
            }
        }
        ClassifyCommand::Show {
            title,
            content,
            origin,
            url,
            json,
        } => {
            let input = kuaibao::classify::ClassifyInput {
                title,
                content,
                origin,
                source: None,
                url,
            };
            let c = kuaibao::classify::classify(&input, &rules, None);
            if json {
                print_json(&c)?;
            } else {
                println!(
                    "section    {}\nrelevance  {:.3} ({})\ntitle      {}",
                    c.section.as_deref().unwrap_or("-"),
                    c.relevance,
                    match c.verdict {
                        kuaibao::classify::Verdict::Relevant if c.auto_publishes(&rules) => {
                            "in scope; auto mode publishes it at once"
                        }
                        kuaibao::classify::Verdict::Relevant => {
                            "in scope; under relevance.publish, it waits for an editor even in auto mode"
                        }
                        kuaibao::classify::Verdict::Maybe => "待定: for an editor to decide",
                        kuaibao::classify::Verdict::Irrelevant => "off-topic",
                    },
                    c.bulletin_title
                );
                for (section, score) in &c.scores {
                    println!("  {section:<9} {score:.3}");
                }
                for reason in &c.reasons {
                    println!("  - {reason}");
                }
            }
        }
    }
    Ok(exit::OK)
}

pub(crate) fn stories_eval(config_path: &Path, file: &Path) -> anyhow::Result<u8> {
    // The thresholds of `[dedup]` when there is a configuration.
    let cfg = if config_path.exists() {
        load_config(config_path)?.dedup
    } else {
        kuaibao::dedup::DedupConfig::default()
    };
    let report = kuaibao::dedup::evaluate(file, &cfg)?;
    print!("{report}");
    Ok(exit::OK)
}

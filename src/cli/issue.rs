//! `kuaibao issue`: assembling, editing and exporting the bulletin's issues.

use std::path::{Path, PathBuf};

use anyhow::Context;

use kuaibao::app::{self, AppError};
use kuaibao::assemble::{self};

use super::{load_config, print_json};
use crate::IssueCommand;
use crate::exit;

pub(crate) fn issue(config_path: &Path, cmd: IssueCommand, quiet: bool) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let mut store = app::open_store(&config)?;
    let say = |text: String| {
        if !quiet {
            print!("{text}");
        }
    };
    match cmd {
        IssueCommand::New { number, date } => {
            let date = date.unwrap_or_else(assemble::today);
            let issue = assemble::new_issue(&config, &mut store, &number, date)?;
            say(assemble::contents_text(&config, &issue));
        }
        IssueCommand::List { json } => {
            let issues = store.issues().map_err(AppError::from)?;
            if json {
                print_json(&issues)?;
            } else {
                print!("{}", assemble::issues_table(&issues));
            }
        }
        IssueCommand::Show { number, json } => {
            let issue = assemble::show_issue(&config, &store, &number)?;
            if json {
                print_json(&issue)?;
            } else {
                print!("{}", assemble::contents_text(&config, &issue));
            }
        }
        IssueCommand::Edit {
            number,
            add,
            remove,
            moves,
            date,
        } => {
            let edits = kuaibao::store::IssueEdits {
                add,
                remove,
                moves,
                date,
            };
            if edits.is_empty() {
                eprintln!(
                    "kuaibao: issue edit: nothing to do (give --add, --remove, --move or --date)"
                );
                return Ok(exit::USAGE);
            }
            let issue = assemble::edit_issue(&config, &mut store, &number, &edits)?;
            say(assemble::contents_text(&config, &issue));
        }
        IssueCommand::Publish { number } => {
            let info = store.publish_issue(&number).map_err(AppError::from)?;
            say(format!(
                "issue {number} is published ({} stories): {}\n",
                info.stories,
                kuaibao::publish::issue_url(&config, &number)
            ));
        }
        IssueCommand::Unpublish { number } => {
            store.unpublish_issue(&number).map_err(AppError::from)?;
            say(format!("issue {number} is a draft again\n"));
        }
        IssueCommand::Delete { number } => {
            store.delete_issue(&number).map_err(AppError::from)?;
            say(format!("issue {number} deleted\n"));
        }
        IssueCommand::Export {
            number,
            format,
            out,
        } => {
            let to_stdout = out.as_deref() == Some(Path::new("-"));
            if to_stdout && !format.is_text() {
                eprintln!("kuaibao: a .docx is not written to standard output: give --out FILE");
                return Ok(exit::USAGE);
            }
            let bytes = assemble::export_issue(&config, &store, &number, format)?;
            if to_stdout {
                use std::io::Write;
                std::io::stdout()
                    .write_all(&bytes)
                    .context("cannot write to standard output")?;
                return Ok(exit::OK);
            }
            let path =
                out.unwrap_or_else(|| PathBuf::from(assemble::export_file_name(&number, format)));
            std::fs::write(&path, &bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            say(format!(
                "wrote issue {number} to {} ({} bytes)\n",
                path.display(),
                bytes.len()
            ));
        }
    }
    Ok(exit::OK)
}

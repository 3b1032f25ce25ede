//! `kuaibao user` and `kuaibao audit`: the desk's accounts and its audit log.

use std::path::Path;

use anyhow::Context;

use kuaibao::accounts::{self, AccountError, AuditQuery, Role};
use kuaibao::app::{self};
use kuaibao::report;

use super::{load_config, print_json};
use crate::UserCommand;
use crate::exit;

pub(crate) fn user(config_path: &Path, cmd: UserCommand, quiet: bool) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let store = app::open_store(&config)?;
    let conn = &store;
    let say = |text: String| {
        if !quiet {
            println!("{text}");
        }
    };
    match cmd {
        UserCommand::Add {
            name,
            role,
            password_stdin,
        } => {
            let role = role.parse::<Role>()?;
            // Refuse a bad or taken name before asking for a password.
            accounts::check_name(&name)?;
            if accounts::find_user(conn, &name)?.is_some() {
                return Err(AccountError::DuplicateUser(name).into());
            }
            let password = new_password(&name, password_stdin)?;
            accounts::add_user(conn, &name, role, &password)?;
            say(format!("added {name} ({role})"));
        }
        UserCommand::Passwd {
            name,
            password_stdin,
        } => {
            if accounts::find_user(conn, &name)?.is_none() {
                return Err(AccountError::NoSuchUser(name).into());
            }
            let password = new_password(&name, password_stdin)?;
            let ended = accounts::set_password(conn, &name, &password)?;
            say(format!(
                "changed the password of {name}; {ended} session(s) ended"
            ));
        }
        UserCommand::List { json } => {
            let users = accounts::list_users(conn)?;
            if json {
                print_json(&users)?;
            } else {
                print!("{}", report::users_table(&users));
            }
        }
        UserCommand::Remove { name } => {
            let ended = accounts::remove_user(conn, &name)?;
            say(format!("removed {name}; {ended} session(s) ended"));
        }
    }
    Ok(exit::OK)
}

/// A new password: the first line of stdin (scripts, tests), or typed twice
/// on the terminal without echo.
pub(crate) fn new_password(name: &str, from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        let read = std::io::stdin()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        anyhow::ensure!(read > 0, "no password on standard input");
        // Only the line end goes: spaces may be part of the password.
        let password = line.strip_suffix('\n').unwrap_or(&line);
        let password = password.strip_suffix('\r').unwrap_or(password);
        accounts::check_password(password)?;
        return Ok(password.to_string());
    }
    let no_tty = "cannot read the password from the terminal (pipe it in with --password-stdin)";
    let first = rpassword::prompt_password(format!("new password for {name}: ")).context(no_tty)?;
    // Said before the second prompt, not after it.
    accounts::check_password(&first)?;
    let second = rpassword::prompt_password("the same again: ").context(no_tty)?;
    anyhow::ensure!(first == second, "the two passwords differ; nothing changed");
    Ok(first)
}

pub(crate) fn audit(
    config_path: &Path,
    limit: usize,
    user: Option<String>,
    item: Option<i64>,
    json: bool,
) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let store = app::open_store(&config)?;
    let query = AuditQuery {
        limit,
        user,
        item_id: item,
    };
    let records = accounts::audit_entries(&store, &query)?;
    if json {
        print_json(&records)?;
    } else {
        print!("{}", report::audit_table(&records));
    }
    Ok(exit::OK)
}

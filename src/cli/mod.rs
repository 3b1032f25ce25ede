//! The command line's handlers, one module per group of commands: each
//! loads the configuration, calls the library and prints what it did.
//! `main.rs` parses the arguments and dispatches here.

pub(crate) mod accounts;
pub(crate) mod daemon;
pub(crate) mod editorial;
pub(crate) mod issue;
pub(crate) mod migrate;
pub(crate) mod pipeline;
pub(crate) mod sources;

use std::path::Path;

use anyhow::Context;

use kuaibao::app::AppError;
use kuaibao::config::Config;

pub(crate) fn load_config(path: &Path) -> anyhow::Result<Config> {
    Ok(Config::load(path).map_err(AppError::from)?)
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

pub(crate) fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

//! The command line's handlers, one module per group of commands: each
//! loads the configuration, calls the library and prints what it did.
//! `main.rs` parses the arguments and dispatches here.

pub(crate) mod accounts;
pub(crate) mod allocator;
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
    // Work on blocking threads is parsing, classifying and the store (one
    // lock): more threads than a few per core add no speed, only memory
    // (each keeps a parsed page and its allocator cache). Side by side on a
    // first poll of 20,000 items (benches/pipeline.rs): tokio's default of
    // up to 512 threads peaked at 34 of them, 9.8 s and 109 MiB; four per
    // core, 9.0 s and 94 MiB.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(cores * 4)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

pub(crate) fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

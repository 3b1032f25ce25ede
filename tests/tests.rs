//! kuaibao's integration tests: one test binary, one module per file of
//! `tests/`, as ripgrep's `tests/tests.rs` does.
//!
//! Each file used to be a binary of its own, and each of those statically
//! linked the whole crate and its dependencies: 37 binaries of 100–300 MB,
//! 13 GB of `target/` for a test run, which filled a CI machine's disk.
//! One binary links once. Run one file's tests by its module name:
//! `cargo test --test integration hostile_props::`.

// Shared helpers first: `support`'s `on_both_backends!` macro is then in
// scope for every module below it.
mod common;
#[macro_use]
mod support;

mod accounts;
mod budgets;
mod bulletin_export;
mod classify;
mod cli;
mod cli_postgres;
mod config;
mod daemon;
mod dedup;
mod demo;
mod demo_outlets;
mod desk;
mod desk_sources;
mod escaping;
mod extract;
mod fetch;
mod heal;
mod hostile;
mod hostile_props;
mod issues;
mod layers;
mod maybe;
mod migrate;
mod outlet_corpus;
mod pipeline;
mod postgres;
mod publish;
mod redesign_corpus;
mod relevance;
mod roles;
mod schedule;
mod serve;
mod sources_add;
mod store_accounts;
mod store_items;
mod store_stories;
mod stories;

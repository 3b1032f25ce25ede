//! kuaibao (快报): turns a field's official outlets into a curated,
//! trustworthy news feed and the 信息快报 bulletin.
//!
//! The pipeline runs one way, one module per stage:
//! [`fetch`] → [`extract`] → [`normalize`] → [`store`] → [`publish`];
//! [`poll`] drives the first four for every due source, [`config`] feeds
//! them all, and [`demo`] serves sample outlets for a first run. Last,
//! [`assemble`] gathers approved stories into one issue of the bulletin and
//! [`bulletin`] lays it out (plain text, Markdown, HTML for screen and A4
//! print, Word). Between store and publish, [`desk`] is where editors
//! review the candidates in `kuaibao serve`.

pub mod accounts;
pub mod app;
pub mod assemble;
pub mod bulletin;
pub mod classify;
pub mod config;
pub mod dedup;
pub mod demo;
pub mod desk;
pub mod extract;
pub mod fetch;
pub mod lock;
pub mod markup;
pub mod metrics;
pub mod model;
pub mod normalize;
pub mod poll;
pub mod publish;
pub mod report;
pub mod schedule;
pub mod serve;
pub mod store;
pub mod text;

//! kuaibao (快报): turns a field's official outlets into a curated,
//! trustworthy news feed and the 信息快报 bulletin.
//!
//! An item goes one way through the pipeline, one module per stage:
//! [`fetch`] → [`extract`] → [`normalize`] → [`dedup`] → [`classify`] →
//! [`store`]. [`poll`] runs those stages for every due source in one pass
//! (`kuaibao poll`, cron), and [`schedule`] drives [`poll`] source by source
//! in the daemon. Editors review the candidates on the [`desk`] (logins and
//! sessions in [`accounts`]); [`assemble`] gathers approved stories into an
//! issue, [`bulletin`] lays it out (plain text, Markdown, HTML for screen and
//! A4 print, Word) and [`publish`] renders the feeds (Atom, JSON Feed, OPML),
//! the index and the issue pages. [`serve`] answers HTTP for all of it; [`app`]
//! holds what the commands do, and [`demo`] serves sample outlets for a
//! first run. [`config`] is read first by every command. [`infer`] works
//! out how to read an outlet from its pages alone, [`onboard`] adds one by
//! its address (`sources add`, `sources discover`), and [`heal`] repairs
//! selectors a redesign broke, proving them against the store.
//!
//! The modules are layered: a module imports only modules of lower layers
//! and modules listed before it in its own layer, so the graph has no
//! cycle (`tests/layers.rs` holds this table and enforces it):
//!
//! | # | layer | modules, in import order |
//! |---|---|---|
//! | 1 | shared types and helpers | `model`, `text`, `time`, `markup`, `places`, `lock`, `metrics` |
//! | 2 | configuration | `config` |
//! | 3 | pipeline stages | `fetch`, `extract`, `normalize`, `dedup`, `classify`, `infer` |
//! | 4 | store | `store`, `accounts` |
//! | 5 | orchestration and renderers | `onboard`, `heal`, `poll`, `schedule`, `bulletin`, `publish`, `report`, `assemble` |
//! | 6 | commands | `demo`, `app` |
//! | 7 | web | `desk`, `serve` |

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
pub mod heal;
pub mod infer;
pub mod lock;
pub mod markup;
pub mod metrics;
pub mod model;
pub mod normalize;
pub mod onboard;
pub mod places;
pub mod poll;
pub mod publish;
pub mod report;
pub mod schedule;
pub mod serve;
pub mod store;
pub mod text;
pub mod time;

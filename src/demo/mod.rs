//! Demo, layer 6 (commands, below app): sample news sites on 127.0.0.1 that `kuaibao demo` polls,
//! so a newcomer sees the whole pipeline produce real output within seconds,
//! with no network and no configuration.
//!
//! [`sample_articles`] holds one real issue of 信息快报 (第 202509 期);
//! [`start_outlets`] serves its articles the way the real outlets do (an
//! HTML list on 人社部's TRS markup, a GBK provincial-news site, an RSS feed,
//! an Atom feed with summaries only, a JSON list) and writes the matching
//! sources file with [`Outlets::sources_toml`].

mod articles;
mod outlets;
mod pages;

pub use articles::{OtherArticle, OtherKind, SampleArticle, other_articles, sample_articles};
pub use outlets::{Outlets, start_outlets};

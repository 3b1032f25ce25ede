//! Extract: list pages (feed | html | json) to items, article pages to text.
//!
//! SKELETON — the extract helper replaces this module.

use crate::config::Source;
use crate::model::{Article, ListedItem, Page};

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("{0}")]
    Other(String),
}

pub fn extract_list(_source: &Source, _page: &Page) -> Result<Vec<ListedItem>, ExtractError> {
    todo!()
}

pub fn extract_article(_source: &Source, _page: &Page) -> Result<Article, ExtractError> {
    todo!()
}

pub mod dates {
    use chrono::{DateTime, FixedOffset};
    pub fn parse_date(_text: &str) -> Option<DateTime<FixedOffset>> {
        todo!()
    }
    pub fn date_from_url(_url: &str) -> Option<DateTime<FixedOffset>> {
        todo!()
    }
}

pub mod origin {
    pub fn find_origin(_text: &str) -> Option<String> {
        todo!()
    }
}

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

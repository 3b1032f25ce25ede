//! Fetch: the pipeline's first stage. Turns a URL into a decoded [`Page`].
//!
//! SKELETON — the fetch helper replaces this file.

use crate::config::{EncodingChoice, Poll};
use crate::model::{Page, Validators};
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Other(String),
}

pub enum FetchOutcome {
    NotModified,
    Page(Page),
}

pub struct Fetcher {}

impl Fetcher {
    pub fn new(_poll: &Poll) -> Result<Fetcher, FetchError> {
        todo!()
    }

    pub async fn fetch(
        &self,
        _url: &Url,
        _encoding: EncodingChoice,
        _validators: Option<&Validators>,
    ) -> Result<FetchOutcome, FetchError> {
        todo!()
    }
}

//! Fuzz target `feed`: arbitrary bytes served as an RSS/Atom/JSON Feed
//! page, decoded as the fetcher decodes them and read by
//! `kuaibao::extract::extract_list` with a feed source; every entry it
//! yields then goes through `normalize::normalize`, as a poll would send a
//! feed's full-text entries. Any panic is a bug.

#![no_main]

mod common;

use kuaibao::config::SourceKind;
use kuaibao::{extract, normalize};
use libfuzzer_sys::fuzz_target;

const URL: &str = "https://www.example.gov.cn/rss/news.xml";

fuzz_target!(|data: &[u8]| {
    let (control, body) = common::split(data);
    let page = common::page(URL, control, body);
    let source = common::source(SourceKind::Feed, URL);
    if let Ok(items) =
        extract::extract_list(&source, &page, &extract::Limits::default()).map(|l| l.items)
    {
        for item in &items {
            let _ = normalize::normalize(&source, item, None);
        }
    }
});

//! Fuzz target `normalize`: arbitrary bytes, decoded as the fetcher decodes
//! them, taken as an item's title (first line) and HTML body (the rest) and
//! put through the public text functions outlet content reaches:
//! `normalize::normalize` on a listed item with and without an article,
//! `normalize::html_to_text`, `normalize::sanitize_html`,
//! `normalize::content_hash`, `normalize::canonical_url` of a link written
//! on the page, and `bulletin::paragraphs_from_html` on raw and sanitized
//! HTML. Bits 4–7 of the control byte choose where the body sits (article,
//! feed content, summary) and whether the source names a title selector.
//! Any panic is a bug.

#![no_main]

mod common;

use kuaibao::config::{ArticleSelectors, SourceKind};
use kuaibao::model::{Article, ListedItem};
use kuaibao::{bulletin, normalize};
use libfuzzer_sys::fuzz_target;

const URL: &str = "https://rsj.example.gov.cn/art/2025/6/20/art_1_1.html";

fuzz_target!(|data: &[u8]| {
    let (control, body) = common::split(data);
    let page = common::page(URL, control, body);
    let (title, html) = page.text.split_once('\n').unwrap_or((&page.text, ""));

    let mut source = common::source(SourceKind::Html, URL);
    if control & 0x10 != 0 {
        source.article = Some(ArticleSelectors {
            content: common::sel("#content"),
            title: Some(common::sel("h1")),
            date: None,
            origin: None,
            remove: vec![],
        });
    }
    let listed = ListedItem {
        url: page.url.clone(),
        guid: Some(title.to_string()),
        title: title.to_string(),
        published: None,
        summary: (control & 0x20 != 0).then(|| html.to_string()),
        content: (control & 0x40 != 0).then(|| html.to_string()),
        author: None,
    };
    let article = Article {
        title: Some(html.lines().next().unwrap_or_default().to_string()),
        content_html: html.to_string(),
        published: None,
        origin: (control & 0x80 != 0).then(|| title.to_string()),
    };

    let _ = normalize::normalize(&source, &listed, None);
    if let Ok(item) = normalize::normalize(&source, &listed, Some(&article)) {
        let _ = bulletin::paragraphs_from_html(&item.content_html);
    }
    let text = normalize::html_to_text(html);
    let _ = normalize::content_hash(&text);
    let _ = normalize::sanitize_html(html, &page.url);
    let _ = bulletin::paragraphs_from_html(html);
    if let Ok(link) = page.url.join(title.trim()) {
        let canonical = normalize::canonical_url(&link);
        let _ = normalize::item_uid(&canonical);
    }
});

//! Fuzz target `article`: arbitrary bytes served as an article page and
//! read by `kuaibao::extract::extract_article`, either with a source's own
//! selectors (MOHRSS's body, title, date, 来源 and `remove`), with selectors
//! that match nothing (the fall-back to known containers), or with none
//! (known containers, then the readability-style guess); the control byte's
//! high nibble picks which. An article that is read goes on through
//! `normalize::normalize` and `bulletin::paragraphs_from_html`, as a poll
//! and the bulletin would take it. Any panic is a bug.

#![no_main]

mod common;

use std::sync::LazyLock;

use common::sel;
use kuaibao::config::{ArticleSelectors, Source, SourceKind};
use kuaibao::model::ListedItem;
use kuaibao::{bulletin, extract, normalize};
use libfuzzer_sys::fuzz_target;

const URL: &str =
    "https://www.mohrss.gov.cn/SYrlzyhshbzb/dongtaixinwen/buneiyaowen/202506/t20250620_543210.html";

static SOURCES: LazyLock<Vec<Source>> = LazyLock::new(|| {
    let plain = common::source(SourceKind::Html, URL);
    let mut configured = plain.clone();
    configured.article = Some(ArticleSelectors {
        content: sel("#insMainConTxt .TRS_Editor"),
        title: Some(sel(".insMainConTitle_b")),
        date: Some(sel(".insMainConTitle_c")),
        origin: Some(sel(".insMainConTitle_c")),
        remove: vec![sel(".share-bar"), sel("table.hidden, .print")],
    });
    let mut stale = plain.clone();
    stale.article = Some(ArticleSelectors {
        content: sel("div.new-template-body"),
        title: Some(sel("meta[name=title]@content")),
        date: Some(sel("#pubdate@datetime")),
        origin: Some(sel("#source@data-name")),
        remove: vec![],
    });
    vec![plain, configured, stale]
});

fuzz_target!(|data: &[u8]| {
    let (control, body) = common::split(data);
    let source = &SOURCES[common::variant(control, SOURCES.len())];
    let page = common::page(URL, control, body);
    let Ok(article) = extract::extract_article(source, &page, &extract::Limits::default()) else {
        return;
    };
    let listed = ListedItem {
        url: page.url.clone(),
        guid: None,
        title: String::new(),
        published: None,
        summary: None,
        content: None,
        author: None,
    };
    if let Ok(item) = normalize::normalize(source, &listed, Some(&article)) {
        let _ = bulletin::paragraphs_from_html(&item.content_html);
    }
});

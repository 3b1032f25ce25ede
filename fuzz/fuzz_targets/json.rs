//! Fuzz target `json`: arbitrary bytes served as a JSON or JSONP list
//! endpoint and read by `kuaibao::extract::extract_list` with one of three
//! configured sources' dotted paths (the control byte's high nibble picks
//! it): news.cn's JSONP `data.list`, gov.cn's top-level array, and a path
//! through numeric segments. Any panic is a bug.

#![no_main]

mod common;

use std::sync::LazyLock;

use kuaibao::config::{JsonPaths, Source, SourceKind};
use kuaibao::extract;
use libfuzzer_sys::fuzz_target;

fn json_source(url: &str, [items, title, link]: [&str; 3], rest: [Option<&str>; 4]) -> Source {
    let [date, summary, content, guid] = rest.map(|p| p.map(str::to_string));
    let mut source = common::source(SourceKind::Json, url);
    source.json = Some(JsonPaths {
        items: items.into(),
        title: title.into(),
        link: link.into(),
        date,
        summary,
        content,
        guid,
    });
    source
}

static SOURCES: LazyLock<Vec<Source>> = LazyLock::new(|| {
    vec![
        json_source(
            "http://qc.wa.news.cn/nodeart/list?nid=113352&pgnum=1&cnt=10&tp=1&orderby=1",
            ["data.list", "Title", "LinkUrl"],
            [
                Some("PubTime"),
                Some("Abstract"),
                Some("Content"),
                Some("DocID"),
            ],
        ),
        json_source(
            "https://www.gov.cn/zhengce/zuixin/ZUIXINZHENGCE.json",
            ["", "TITLE", "URL"],
            [Some("DOCRELPUBTIME"), None, None, None],
        ),
        json_source(
            "https://api.example.com/v1/news",
            ["result.0.items", "t.text", "u"],
            [Some("time.0"), Some("s"), Some("body.html"), Some("id")],
        ),
    ]
});

fuzz_target!(|data: &[u8]| {
    let (control, body) = common::split(data);
    let source = &SOURCES[common::variant(control, SOURCES.len())];
    let page = common::page(source.url.as_str(), control, body);
    let _ = extract::extract_list(source, &page, &extract::Limits::default()).map(|l| l.items);
});

//! Fuzz target `list`: arbitrary bytes served as an HTML list page and read
//! by `kuaibao::extract::extract_list` with one of four configured sources'
//! CSS selectors (the control byte's high nibble picks it): a Hanweb CMS
//! column whose items hide in a `<script type="text/xml"><datastore>`, the
//! MOHRSS list, a plain `li`/`a` list with dates and summaries, and a table
//! list taking links and titles from attributes. Any panic is a bug.

#![no_main]

mod common;

use std::sync::LazyLock;

use common::sel;
use kuaibao::config::{ListSelectors, Source, SourceKind};
use kuaibao::extract;
use libfuzzer_sys::fuzz_target;

fn list_source(
    url: &str,
    [item, link, title]: [&str; 3],
    date: Option<&str>,
    summary: Option<&str>,
) -> Source {
    let mut source = common::source(SourceKind::Html, url);
    source.list = Some(ListSelectors {
        item: sel(item),
        link: sel(link),
        title: sel(title),
        date: date.map(sel),
        summary: summary.map(sel),
    });
    source
}

static SOURCES: LazyLock<Vec<Source>> = LazyLock::new(|| {
    vec![
        // 江苏人社厅 (Hanweb): records in a <datastore>.
        list_source(
            "https://jshrss.jiangsu.gov.cn/col/col78532/index.html",
            ["div.default_pgContainer li", "a", "a@title"],
            Some("span.bt-data-time"),
            None,
        ),
        // 人社部 要闻.
        list_source(
            "https://www.mohrss.gov.cn/SYrlzyhshbzb/dongtaixinwen/buneiyaowen/index.html",
            [
                "div.serviceMainListConType > div.serviceMainListTabCon",
                "div.serviceMainListTxt span.serviceMainListTxtLink a",
                "div.serviceMainListTxt span.serviceMainListTxtLink a@title",
            ],
            Some("div.organGeneralNewListTxtConTime_a span.organMenuTxtLink"),
            None,
        ),
        // A plain list with dates and summaries.
        list_source(
            "http://rsj.example.gov.cn/col/col1/index.html",
            ["div.list li", "a", "a"],
            Some(".date"),
            Some("p"),
        ),
        // A table list, links and titles from attributes, under .com.
        list_source(
            "https://news.example.com/list/index.shtml",
            ["table tr", "td a@href", "td a@title"],
            Some("td:nth-child(2)"),
            Some("td:last-child@data-summary"),
        ),
    ]
});

fuzz_target!(|data: &[u8]| {
    let (control, body) = common::split(data);
    let source = &SOURCES[common::variant(control, SOURCES.len())];
    let page = common::page(source.url.as_str(), control, body);
    let _ = extract::extract_list(source, &page, &extract::Limits::default()).map(|l| l.items);
});

//! HTML list pages for the extract stage (fetch → **extract** → normalize
//! → store → publish).
//!
//! One item per match of `list.item`, its fields read with selectors
//! relative to the item. Hanweb CMS (江苏, 浙江 人社厅) ships the first
//! page's items as CDATA records inside `<script type="text/xml">`, which
//! a browser's script renders and an HTML parser never sees; those records
//! are put back where the script would have rendered them before selecting.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::{
    ExtractError, Limits, Listing, dates, element_text, field_value, resolve_link, select_in,
};
use crate::config::ListSelectors;
use crate::markup;
use crate::model::{ListedItem, Page};

// The datastore with its `<script type="text/xml">` wrapper when it has
// one; `dataproxy.jsp` (later pages) serves the bare datastore as XML.
static DATASTORE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?is)(?:<script[^>]*type\s*=\s*["']?text/xml["']?[^>]*>\s*)?<datastore\b.*?</datastore\s*>(?:\s*</script\s*>)?"#,
    )
    .expect("valid datastore regex")
});
// Only records: `<nextgroup>` carries the pager, which is not an item.
static RECORD_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)<record(?:\s[^>]*)?>\s*<!\[CDATA\[(.*?)\]\]>\s*</record\s*>")
        .expect("valid record regex")
});
static HREF_A: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("a[href]").expect("valid selector"));

/// Reads the items of an HTML list page, at most `limits.max_entries`.
pub fn extract_html_list(
    list: &ListSelectors,
    page: &Page,
    limits: &Limits,
) -> Result<Listing, ExtractError> {
    let text = unwrap_datastore(&page.text);
    let bounded = markup::bound_html(&text, limits.markup)?;
    let doc = Html::parse_document(&bounded.text);
    let mut matched: Vec<ElementRef<'_>> = doc.select(&list.item.selector).collect();
    let entries_cut = matched.len() > limits.max_entries;
    matched.truncate(limits.max_entries);
    if matched.is_empty() {
        return Err(ExtractError::NothingMatched {
            what: "list.item",
            selector: list.item.text.clone(),
            url: page.url.to_string(),
        });
    }
    let mut items: Vec<ListedItem> = Vec::new();
    let mut seen: HashMap<Url, usize> = HashMap::new();
    for el in matched {
        let Some(item) = read_item(list, el, &page.url) else {
            continue;
        };
        // The same article often appears twice in one item list (a picture
        // link and a text link): keep the first, fill its gaps from later ones.
        match seen.get(&item.url) {
            Some(&i) => {
                let kept = &mut items[i];
                if kept.title.is_empty() {
                    kept.title = item.title;
                }
                kept.published = kept.published.or(item.published);
                if kept.summary.is_none() {
                    kept.summary = item.summary;
                }
            }
            None => {
                seen.insert(item.url.clone(), items.len());
                items.push(item);
            }
        }
    }
    if items.is_empty() {
        tracing::warn!(url = %page.url, selector = %list.link.text, "list items matched but none had a usable link");
    }
    Ok(Listing { items, entries_cut })
}

fn read_item(list: &ListSelectors, item: ElementRef<'_>, base: &Url) -> Option<ListedItem> {
    let link_el = select_in(item, &list.link.selector);
    // A link selector without `@attr` means the link's target, not its text.
    let href = link_el.and_then(|a| match &list.link.attr {
        Some(attr) => a.value().attr(attr).map(str::to_string),
        None => a
            .value()
            .attr("href")
            .or_else(|| {
                a.select(&HREF_A)
                    .next()
                    .and_then(|x| x.value().attr("href"))
            })
            .map(str::to_string),
    })?;
    let url = resolve_link(base, &href)?;

    let title = select_in(item, &list.title.selector)
        .and_then(|el| field_value(el, &list.title))
        .or_else(|| link_el.map(element_text).filter(|t| !t.is_empty()))
        .or_else(|| {
            link_el
                .and_then(|a| a.value().attr("title"))
                .map(super::collapse_ws)
        })
        .unwrap_or_default();

    let published = list
        .date
        .as_ref()
        .and_then(|f| select_in(item, &f.selector).and_then(|el| field_value(el, f)))
        .and_then(|t| dates::parse_date(&t))
        .or_else(|| dates::date_from_url(url.as_str()));

    let summary = list
        .summary
        .as_ref()
        .and_then(|f| select_in(item, &f.selector).and_then(|el| field_value(el, f)));

    Some(ListedItem {
        url,
        guid: None,
        title,
        published,
        summary,
        content: None,
        author: None,
    })
}

/// Replaces each Hanweb `<script type="text/xml"><datastore>` with the
/// markup of its records, where the CMS's script would render them.
pub fn unwrap_datastore(text: &str) -> Cow<'_, str> {
    if !text.contains("<datastore") && !text.contains("<DATASTORE") {
        return Cow::Borrowed(text);
    }
    DATASTORE_RE.replace_all(text, |caps: &regex::Captures<'_>| {
        RECORD_RE
            .captures_iter(&caps[0])
            .map(|c| c[1].to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datastore_records_become_markup_in_place() {
        let page = r#"<div id="col"><script type="text/xml"><datastore><nextgroup><![CDATA[<a href="x">next</a>]]></nextgroup><recordset>
<record><![CDATA[<li><a href="/art/2025/6/20/art_1_1.html">一</a></li>]]></record>
<record><![CDATA[<li><a href="/art/2025/6/19/art_1_2.html">二</a></li>]]></record>
</recordset></datastore></script></div><script>var a=1;</script>"#;
        let out = unwrap_datastore(page);
        assert!(
            out.contains(r#"<div id="col"><li><a href="/art/2025/6/20/art_1_1.html">一</a></li>"#)
        );
        assert!(out.contains("<script>var a=1;</script>"));
        assert!(!out.contains("<datastore>"));
        assert!(!out.contains("next"));
    }

    #[test]
    fn a_bare_dataproxy_datastore_is_unwrapped_too() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?><datastore><totalrecord>1</totalrecord><recordset><record><![CDATA[<li><a href="/art/2025/6/1/art_1_9.html">旧闻</a></li>]]></record></recordset></datastore>"#;
        let out = unwrap_datastore(xml);
        assert!(
            out.ends_with(r#"<li><a href="/art/2025/6/1/art_1_9.html">旧闻</a></li>"#),
            "{out}"
        );
    }

    #[test]
    fn pages_without_a_datastore_are_left_alone() {
        assert!(matches!(
            unwrap_datastore("<ul><li>x</li></ul>"),
            Cow::Borrowed(_)
        ));
    }
}

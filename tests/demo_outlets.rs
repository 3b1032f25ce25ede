//! The demo outlets and the shipped sources file, checked from outside the
//! crate the way `kuaibao demo` and a user's poll will meet them: over HTTP,
//! through `parse_sources`, with feed-rs and scraper.

use std::path::Path;
use std::time::Duration;

use kuaibao::config::{self, Section, Source, SourceKind};
use kuaibao::demo::{Outlets, sample_articles, start_outlets};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};

fn sections() -> Vec<Section> {
    config::parse_sections(Path::new("sections.toml"), config::DEFAULT_SECTIONS_TOML).unwrap()
}

async fn outlets() -> Outlets {
    start_outlets("127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn demo_sources(o: &Outlets) -> Vec<Source> {
    config::parse_sources(
        Path::new("demo-sources.toml"),
        &o.sources_toml(),
        Duration::from_secs(1800),
        &sections(),
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", o.sources_toml()))
}

fn source<'a>(sources: &'a [Source], id: &str) -> &'a Source {
    sources.iter().find(|s| s.id == id).unwrap()
}

async fn get(url: &url::Url) -> reqwest::Response {
    reqwest::Client::new()
        .get(url.as_str())
        .send()
        .await
        .unwrap()
}

fn decode_gbk(bytes: &[u8]) -> String {
    let (text, _, had_errors) = encoding_rs::GB18030.decode(bytes);
    assert!(!had_errors);
    text.into_owned()
}

fn select_text(html: &scraper::Html, sel: &config::FieldSelector) -> Option<String> {
    html.select(&sel.selector).next().map(|e| match &sel.attr {
        Some(a) => e.value().attr(a).unwrap_or_default().to_string(),
        None => e.text().collect(),
    })
}

#[tokio::test]
async fn demo_sources_toml_validates_with_the_five_outlets_and_their_sections() {
    let o = outlets().await;
    let sources = demo_sources(&o);
    let got: Vec<(&str, SourceKind, Option<&str>)> = sources
        .iter()
        .map(|s| (s.id.as_str(), s.kind, s.section.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("demo-mohrss", SourceKind::Html, Some("focus")),
            ("demo-gbk", SourceKind::Html, Some("regional")),
            ("demo-gmw-rss", SourceKind::Feed, Some("opinion")),
            ("demo-cnhi-atom", SourceKind::Feed, Some("opinion")),
            ("demo-chinanews-json", SourceKind::Json, Some("abroad")),
        ]
    );
    for s in &sources {
        assert!(
            s.url.as_str().starts_with(o.base_url().as_str()),
            "{}",
            s.url
        );
    }
    assert!(source(&sources, "demo-cnhi-atom").article.is_none());
    assert!(source(&sources, "demo-gmw-rss").article.is_none());
}

#[tokio::test]
async fn every_sample_article_is_served_on_a_page_holding_its_text_and_source() {
    let o = outlets().await;
    for a in sample_articles() {
        let url = o
            .article_url(&a.slug)
            .unwrap_or_else(|| panic!("{} is not served", a.slug));
        let resp = get(&url).await;
        assert_eq!(resp.status(), StatusCode::OK, "{url}");
        let bytes = resp.bytes().await.unwrap();
        let text = match std::str::from_utf8(&bytes) {
            Ok(t) => t.to_string(),
            Err(_) => decode_gbk(&bytes),
        };
        for p in &a.paragraphs {
            assert!(text.contains(p.as_str()), "{}: missing {p}", a.slug);
        }
        assert!(
            text.contains(&format!("来源：{}", a.origin)),
            "{}: no 来源",
            a.slug
        );
    }
}

#[tokio::test]
async fn gbk_article_page_is_gbk_bytes_with_the_charset_only_in_meta() {
    let o = outlets().await;
    let a = sample_articles()
        .into_iter()
        .find(|a| a.slug == "heilongjiang-job-loans")
        .unwrap();
    let resp = get(&o.article_url(&a.slug).unwrap()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let ct = resp.headers()[CONTENT_TYPE].to_str().unwrap().to_string();
    assert_eq!(ct, "text/html");
    let bytes = resp.bytes().await.unwrap();
    assert!(std::str::from_utf8(&bytes).is_err());
    let text = decode_gbk(&bytes);
    assert!(text.contains(&a.original_title));
    assert!(text.contains("charset=gb2312"));
    assert!(text.contains("来源：黑龙江省人力资源和社会保障厅"));
    assert!(text.contains(r#"<meta name="firstpublishedtime" content="2025-06-17-10:12:30">"#));
    // GBK covers every character: nothing fell back to a numeric reference.
    assert!(!text.contains("&#"));
}

#[tokio::test]
async fn a_request_with_the_etag_or_last_modified_answers_304_not_modified() {
    let o = outlets().await;
    let client = reqwest::Client::new();
    let url = o
        .base_url()
        .join("mohrss/SYrlzyhshbzb/dongtaixinwen/buneiyaowen/")
        .unwrap();
    let first = client.get(url.as_str()).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()[ETAG].to_str().unwrap().to_string();
    let last_modified = first.headers()[LAST_MODIFIED].to_str().unwrap().to_string();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong: {etag}"
    );

    let by_etag = client
        .get(url.as_str())
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(by_etag.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(by_etag.headers()[ETAG].to_str().unwrap(), etag);
    assert!(by_etag.bytes().await.unwrap().is_empty());

    let by_date = client
        .get(url.as_str())
        .header(IF_MODIFIED_SINCE, &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(by_date.status(), StatusCode::NOT_MODIFIED);

    let stale = client
        .get(url.as_str())
        .header(IF_NONE_MATCH, "\"0000\"")
        .header(IF_MODIFIED_SINCE, &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(
        stale.status(),
        StatusCode::OK,
        "If-None-Match takes precedence"
    );
}

#[tokio::test]
async fn unknown_paths_answer_404() {
    let o = outlets().await;
    for path in [
        "",
        "nothing-here",
        "mohrss/SYrlzyhshbzb/",
        "gbk/gddt/202506/t1_1.html",
    ] {
        let resp = get(&o.base_url().join(path).unwrap()).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "/{path}");
    }
}

#[tokio::test]
async fn html_sources_selectors_find_every_item_and_its_article_on_the_demo_pages() {
    let o = outlets().await;
    let sources = demo_sources(&o);
    for (id, section) in [("demo-mohrss", "focus"), ("demo-gbk", "regional")] {
        let s = source(&sources, id);
        let list = s.list.as_ref().unwrap();
        let article_sel = s.article.as_ref().unwrap();
        let bytes = get(&s.url).await.bytes().await.unwrap();
        let text = String::from_utf8(bytes.to_vec()).unwrap_or_else(|_| decode_gbk(&bytes));
        let doc = scraper::Html::parse_document(&text);
        let expected: Vec<_> = sample_articles()
            .into_iter()
            .filter(|a| a.section == section)
            .collect();
        let items: Vec<_> = doc.select(&list.item.selector).collect();
        assert_eq!(items.len(), expected.len(), "{id}");
        for item in items {
            let frag = scraper::Html::parse_fragment(&item.html());
            let href = select_text(&frag, &list.link).unwrap();
            let title = select_text(&frag, &list.title).unwrap();
            let date = select_text(&frag, list.date.as_ref().unwrap()).unwrap();
            assert!(date.starts_with("2025-06-"), "{id}: {date}");
            let a = expected.iter().find(|a| a.original_title == title).unwrap();
            let page_url = s.url.join(&href).unwrap();
            assert_eq!(Some(&page_url), o.article_url(&a.slug).as_ref());

            let bytes = get(&page_url).await.bytes().await.unwrap();
            let text = String::from_utf8(bytes.to_vec()).unwrap_or_else(|_| decode_gbk(&bytes));
            let page = scraper::Html::parse_document(&text);
            let content = select_text(&page, &article_sel.content).unwrap();
            assert!(
                content.contains(a.paragraphs.last().unwrap().as_str()),
                "{id}"
            );
            let origin = select_text(&page, article_sel.origin.as_ref().unwrap()).unwrap();
            assert!(
                origin.contains(&format!("来源：{}", a.origin)),
                "{id}: {origin}"
            );
            let page_title = select_text(&page, article_sel.title.as_ref().unwrap()).unwrap();
            assert_eq!(page_title.trim(), a.original_title);
            let date = select_text(&page, article_sel.date.as_ref().unwrap()).unwrap();
            assert!(date.starts_with(&a.date[..10]), "{id}: {date}");
        }
    }
}

#[tokio::test]
async fn mohrss_carries_a_xinhua_article_whose_page_names_xinhua_as_source() {
    let o = outlets().await;
    let url = o.article_url("jobs-policy-combo").unwrap();
    assert!(
        url.path()
            .ends_with("/buneiyaowen/202506/t20250618_541234.html"),
        "{url}"
    );
    let text = get(&url).await.text().await.unwrap();
    assert!(text.contains("发布日期：2025-06-18　　来源：新华社　　【字体："));
    assert!(text.contains(r#"<meta name="PubDate" content="2025-06-18 09:30">"#));
}

#[tokio::test]
async fn rss_feed_parses_and_carries_the_gmw_commentary_with_its_full_text() {
    let o = outlets().await;
    let url = source(&demo_sources(&o), "demo-gmw-rss").url.clone();
    let bytes = get(&url).await.bytes().await.unwrap();
    let feed = feed_rs::parser::parse(&bytes[..]).unwrap();
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::RSS2);
    assert_eq!(feed.entries.len(), 1);
    let entry = &feed.entries[0];
    let a = sample_articles()
        .into_iter()
        .find(|a| a.origin == "光明网")
        .unwrap();
    assert_eq!(entry.title.as_ref().unwrap().content, a.title);
    let body = entry.content.as_ref().unwrap().body.as_ref().unwrap();
    for p in &a.paragraphs {
        assert!(body.contains(p.as_str()));
    }
    assert!(entry.published.is_some());
    let link: url::Url = entry.links[0].href.parse().unwrap();
    assert_eq!(get(&link).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn atom_feed_parses_with_only_a_summary_linking_to_a_served_page() {
    let o = outlets().await;
    let url = source(&demo_sources(&o), "demo-cnhi-atom").url.clone();
    let bytes = get(&url).await.bytes().await.unwrap();
    let feed = feed_rs::parser::parse(&bytes[..]).unwrap();
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
    assert_eq!(feed.entries.len(), 1);
    let entry = &feed.entries[0];
    let a = sample_articles()
        .into_iter()
        .find(|a| a.origin == "中国医疗保险")
        .unwrap();
    assert_eq!(entry.title.as_ref().unwrap().content, a.title);
    assert!(entry.content.is_none());
    assert_eq!(entry.summary.as_ref().unwrap().content, a.paragraphs[0]);
    let link: url::Url = entry.links[0].href.parse().unwrap();
    let page = get(&link).await.text().await.unwrap();
    assert!(page.contains(r#"<div class="article-content">"#));
    assert!(page.contains("来源：中国医疗保险"));
    assert!(page.contains(a.paragraphs.last().unwrap().as_str()));
}

#[tokio::test]
async fn json_list_parses_and_its_link_urls_are_served_with_the_legacy_chinanews_template() {
    let o = outlets().await;
    let s = source(&demo_sources(&o), "demo-chinanews-json").clone();
    let resp = get(&s.url).await;
    assert!(
        resp.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let doc: serde_json::Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    let list = doc["data"]["list"].as_array().unwrap();
    // The abroad article and what a general outlet carries besides.
    assert_eq!(list.len(), 1 + kuaibao::demo::other_articles().len());
    let a = sample_articles()
        .into_iter()
        .find(|a| a.section == "abroad")
        .unwrap();
    let entry = list
        .iter()
        .find(|e| e["Title"] == a.title.as_str())
        .expect("the abroad article is listed");
    assert_eq!(entry["PubTime"], "2025-06-09 10:21:00");
    let link: url::Url = entry["LinkUrl"].as_str().unwrap().parse().unwrap();
    let page = get(&link).await.text().await.unwrap();
    let html = scraper::Html::parse_document(&page);
    let article = s.article.as_ref().unwrap();
    let origin = select_text(&html, article.origin.as_ref().unwrap()).unwrap();
    assert!(
        origin.starts_with("2025年06月09日 10:21　来源：中国新闻网"),
        "{origin}"
    );
    let body = select_text(&html, &article.content).unwrap();
    assert!(body.contains(a.paragraphs[3].as_str()));
}

#[tokio::test]
async fn json_list_answers_jsonp_when_asked_for_a_callback() {
    let o = outlets().await;
    let mut url = o.base_url().join("chinanews/nodeart/list").unwrap();
    url.set_query(Some("nid=113352&pgnum=1&cnt=10&callback=jQuery123_456"));
    let text = get(&url).await.text().await.unwrap();
    let inner = text
        .strip_prefix("jQuery123_456(")
        .and_then(|t| t.strip_suffix(");"))
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(inner).unwrap();
    assert!(doc["data"]["list"][0]["LinkUrl"].is_string());
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let o = outlets().await;
    let url = o.base_url();
    o.shutdown().await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    assert!(client.get(url.as_str()).send().await.is_err());
}

#[test]
fn shipped_sources_toml_validates_with_unique_ids_and_at_least_twelve_sources() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/sources.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let sources = config::parse_sources(&path, &text, Duration::from_secs(1800), &sections())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(sources.len() >= 12, "only {} sources", sources.len());
    let mut ids: Vec<&str> = sources.iter().map(|s| s.id.as_str()).collect();
    ids.sort();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate ids");
    for s in &sources {
        assert!(!s.url.as_str().contains("127.0.0.1"), "{}", s.id);
        if s.kind == SourceKind::Html {
            assert!(
                s.article.is_some(),
                "{}: html lists need [source.article]",
                s.id
            );
        }
    }
}

#[tokio::test]
async fn cnhi_article_page_yields_just_its_body_to_generic_extraction() {
    let o = outlets().await;
    let a = sample_articles()
        .into_iter()
        .find(|a| a.origin == "中国医疗保险")
        .unwrap();
    let url = o.article_url(&a.slug).unwrap();
    let html = get(&url).await.text().await.unwrap();
    let article = dom_smoothie::Readability::new(html, Some(url.as_str()), None)
        .unwrap()
        .parse()
        .unwrap();
    let text = article.text_content.to_string();
    assert!(text.contains(a.paragraphs[0].as_str()));
    assert!(text.contains(a.paragraphs.last().unwrap().as_str()));
    for boilerplate in ["栏目导航", "热点推荐", "投稿须知", "分享："] {
        assert!(!text.contains(boilerplate), "kept {boilerplate}");
    }
}

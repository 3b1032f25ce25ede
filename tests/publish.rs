//! Specification of the publish stage: what `kuaibao::publish` writes for
//! feed readers (Atom), subscription tools (OPML) and browsers (index.html).

use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use atom_syndication::Feed;
use chrono::{DateTime, FixedOffset};
use kuaibao::config::Config;
use kuaibao::model::FeedEntry;
use kuaibao::publish::{self, FeedKind, PublishError};

const BASE: &str = "https://kb.example.org/kuaibao/";

fn config_with(dir: &Path, extra: &str) -> Config {
    let main = dir.join("kuaibao.toml");
    fs::write(
        &main,
        format!("title = \"测试快报\"\nbase_url = \"{BASE}\"\nsources = \"sources.toml\"\n{extra}"),
    )
    .unwrap();
    fs::write(dir.join("sources.toml"), "").unwrap();
    Config::load(&main).unwrap()
}

fn config(dir: &Path) -> Config {
    config_with(dir, "")
}

fn date(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn entry(uid: &str, section: Option<&str>, published: &str) -> FeedEntry {
    FeedEntry {
        uid: uid.to_string(),
        title: format!("标题 {uid}"),
        url: format!("https://www.mohrss.gov.cn/{uid}.html"),
        content_html: format!("<p>正文 {uid}</p>"),
        origin: "人力资源和社会保障部".to_string(),
        source_name: "人力资源和社会保障部".to_string(),
        source_url: "https://www.mohrss.gov.cn/list.html".to_string(),
        section: section.map(str::to_string),
        published: Some(date(published)),
        updated: date(published),
        changed: date(published),
        original_title: None,
        via: Vec::new(),
    }
}

fn sample() -> Vec<FeedEntry> {
    vec![
        entry("a1", Some("focus"), "2025-03-01T09:00:00+08:00"),
        entry("a2", Some("regional"), "2025-03-02T09:00:00+08:00"),
        entry("a3", Some("focus"), "2025-03-03T09:00:00+08:00"),
        entry("a4", None, "2025-03-04T09:00:00+08:00"),
    ]
}

fn read_feed(path: &Path) -> Feed {
    Feed::read_from(BufReader::new(fs::File::open(path).unwrap())).unwrap()
}

fn feed_path(out: &Path, name: &str) -> PathBuf {
    out.join("feeds").join(format!("{name}.xml"))
}

fn uids(feed: &Feed) -> Vec<String> {
    feed.entries()
        .iter()
        .map(|e| e.id().rsplit('/').next().unwrap().to_string())
        .collect()
}

/// RFC 4151: `tag:` authority `,` date `:` specific, no whitespace.
fn assert_tag_uri(id: &str) {
    let rest = id
        .strip_prefix("tag:")
        .unwrap_or_else(|| panic!("{id} is not a tag: URI"));
    let (authority, rest) = rest.split_once(',').expect("tag: URI needs ,date");
    let (date, specific) = rest.split_once(':').expect("tag: URI needs :specific");
    assert!(!authority.is_empty() && !authority.contains(':'), "{id}");
    assert!(
        date.len() == 4 && date.chars().all(|c| c.is_ascii_digit()),
        "{id}"
    );
    assert!(!specific.is_empty(), "{id}");
    assert!(
        id.chars().all(|c| c.is_ascii_graphic()),
        "{id} must be ASCII without spaces"
    );
}

#[test]
fn every_feed_is_atom_with_the_elements_rfc4287_requires() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let out = dir.path().join("public");
    publish::write_all(&config, &sample(), &out).unwrap();
    for name in ["all", "focus", "regional", "opinion", "abroad"] {
        let feed = read_feed(&feed_path(&out, name));
        assert_tag_uri(feed.id());
        assert!(!feed.title().as_str().is_empty());
        assert!(
            !feed.authors().is_empty(),
            "feed-level author covers entries"
        );
        let self_link = feed.links().iter().find(|l| l.rel() == "self").unwrap();
        assert_eq!(self_link.href(), format!("{BASE}feeds/{name}.xml"));
        assert_eq!(self_link.mime_type(), Some("application/atom+xml"));
        let alt = feed
            .links()
            .iter()
            .find(|l| l.rel() == "alternate")
            .unwrap();
        assert_eq!(alt.href(), BASE);
        assert_eq!(feed.generator().unwrap().value, "kuaibao");
        for e in feed.entries() {
            assert_tag_uri(e.id());
            assert!(!e.title().as_str().is_empty());
            assert!(!e.links().is_empty() || e.content().is_some());
        }
    }
}

#[test]
fn ids_are_tag_uris_on_the_base_url_host_and_stable() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let xml = publish::render_feed(&config, FeedKind::All, &sample()).unwrap();
    let feed: Feed = xml.parse().unwrap();
    assert_eq!(feed.id(), "tag:kb.example.org,2025:kuaibao/feeds/all");
    assert_eq!(
        feed.entries()[0].id(),
        "tag:kb.example.org,2025:kuaibao/item/a4"
    );
}

#[test]
fn an_ip_literal_base_url_still_gives_valid_tag_uris() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    for base in [
        "http://127.0.0.1:8080/",
        "http://[::1]:8080/",
        "http://intranet/",
    ] {
        config.base_url = url::Url::parse(base).unwrap();
        let feed: Feed = publish::render_feed(&config, FeedKind::All, &sample())
            .unwrap()
            .parse()
            .unwrap();
        assert_tag_uri(feed.id());
        feed.entries().iter().for_each(|e| assert_tag_uri(e.id()));
    }
}

#[test]
fn entries_are_newest_first_whatever_order_they_come_in() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let mut entries = sample();
    // No publication date: its update date counts.
    let mut undated = entry("b0", None, "2025-03-05T09:00:00+08:00");
    undated.published = None;
    entries.push(undated);
    // Same instant as a3 in another offset: the uid decides.
    entries.push(entry("a0", None, "2025-03-03T01:00:00+00:00"));
    let xml = publish::render_feed(&config, FeedKind::All, &entries).unwrap();
    let feed: Feed = xml.parse().unwrap();
    assert_eq!(uids(&feed), ["b0", "a4", "a0", "a3", "a2", "a1"]);
    entries.reverse();
    let again = publish::render_feed(&config, FeedKind::All, &entries).unwrap();
    assert_eq!(xml, again);
}

#[test]
fn a_feed_holds_at_most_publish_entries_and_keeps_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), "[publish]\nentries = 2\n");
    let out = dir.path().join("public");
    let report = publish::write_all(&config, &sample(), &out).unwrap();
    assert_eq!(uids(&read_feed(&feed_path(&out, "all"))), ["a4", "a3"]);
    assert_eq!(uids(&read_feed(&feed_path(&out, "focus"))), ["a3", "a1"]);
    let all = report.feeds.iter().find(|f| f.name == "all").unwrap();
    assert_eq!(all.entries, 2);
}

#[test]
fn section_feeds_hold_only_their_section_and_exist_when_empty() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let out = dir.path().join("public");
    publish::write_all(&config, &sample(), &out).unwrap();
    assert_eq!(uids(&read_feed(&feed_path(&out, "focus"))), ["a3", "a1"]);
    assert_eq!(uids(&read_feed(&feed_path(&out, "regional"))), ["a2"]);
    for empty in ["opinion", "abroad"] {
        let feed = read_feed(&feed_path(&out, empty));
        assert!(feed.entries().is_empty());
        assert_eq!(
            feed.title().as_str(),
            format!("测试快报 · {}", config.section(empty).unwrap().name)
        );
        assert_eq!(feed.updated().to_rfc3339(), "2025-01-01T00:00:00+08:00");
    }
    let focus = read_feed(&feed_path(&out, "focus"));
    assert_eq!(
        focus.subtitle().unwrap().as_str(),
        config.section("focus").unwrap().description
    );
    assert_eq!(focus.updated().to_rfc3339(), "2025-03-03T09:00:00+08:00");
}

#[test]
fn html_content_round_trips_as_type_html_with_a_plain_summary() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let mut e = entry("c1", Some("focus"), "2025-03-01T09:00:00+08:00");
    e.content_html = "<p>第一段 &amp; <b>要点</b></p><p>第二段</p>".into();
    let feed: Feed = publish::render_feed(&config, FeedKind::All, std::slice::from_ref(&e))
        .unwrap()
        .parse()
        .unwrap();
    let got = &feed.entries()[0];
    let content = got.content().unwrap();
    assert_eq!(content.content_type(), Some("html"));
    assert_eq!(content.value(), Some(e.content_html.as_str()));
    assert_eq!(got.summary().unwrap().as_str(), "第一段 & 要点第二段");
    assert_eq!(
        got.published().unwrap().to_rfc3339(),
        "2025-03-01T09:00:00+08:00"
    );
    assert_eq!(got.links()[0].href(), e.url);
}

#[test]
fn an_entry_names_its_section_and_its_origin_outlet() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let own = entry("d1", Some("focus"), "2025-03-01T09:00:00+08:00");
    let mut reprint = entry("d2", Some("nowhere"), "2025-03-02T09:00:00+08:00");
    reprint.origin = "人民日报".into();
    let feed: Feed = publish::render_feed(&config, FeedKind::All, &[own, reprint])
        .unwrap()
        .parse()
        .unwrap();
    let (reprint, own) = (&feed.entries()[0], &feed.entries()[1]);

    let cat = &own.categories()[0];
    assert_eq!(cat.term(), "focus");
    assert_eq!(cat.label(), Some("最新关注"));
    let src = own.source().unwrap();
    assert_eq!(src.title().as_str(), "人力资源和社会保障部");
    assert_tag_uri(src.id());
    assert_eq!(src.links()[0].href(), "https://www.mohrss.gov.cn/list.html");

    assert!(
        reprint.categories().is_empty(),
        "unknown sections are not categories"
    );
    let src = reprint.source().unwrap();
    assert_eq!(src.title().as_str(), "人民日报");
    assert_eq!(
        src.id(),
        "tag:kb.example.org,2025:kuaibao/outlet/%E4%BA%BA%E6%B0%91%E6%97%A5%E6%8A%A5"
    );
    assert!(src.links().is_empty(), "the list page is not the origin's");
}

#[test]
fn feeds_parse_with_feed_rs_as_well() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let xml = publish::render_feed(&config, FeedKind::All, &sample()).unwrap();
    let feed = feed_rs::parser::parse(xml.as_bytes()).unwrap();
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
    assert_eq!(feed.entries.len(), 4);
    assert!(feed.entries.iter().all(|e| e.content.is_some()));
}

#[test]
fn control_characters_from_scraped_pages_do_not_break_the_xml() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let mut e = entry("e1", None, "2025-03-01T09:00:00+08:00");
    e.title = "坏\u{1}标题\u{b}".into();
    e.content_html = "<p>x\u{0}y</p>".into();
    let feed: Feed = publish::render_feed(&config, FeedKind::All, &[e])
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(feed.entries()[0].title().as_str(), "坏标题");
}

#[test]
fn publishing_twice_writes_identical_bytes_and_reports_nothing_changed() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let out = dir.path().join("public");
    let first = publish::write_all(&config, &sample(), &out).unwrap();
    assert_eq!(first.files.len(), 1 + 4 + 2);
    assert_eq!(first.changed, first.files);
    let before: Vec<Vec<u8>> = first.files.iter().map(|p| fs::read(p).unwrap()).collect();
    let mtimes: Vec<_> = first
        .files
        .iter()
        .map(|p| fs::metadata(p).unwrap().modified().unwrap())
        .collect();

    let second = publish::write_all(&config, &sample(), &out).unwrap();
    assert_eq!(second.files, first.files);
    assert!(second.changed.is_empty(), "{:?}", second.changed);
    let after: Vec<Vec<u8>> = second.files.iter().map(|p| fs::read(p).unwrap()).collect();
    assert_eq!(before, after);
    let mtimes_after: Vec<_> = second
        .files
        .iter()
        .map(|p| fs::metadata(p).unwrap().modified().unwrap())
        .collect();
    assert_eq!(mtimes, mtimes_after);
}

#[test]
fn a_new_entry_rewrites_only_the_documents_it_appears_in() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let out = dir.path().join("public");
    let mut entries = sample();
    publish::write_all(&config, &entries, &out).unwrap();
    entries.push(entry("n1", Some("opinion"), "2025-03-09T09:00:00+08:00"));
    let report = publish::write_all(&config, &entries, &out).unwrap();
    let mut changed = report.changed.clone();
    changed.sort();
    let mut expected = vec![
        feed_path(&out, "all"),
        feed_path(&out, "opinion"),
        out.join("index.html"),
    ];
    expected.sort();
    assert_eq!(changed, expected);
}

#[test]
fn empty_store_publishes_every_feed_with_a_fixed_date() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let out = dir.path().join("public");
    publish::write_all(&config, &[], &out).unwrap();
    let first = fs::read(feed_path(&out, "all")).unwrap();
    let report = publish::write_all(&config, &[], &out).unwrap();
    assert!(report.changed.is_empty());
    assert_eq!(first, fs::read(feed_path(&out, "all")).unwrap());
    let feed = read_feed(&feed_path(&out, "all"));
    assert_eq!(feed.updated().to_rfc3339(), "2025-01-01T00:00:00+08:00");
}

#[test]
fn render_feed_gives_the_bytes_write_all_writes() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let out = dir.path().join("public");
    publish::write_all(&config, &sample(), &out).unwrap();
    let section = config.section("focus").unwrap();
    let served = publish::render_feed(&config, FeedKind::Section(section), &sample()).unwrap();
    assert_eq!(
        served,
        fs::read_to_string(feed_path(&out, "focus")).unwrap()
    );
}

#[test]
fn opml_lists_the_all_feed_and_one_per_section_with_absolute_urls() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let out = dir.path().join("public");
    publish::write_all(&config, &sample(), &out).unwrap();
    let text = fs::read_to_string(out.join("feeds.opml")).unwrap();
    assert_eq!(text, publish::render_opml(&config).unwrap());
    let doc = opml::OPML::from_str(&text).unwrap();
    assert_eq!(doc.version, "2.0");
    let outlines = &doc.body.outlines;
    assert_eq!(outlines.len(), 1 + config.sections.len());
    let urls: Vec<&str> = outlines
        .iter()
        .map(|o| o.xml_url.as_deref().unwrap())
        .collect();
    assert_eq!(
        urls,
        [
            "https://kb.example.org/kuaibao/feeds/all.xml",
            "https://kb.example.org/kuaibao/feeds/focus.xml",
            "https://kb.example.org/kuaibao/feeds/regional.xml",
            "https://kb.example.org/kuaibao/feeds/opinion.xml",
            "https://kb.example.org/kuaibao/feeds/abroad.xml",
        ]
    );
    for o in outlines {
        assert_eq!(o.r#type.as_deref(), Some("rss"));
        assert_eq!(o.title.as_deref(), Some(o.text.as_str()));
        assert_eq!(o.html_url.as_deref(), Some(BASE));
    }
    assert_eq!(outlines[1].text, "测试快报 · 最新关注");
}

#[test]
fn index_escapes_markup_in_titles() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let mut e = entry("x1", Some("focus"), "2025-03-01T09:00:00+08:00");
    e.title = "<script>alert(\"x\")</script>".into();
    e.origin = "A&B".into();
    let html = publish::render_index(&config, &[e]);
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert!(html.contains("A&amp;B"));
}

#[test]
fn index_is_a_mobile_friendly_page_with_feed_autodiscovery() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let html = publish::render_index(&config, &sample());
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<html lang=\"zh-CN\">"));
    assert!(html.contains("<meta charset=\"utf-8\">"));
    assert!(html.contains("name=\"viewport\""));
    for name in ["all", "focus", "regional", "opinion", "abroad"] {
        assert!(
            html.contains(&format!("href=\"feeds/{name}.xml\"")),
            "{name}"
        );
    }
    assert_eq!(
        html.matches("rel=\"alternate\" type=\"application/atom+xml\"")
            .count(),
        5
    );
    assert!(html.contains("href=\"feeds.opml\""));
}

#[test]
fn index_lists_sections_in_bulletin_order_then_unsectioned_items() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let mut late = entry("z1", Some("focus"), "2025-03-31T23:30:00+00:00");
    late.published = Some(date("2025-03-31T23:30:00+00:00"));
    let mut entries = sample();
    entries.push(late);
    let html = publish::render_index(&config, &entries);
    let pos = |s: &str| html.find(s).unwrap_or_else(|| panic!("missing {s}"));
    assert!(pos("<h2>最新关注</h2>") < pos("<h2>各地动态</h2>"));
    assert!(pos("<h2>各地动态</h2>") < pos("<h2>一家之言</h2>"));
    assert!(pos("<h2>一家之言</h2>") < pos("<h2>他山之石</h2>"));
    assert!(pos("<h2>他山之石</h2>") < pos("<h2>未分栏</h2>"));
    assert!(pos("标题 a4") > pos("<h2>未分栏</h2>"));
    // Within a section, newest first; dates are Beijing dates.
    assert!(pos("标题 z1") < pos("标题 a3"));
    assert!(html.contains(">2025-04-01</time>"));
    assert!(html.contains("<a href=\"https://www.mohrss.gov.cn/a3.html\">标题 a3</a>"));
}

#[test]
fn an_unwritable_output_directory_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let out = dir.path().join("public");
    fs::write(&out, "a file, not a directory").unwrap();
    let err = publish::write_all(&config, &sample(), &out).unwrap_err();
    assert!(matches!(err, PublishError::Io { .. }));
    assert!(err.to_string().contains("public"), "{err}");
}

#[test]
fn a_section_named_all_is_refused_rather_than_overwriting_the_all_feed() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("sections.toml"),
        "[[section]]\nid = \"all\"\nname = \"全部\"\n",
    )
    .unwrap();
    let err = kuaibao::config::parse_sections(
        &dir.path().join("sections.toml"),
        "[[section]]\nid = \"all\"\nname = \"全部\"\n",
    )
    .unwrap_err();
    assert!(err.to_string().contains("sections.toml:2"), "{err}");
    assert!(err.to_string().contains("reserved"), "{err}");
}

//! Issues (期) of the bulletin, the last stage: approved stories are drafted
//! into an issue by section, edited, published, exported and served. The
//! demo's sample articles (信息快报 第 202509 期) make up the issue, so its
//! export can be checked against the printed issue's text.

use crate::common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use chrono::{DateTime, NaiveDate};
use kuaibao::config::Config;
use kuaibao::demo::{SampleArticle, sample_articles};
use kuaibao::metrics::Metrics;
use kuaibao::model::NewItem;
use kuaibao::normalize::sanitize_html;
use kuaibao::serve::{self, ServeState};
use kuaibao::store::{IssueEdits, IssueStatus, Status, Store, StoreError};
use tower::ServiceExt;

use common::TestConfig;

/// The printed issue's text, as extracted from its PDF.
const PRINTED: &str = include_str!("bulletin/bulletin-202509.txt");

const SOURCES: &str = "[[source]]\nid = \"demo\"\nname = \"示例来源\"\n\
                       url = \"http://127.0.0.1:9/list.xml\"\nkind = \"feed\"\n";

/// Puts `key = value` lines at the top of the main file, where top-level
/// keys must go (TestConfig appends its extra text after `[poll]`).
fn prepend_main(tc: &TestConfig, lines: &str) {
    let main = std::fs::read_to_string(tc.path()).expect("main");
    std::fs::write(tc.path(), format!("{lines}\n{main}")).expect("main");
}

fn sections(config: &Config) -> Vec<String> {
    config.sections.iter().map(|s| s.id.clone()).collect()
}

fn item(a: &SampleArticle) -> NewItem {
    let html = maud::html! { @for p in &a.paragraphs { p { (p) } "\n" } }.into_string();
    NewItem {
        source_id: "demo".into(),
        guid: None,
        url: format!("https://www.example.gov.cn/{}.html", a.slug),
        canonical_url: format!("http://example.gov.cn/{}.html", a.slug),
        title: a.title.clone(),
        content_html: sanitize_html(
            &html,
            &url::Url::parse("https://www.example.gov.cn/").unwrap(),
        ),
        content_text: a.paragraphs.join("\n"),
        content_hash: format!("hash-{}", a.slug),
        origin: a.origin.clone(),
        section: Some(a.section.clone()),
        region: None,
        published: Some(
            DateTime::parse_from_rfc3339(&format!("{}:00+08:00", a.date.replace(' ', "T")))
                .expect("sample date"),
        ),
        bulletin_title: None,
        relevance: None,
        explanation: None,
    }
}

/// A made-up article, for stories beyond the sample issue.
fn other(slug: &str, section: Option<&str>, date: &str) -> NewItem {
    let a = SampleArticle {
        slug: slug.into(),
        section: String::new(),
        title: format!("另一条消息 {slug}"),
        original_title: String::new(),
        origin: "新华社".into(),
        date: date.into(),
        paragraphs: vec![format!(
            "这是另一条与样刊无关的消息，编号 {slug}，讲的是另一个地方另一件事情，篇幅足够长以免与其他消息混为一谈。"
        )],
    };
    NewItem {
        section: section.map(str::to_string),
        ..item(&a)
    }
}

/// The made-up articles share a template: grouping would make them one
/// story.
fn dedup_cfg() -> kuaibao::dedup::DedupConfig {
    kuaibao::dedup::DedupConfig {
        enabled: false,
        ..kuaibao::dedup::DedupConfig::default()
    }
}

/// Stores `item` with `status`; returns its story.
fn add(store: &mut Store, item: &NewItem, status: Status) -> i64 {
    let id = kuaibao::poll::store_item(store, item, status, &dedup_cfg())
        .expect("store")
        .id();
    store.story_of(id).expect("story")
}

/// A configuration and a store holding the ten sample articles, approved;
/// returns the story of each, in printed order.
fn sample_store(extra_main: &str) -> (TestConfig, Config, Store, Vec<i64>) {
    let tc = TestConfig::new(SOURCES, extra_main);
    let config = tc.load();
    let mut store = Store::open(&config.storage.database).expect("open");
    store.sync_sources(&config.sources).expect("sources");
    // The made-up articles share a template: grouping would make them one
    // story.
    let stories = sample_articles()
        .iter()
        .map(|a| add(&mut store, &item(a), Status::Approved))
        .collect();
    (tc, config, store, stories)
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn story_ids(store: &Store, config: &Config, number: &str) -> Vec<i64> {
    store
        .issue(number, &sections(config))
        .expect("issue")
        .entries
        .iter()
        .map(|e| e.story_id)
        .collect()
}

// --- drafting -------------------------------------------------------------

#[test]
fn a_new_issue_holds_every_approved_story_by_section_in_bulletin_order_then_by_date() {
    let (_tc, config, mut store, printed) = sample_store("");
    let candidate = add(
        &mut store,
        &other("cand", Some("focus"), "2025-06-15 08:00"),
        Status::Candidate,
    );
    let rejected = add(
        &mut store,
        &other("rej", Some("focus"), "2025-06-15 09:00"),
        Status::Rejected,
    );

    let info = store
        .create_issue("202509", day(2025, 6, 20), &sections(&config))
        .expect("create");
    assert_eq!(info.number, "202509");
    assert_eq!(info.date, day(2025, 6, 20));
    assert_eq!(info.status, IssueStatus::Draft);
    assert_eq!(info.stories, 10);

    let detail = store.issue("202509", &sections(&config)).expect("issue");
    let got: Vec<(usize, &str, &str)> = detail
        .entries
        .iter()
        .map(|e| {
            (
                e.position,
                e.section.as_deref().unwrap_or("-"),
                e.published.as_deref().unwrap_or("-"),
            )
        })
        .collect();
    let sections_in_order: Vec<&str> = got.iter().map(|g| g.1).collect();
    assert_eq!(
        sections_in_order,
        [
            "focus", "focus", "regional", "regional", "regional", "regional", "regional",
            "opinion", "opinion", "abroad"
        ]
    );
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        (1..=10).collect::<Vec<_>>()
    );
    for pair in got.windows(2) {
        if pair[0].1 == pair[1].1 {
            assert!(pair[0].2 < pair[1].2, "by date within a section: {pair:?}");
        }
    }
    let ids = story_ids(&store, &config, "202509");
    let mut sorted_ids = ids.clone();
    sorted_ids.sort_unstable();
    let mut printed_sorted = printed.clone();
    printed_sorted.sort_unstable();
    assert_eq!(sorted_ids, printed_sorted, "every approved story, once");
    assert!(!ids.contains(&candidate) && !ids.contains(&rejected));
    let first = &detail.entries[0];
    assert_eq!(
        first.title,
        "人社部组织开展专业技术人才管理服务改革试点工作"
    );
    assert_eq!(first.origin, "人力资源社会保障部");
    assert_eq!(first.status, Status::Approved);
}

#[test]
fn a_second_issue_holds_only_the_stories_approved_since_and_unsectioned_ones_last() {
    let (_tc, config, mut store, _) = sample_store("");
    let candidate = add(
        &mut store,
        &other("cand", Some("focus"), "2025-06-15 08:00"),
        Status::Candidate,
    );
    store
        .create_issue("202509", day(2025, 6, 20), &sections(&config))
        .expect("first");
    let loose = add(
        &mut store,
        &other("loose", None, "2025-06-21 08:00"),
        Status::Approved,
    );
    let abroad = add(
        &mut store,
        &other("abroad", Some("abroad"), "2025-06-25 08:00"),
        Status::Approved,
    );
    let focus = add(
        &mut store,
        &other("focus", Some("focus"), "2025-06-28 08:00"),
        Status::Approved,
    );
    let rejected = add(
        &mut store,
        &other("rej", Some("focus"), "2025-06-22 08:00"),
        Status::Rejected,
    );

    let info = store
        .create_issue("202510", day(2025, 7, 4), &sections(&config))
        .expect("second");
    assert_eq!(info.stories, 3);
    assert_eq!(
        story_ids(&store, &config, "202510"),
        [focus, abroad, loose],
        "sections in bulletin order, no section last"
    );
    assert!(!story_ids(&store, &config, "202510").contains(&candidate));
    assert!(!story_ids(&store, &config, "202510").contains(&rejected));

    // A third issue with nothing new approved is empty, not a repeat.
    let info = store
        .create_issue("202511", day(2025, 7, 18), &sections(&config))
        .expect("third");
    assert_eq!(info.stories, 0);

    let list = store.issues().expect("list");
    let numbers: Vec<(&str, i64)> = list
        .iter()
        .map(|i| (i.number.as_str(), i.stories))
        .collect();
    assert_eq!(
        numbers,
        [("202511", 0), ("202510", 3), ("202509", 10)],
        "newest first"
    );

    // The renderer gets the unsectioned story under 其他, last.
    let mut focus_only = config.clone();
    focus_only.sections.retain(|s| s.id == "focus");
    let doc = kuaibao::assemble::issue_doc(&focus_only, &store, "202510").expect("doc");
    let names: Vec<&str> = doc.printed_sections().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["最新关注", "其他"]);
    assert_eq!(doc.sections.last().map(|s| s.articles.len()), Some(2));
}

#[test]
fn issue_numbers_must_be_six_digits_and_unique() {
    let (_tc, config, mut store, _) = sample_store("");
    let s = sections(&config);
    for bad in ["2025", "2025-09", "../etc", "２０２５０９"] {
        assert!(
            matches!(
                store.create_issue(bad, day(2025, 6, 20), &s),
                Err(StoreError::InvalidIssueNumber(_))
            ),
            "{bad}"
        );
    }
    store.create_issue("202509", day(2025, 6, 20), &s).unwrap();
    let again = store.create_issue("202509", day(2025, 6, 21), &s);
    assert!(matches!(again, Err(StoreError::DuplicateIssue(_))));
    assert!(matches!(
        store.issue("202599", &s),
        Err(StoreError::NoSuchIssue(_))
    ));
}

// --- editing --------------------------------------------------------------

#[test]
fn edits_add_remove_and_move_stories_as_asked_within_their_sections() {
    let (_tc, config, mut store, _) = sample_store("");
    let s = sections(&config);
    store.create_issue("202509", day(2025, 6, 20), &s).unwrap();
    let draft = story_ids(&store, &config, "202509");
    // focus: 0 1 | regional: 2…6 | opinion: 7 8 | abroad: 9

    // Remove, then add back: it returns at the end of its section.
    let first_regional = draft[2];
    store
        .issue_remove("202509", first_regional, &s)
        .expect("remove");
    assert_eq!(story_ids(&store, &config, "202509").len(), 9);
    let at = store
        .issue_add("202509", first_regional, &s)
        .expect("add back");
    assert_eq!(at, 7, "last of 各地动态");
    let now = story_ids(&store, &config, "202509");
    assert_eq!(now[6], first_regional);
    assert_eq!(&now[2..6], &draft[3..7]);

    // Move within a section.
    let moved = store.issue_move("202509", draft[8], 8, &s).expect("move");
    assert_eq!(moved, 8);
    assert_eq!(
        story_ids(&store, &config, "202509")[7..9],
        [draft[8], draft[7]]
    );

    // Past the start of its section: first in its section, not in another.
    let moved = store
        .issue_move("202509", first_regional, 1, &s)
        .expect("move");
    assert_eq!(moved, 3);
    let now = story_ids(&store, &config, "202509");
    assert_eq!(now[..3], [draft[0], draft[1], first_regional]);

    // Past the end of the issue: refused, nothing changed.
    let refused = store.issue_move("202509", draft[0], 11, &s);
    assert!(matches!(refused, Err(StoreError::BadPosition { .. })));
    assert_eq!(story_ids(&store, &config, "202509"), now);

    // Several edits at once apply together or not at all.
    let edits = IssueEdits {
        remove: vec![draft[9]],
        add: vec![999_999],
        ..IssueEdits::default()
    };
    assert!(matches!(
        store.edit_issue("202509", &edits, &s),
        Err(StoreError::NoSuchStory(999_999))
    ));
    assert_eq!(story_ids(&store, &config, "202509"), now, "nothing applied");

    // A story is in one issue at most; only approved stories go in.
    store.create_issue("202510", day(2025, 7, 4), &s).unwrap();
    assert!(matches!(
        store.issue_add("202510", draft[0], &s),
        Err(StoreError::StoryInIssue { .. })
    ));
    let candidate = add(
        &mut store,
        &other("cand", Some("focus"), "2025-06-30 08:00"),
        Status::Candidate,
    );
    assert!(matches!(
        store.issue_add("202510", candidate, &s),
        Err(StoreError::StoryNotApproved { .. })
    ));
    assert!(matches!(
        store.issue_remove("202510", draft[0], &s),
        Err(StoreError::StoryNotInIssue { .. })
    ));

    store
        .set_issue_date("202509", day(2025, 6, 21))
        .expect("date");
    assert_eq!(
        store.issue("202509", &s).unwrap().info.date,
        day(2025, 6, 21)
    );
}

#[test]
fn a_published_issue_cannot_be_edited_until_unpublished() {
    let (_tc, config, mut store, _) = sample_store("");
    let s = sections(&config);
    store.create_issue("202509", day(2025, 6, 20), &s).unwrap();
    let ids = story_ids(&store, &config, "202509");
    let info = store.publish_issue("202509").expect("publish");
    assert_eq!(info.status, IssueStatus::Published);
    assert!(info.published_at.is_some());

    for result in [
        store.issue_remove("202509", ids[0], &s).map(|_| ()),
        store.issue_move("202509", ids[1], 1, &s).map(|_| ()),
        store.set_issue_date("202509", day(2025, 7, 1)),
        store.delete_issue("202509"),
    ] {
        assert!(
            matches!(result, Err(StoreError::IssuePublished(_))),
            "{result:?}"
        );
    }
    assert_eq!(story_ids(&store, &config, "202509"), ids);

    store.unpublish_issue("202509").expect("unpublish");
    store
        .issue_move("202509", ids[1], 1, &s)
        .expect("a draft again");
}

#[test]
fn an_issue_is_published_only_when_every_story_in_it_is_still_approved() {
    let (_tc, config, mut store, _) = sample_store("");
    let s = sections(&config);
    store.create_issue("202509", day(2025, 6, 20), &s).unwrap();
    let detail = store.issue("202509", &s).unwrap();
    // An editor rejects a story after it was drafted.
    store
        .set_status(detail.entries[3].item_id, Status::Rejected)
        .unwrap();
    assert!(matches!(
        store.publish_issue("202509"),
        Err(StoreError::StoryNotApproved { .. })
    ));
    store.create_issue("202510", day(2025, 7, 4), &s).unwrap();
    assert!(matches!(
        store.publish_issue("202510"),
        Err(StoreError::EmptyIssue(_))
    ));
}

// --- the command line -----------------------------------------------------

fn kuaibao(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kuaibao"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run kuaibao")
}

fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8 output")
}

fn non_empty_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// Where each needle is found in `haystack`, each searched after the
/// previous one's start; panics naming the first one missing or out of
/// order.
fn positions_in_order(haystack: &str, needles: &[String]) -> Vec<usize> {
    let mut from = 0;
    needles
        .iter()
        .map(|needle| {
            let at = haystack[from..]
                .find(needle.as_str())
                .map(|i| from + i)
                .unwrap_or_else(|| panic!("{needle:?} is missing or out of order"));
            from = at + needle.chars().next().map_or(0, char::len_utf8);
            at
        })
        .collect()
}

/// Drafts 第 202509 期 with the CLI and moves its stories into the printed
/// order; returns the configuration.
fn cli_sample_issue() -> (TestConfig, Vec<i64>) {
    let (tc, _config, store, printed) = sample_store("");
    drop(store);
    let toc = ok(&kuaibao(
        &tc.path(),
        &["issue", "new", "202509", "--date", "2025-06-20"],
    ));
    assert!(
        toc.contains("第 202509 期  2025-06-20  draft  10 stories"),
        "{toc}"
    );
    for name in ["最新关注", "各地动态", "一家之言", "他山之石"] {
        assert!(toc.contains(name), "{toc}");
    }
    // The draft files stories by date; the printed issue has its own order.
    let moves: Vec<String> = printed
        .iter()
        .enumerate()
        .map(|(i, story)| format!("{story}:{}", i + 1))
        .collect();
    let mut args = vec!["issue", "edit", "202509"];
    for m in &moves {
        args.push("--move");
        args.push(m);
    }
    ok(&kuaibao(&tc.path(), &args));
    let shown = ok(&kuaibao(&tc.path(), &["issue", "show", "202509", "--json"]));
    let shown: serde_json::Value = serde_json::from_str(&shown).expect("json");
    let order: Vec<i64> = shown["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["story_id"].as_i64().expect("story id"))
        .collect();
    assert_eq!(order, printed, "moved into the printed order");
    assert_eq!(shown["status"], "draft");
    assert_eq!(shown["date"], "2025-06-20");
    (tc, printed)
}

#[test]
fn the_cli_drafts_the_sample_issue_and_its_text_export_reads_as_the_printed_issue() {
    let (tc, _) = cli_sample_issue();
    let text = ok(&kuaibao(
        &tc.path(),
        &[
            "issue", "export", "202509", "--format", "text", "--out", "-",
        ],
    ));
    // Header and 目录 by section, exactly as printed.
    let printed = non_empty_lines(PRINTED);
    let exported = non_empty_lines(&text);
    assert_eq!(exported[..20], printed[..20], "masthead and 目录");
    assert_eq!(exported[0], "南京人力资源和社会保障学会信息");
    assert_eq!(exported[5], "目录");
    // Every printed line (the PDF broke paragraphs where pages did), in
    // order. Spaces aside: reading article HTML drops a space between two
    // Chinese characters (《中共中央 国务院…》), as HTML line breaks inside
    // Chinese text are.
    let unspaced = |s: &str| s.replace(' ', "");
    positions_in_order(
        &unspaced(&text),
        &printed.iter().map(|l| unspaced(l)).collect::<Vec<_>>(),
    );
    // Every article ends with its 来源 line, right before the next title
    // or section.
    for a in sample_articles() {
        let origin = format!("\n\n来源：{}\n", a.origin);
        let last = a.paragraphs.last().expect("paragraphs");
        assert!(
            text.contains(&format!("{last}{origin}")),
            "{} ends with {origin:?}",
            a.title
        );
    }
    assert!(text.ends_with("来源：中国新闻网\n"));
}

#[test]
fn the_docx_export_holds_every_title_in_order() {
    let (tc, _) = cli_sample_issue();
    let file = tc.dir.path().join("快报.docx");
    let file_arg = file.to_str().expect("utf-8 path");
    let said = ok(&kuaibao(
        &tc.path(),
        &[
            "issue", "export", "202509", "--format", "docx", "--out", file_arg,
        ],
    ));
    assert!(said.contains("wrote issue 202509"), "{said}");
    let bytes = std::fs::read(&file).expect("docx written");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip archive");
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .expect("word/document.xml")
        .read_to_string(&mut xml)
        .expect("utf-8 xml");
    let titles: Vec<String> = sample_articles().into_iter().map(|a| a.title).collect();
    // Once in 目录, once in the body.
    let twice: Vec<String> = titles.iter().chain(titles.iter()).cloned().collect();
    positions_in_order(&xml, &twice);

    // A Word file is not written to a terminal.
    let out = kuaibao(
        &tc.path(),
        &[
            "issue", "export", "202509", "--format", "docx", "--out", "-",
        ],
    );
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn the_cli_publishes_an_issue_and_then_refuses_to_edit_it() {
    let (tc, printed) = cli_sample_issue();
    let said = ok(&kuaibao(&tc.path(), &["issue", "publish", "202509"]));
    assert!(
        said.contains("http://feeds.example.org/kb/issues/202509"),
        "{said}"
    );
    let out = kuaibao(
        &tc.path(),
        &[
            "issue",
            "edit",
            "202509",
            "--remove",
            &printed[0].to_string(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("published") && err.contains("202509"), "{err}");

    let list = ok(&kuaibao(&tc.path(), &["issue", "list"]));
    assert!(
        list.lines()
            .any(|l| l.starts_with("202509") && l.contains("published") && l.contains(" 10 ")),
        "{list}"
    );
    let json = ok(&kuaibao(&tc.path(), &["issue", "list", "--json"]));
    let json: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(json[0]["number"], "202509");
    assert_eq!(json[0]["stories"], 10);

    // `kuaibao publish` writes the issues feed with the other documents.
    let out_dir = tc.dir.path().join("public");
    ok(&kuaibao(
        &tc.path(),
        &["publish", "--out", out_dir.to_str().expect("utf-8")],
    ));
    let feed = common::check_atom(&out_dir.join("feeds/issues.xml"));
    assert_eq!(feed.entries().len(), 1);
}

#[test]
fn the_cli_exits_1_for_an_unknown_issue_and_64_for_a_malformed_command_line() {
    let (tc, _config, store, printed) = sample_store("");
    drop(store);
    let out = kuaibao(&tc.path(), &["issue", "show", "202599"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no issue numbered 202599"));

    for args in [
        vec!["issue", "new", "2025-09"],
        vec!["issue", "new", "202509", "--date", "20.6.2025"],
        vec!["issue", "edit", "202509", "--move", "12"],
        vec!["issue", "export", "202509", "--format", "pdf"],
        vec!["issue", "edit", "202509"],
    ] {
        let out = kuaibao(&tc.path(), &args);
        assert_eq!(out.status.code(), Some(64), "{args:?}");
    }

    ok(&kuaibao(&tc.path(), &["issue", "new", "202509"]));
    let out = kuaibao(&tc.path(), &["issue", "new", "202509"]);
    assert_eq!(out.status.code(), Some(1), "a duplicate number");
    // Edits from the command line: remove, add back, all reported in the
    // table of contents.
    let story = printed[0].to_string();
    let toc = ok(&kuaibao(
        &tc.path(),
        &["issue", "edit", "202509", "--remove", &story],
    ));
    assert!(toc.contains("9 stories"), "{toc}");
    let toc = ok(&kuaibao(
        &tc.path(),
        &[
            "issue",
            "edit",
            "202509",
            "--add",
            &story,
            "--date",
            "2025-06-21",
        ],
    ));
    assert!(
        toc.contains("10 stories") && toc.contains("2025-06-21"),
        "{toc}"
    );
    let out = kuaibao(&tc.path(), &["issue", "edit", "202509", "--add", &story]);
    assert_eq!(out.status.code(), Some(1), "already in the issue");
    ok(&kuaibao(&tc.path(), &["issue", "delete", "202509"]));
    let out = kuaibao(&tc.path(), &["issue", "show", "202509"]);
    assert_eq!(out.status.code(), Some(1), "deleted");
}

// --- served ---------------------------------------------------------------

const BASE: &str = "https://kb.example.org/kuaibao/";

/// A router over a store with 第 202509 期 published and 第 202510 期 a
/// draft.
fn served() -> (TestConfig, Router) {
    let (tc, _, mut store, printed) = sample_store("[server]\nmax_age = \"1h\"\n");
    // `base_url` from TestConfig is replaced, to check links use it.
    let main = std::fs::read_to_string(tc.path()).expect("main");
    std::fs::write(
        tc.path(),
        main.replace("http://feeds.example.org/kb/", BASE),
    )
    .expect("main");
    prepend_main(&tc, "society = \"测试学会\"");
    let config = tc.load();
    let s = sections(&config);
    store.create_issue("202509", day(2025, 6, 20), &s).unwrap();
    let printed_order = IssueEdits {
        moves: printed
            .iter()
            .enumerate()
            .map(|(i, &story)| (story, i + 1))
            .collect(),
        ..IssueEdits::default()
    };
    store.edit_issue("202509", &printed_order, &s).unwrap();
    store.publish_issue("202509").unwrap();
    add(
        &mut store,
        &other("later", Some("focus"), "2025-06-28 08:00"),
        Status::Approved,
    );
    store.create_issue("202510", day(2025, 7, 4), &s).unwrap();
    let state = ServeState::new(
        Arc::new(config),
        Arc::new(Mutex::new(store)),
        Arc::new(Metrics::new()),
    );
    (tc, serve::router(state))
}

async fn get(
    app: &Router,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::builder().uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, headers, body.to_vec())
}

#[tokio::test]
async fn the_issues_feed_has_one_entry_per_published_issue() {
    let (_tc, app) = served();
    let (status, headers, body) = get(&app, "/feeds/issues.xml", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/atom+xml")
    );
    let feed = atom_syndication::Feed::read_from(&body[..]).expect("Atom");
    assert!(feed.id().starts_with("tag:kb.example.org,2025:kuaibao/"));
    assert_eq!(feed.entries().len(), 1, "the draft is not in it");
    let entry = &feed.entries()[0];
    assert_eq!(entry.title().as_str(), "测试学会信息快报 第 202509 期");
    assert_eq!(
        entry.id(),
        "tag:kb.example.org,2025:kuaibao/issue/202509",
        "a stable id"
    );
    assert!(
        entry
            .links()
            .iter()
            .any(|l| l.rel() == "alternate" && l.href() == format!("{BASE}issues/202509"))
    );
    let content = entry.content().and_then(|c| c.value()).expect("content");
    assert_eq!(entry.content().and_then(|c| c.content_type()), Some("html"));
    for a in sample_articles() {
        assert!(content.contains(&escaped(&a.title)), "{}", a.title);
    }
    assert!(entry.published().is_some());
    // feed-rs, stricter, reads it too.
    feed_rs::parser::parse(&body[..]).expect("feed-rs");
}

#[tokio::test]
async fn a_published_issue_is_served_in_every_format_and_a_draft_is_not() {
    let (_tc, app) = served();
    let (status, headers, body) = get(&app, "/issues/202509", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let html = String::from_utf8(body).expect("utf-8");
    assert!(html.starts_with("<!DOCTYPE html>"));
    positions_in_order(
        &html,
        &sample_articles()
            .into_iter()
            .map(|a| escaped(&a.title))
            .collect::<Vec<_>>(),
    );
    assert!(html.contains("测试学会主办"));

    let (status, _, same) = get(&app, "/issues/202509.html", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(String::from_utf8(same).unwrap(), html);

    let (status, headers, body) = get(&app, "/issues/202509.docx", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["content-type"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("kuaibao-202509.docx")
    );
    zip::ZipArchive::new(std::io::Cursor::new(body)).expect("a zip archive");

    let (status, headers, body) = get(&app, "/issues/202509.md", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/markdown")
    );
    assert!(String::from_utf8(body).unwrap().contains("# 快报"));

    for missing in [
        "/issues/202510",
        "/issues/202510.docx",
        "/issues/202599",
        "/issues/202509.pdf",
        "/issues/..%2Fetc",
    ] {
        let (status, _, _) = get(&app, missing, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    }

    let (status, _, body) = get(&app, "/issues/", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let index = String::from_utf8(body).unwrap();
    assert!(index.contains(&format!("{BASE}issues/202509")), "{index}");
    assert!(!index.contains("202510"), "drafts are not listed");
}

#[tokio::test]
async fn an_issue_is_revalidated_with_its_etag() {
    let (_tc, app) = served();
    for path in ["/issues/202509", "/feeds/issues.xml", "/issues/202509.docx"] {
        let (status, headers, _) = get(&app, path, &[]).await;
        assert_eq!(status, StatusCode::OK);
        let etag = headers["etag"].to_str().unwrap().to_string();
        let opaque = etag.strip_prefix("W/").unwrap_or(&etag);
        assert!(opaque.starts_with('"') && opaque.len() > 10, "{etag}");
        assert_eq!(headers["cache-control"], "public, max-age=3600");

        // The Word file's bytes vary between renders (see serve/issues.rs);
        // its weak ETag must not.
        let (status, again, body) = get(&app, path, &[("if-none-match", &etag)]).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(body.is_empty());
        assert_eq!(again["etag"].to_str().unwrap(), etag);

        let (status, _, _) = get(&app, path, &[("if-none-match", "\"other\"")]).await;
        assert_eq!(status, StatusCode::OK);
    }
}

// --- configuration --------------------------------------------------------

#[test]
fn the_society_defaults_to_the_nanjing_society_and_must_not_be_empty() {
    let tc = TestConfig::new(SOURCES, "");
    assert_eq!(tc.load().society, "南京人力资源和社会保障学会");
    let tc = TestConfig::new(SOURCES, "");
    prepend_main(&tc, "society = \"测试学会\"");
    assert_eq!(tc.load().society, "测试学会");
    let tc = TestConfig::new(SOURCES, "");
    prepend_main(&tc, "society = \"  \"");
    let err = Config::load(&tc.path())
        .expect_err("empty society")
        .to_string();
    assert!(err.contains("`society`"), "{err}");
}

/// Text as a page shows it: escaped by the same template engine.
fn escaped(text: &str) -> String {
    maud::html! { (text) }.into_string()
}

//! One story, many outlets: grouping in the store, one feed entry per
//! story, and editors' corrections that stick.

use chrono::{DateTime, FixedOffset};
use kuaibao::config::{EncodingChoice, Source, SourceKind};
use kuaibao::demo::{OtherKind, SampleArticle, other_articles, sample_articles};
use kuaibao::model::{NewItem, Published};
use kuaibao::normalize::content_hash;
use kuaibao::store::{Status, Store, Stored};

/// Dedup as configured by default.
fn dedup_cfg() -> kuaibao::dedup::DedupConfig {
    kuaibao::dedup::DedupConfig::default()
}

fn store() -> Store {
    let mut store = Store::open_in_memory().unwrap();
    let mut sources = Vec::new();
    for (id, name) in [
        ("mohrss", "人力资源社会保障部"),
        ("chinanews", "中国新闻网"),
        ("gov", "中国政府网"),
        ("xinhua", "新华社"),
    ] {
        sources.push(Source {
            id: id.to_string(),
            name: name.to_string(),
            url: url::Url::parse(&format!("https://{id}.example/list/")).unwrap(),
            kind: SourceKind::Html,
            encoding: EncodingChoice::Auto,
            interval: std::time::Duration::from_secs(3600),
            region: None,
            section: None,
            enabled: true,
            list: None,
            json: None,
            article: None,
        });
    }
    store.sync_sources(&sources).unwrap();
    store
}

fn date(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn item(
    source: &str,
    slug: &str,
    title: &str,
    origin: &str,
    paragraphs: &[String],
    published: &str,
) -> NewItem {
    let text = paragraphs.join("\n");
    let url = format!("https://{source}.example/{slug}.html");
    NewItem {
        source_id: source.into(),
        guid: None,
        url: url.clone(),
        canonical_url: url.clone(),
        title: title.into(),
        content_html: kuaibao::normalize::sanitize_html(
            &paragraphs
                .iter()
                .map(|p| format!("<p>{p}</p>"))
                .collect::<String>(),
            &url::Url::parse(&url).unwrap(),
        ),
        content_hash: content_hash(&text).unwrap_or_default(),
        content_text: text,
        origin: origin.into(),
        section: None,
        region: None,
        published: Some(date(published)),
        bulletin_title: None,
        relevance: None,
        explanation: None,
    }
}

fn sample(slug: &str) -> SampleArticle {
    sample_articles()
        .into_iter()
        .find(|a| a.slug == slug)
        .unwrap()
}

/// The 人社部 original of the talent-reform story.
fn original() -> NewItem {
    let a = sample("talent-reform-pilot");
    item(
        "mohrss",
        "talent",
        &a.original_title,
        "人力资源社会保障部",
        &a.paragraphs,
        "2025-06-16T17:05:00+08:00",
    )
}

/// 中国新闻网's copy: another title, a dateline, a reworded lead, the last
/// paragraph cut.
fn chinanews_copy() -> NewItem {
    let o = other_articles()
        .into_iter()
        .find(|o| o.kind == OtherKind::Copy && o.copy_of.as_deref() == Some("talent-reform-pilot"))
        .unwrap();
    item(
        "chinanews",
        "talent-copy",
        &o.title,
        "中国新闻网",
        &o.paragraphs,
        "2025-06-17T10:12:00+08:00",
    )
}

/// 中国政府网 carrying it with `来源：人力资源社会保障部`, before 人社部's own
/// page was polled.
fn gov_copy() -> NewItem {
    let a = sample("talent-reform-pilot");
    let mut p = a.paragraphs.clone();
    p.insert(0, "【字体：大 中 小】打印".into());
    item(
        "gov",
        "talent-gov",
        "人社部开展专业技术人才管理服务改革试点",
        "人力资源社会保障部",
        &p,
        "2025-06-16T18:30:00+08:00",
    )
}

fn story_count(store: &Store) -> i64 {
    store.counts().unwrap().stories
}

#[test]
fn a_republished_copy_joins_the_story_of_the_original() {
    let mut store = store();
    let a = kuaibao::poll::store_item(&mut store, &original(), Status::Candidate, &dedup_cfg())
        .unwrap();
    let b = kuaibao::poll::store_item(
        &mut store,
        &chinanews_copy(),
        Status::Candidate,
        &dedup_cfg(),
    )
    .unwrap();
    assert!(matches!(a, Stored::New(_)) && matches!(b, Stored::New(_)));
    assert_eq!(
        store.story_of(a.id()).unwrap(),
        store.story_of(b.id()).unwrap()
    );
    assert_eq!(story_count(&store), 1);
    let stories = store.stories(true, 10).unwrap();
    assert_eq!(stories.len(), 1);
    assert_eq!(stories[0].items, 2);
    assert_eq!(stories[0].outlets, vec!["人力资源社会保障部", "中国新闻网"]);
}

#[test]
fn the_feed_has_one_entry_per_story_with_the_primary_text_and_a_via_per_other_outlet() {
    let mut store = store();
    kuaibao::poll::store_item(&mut store, &original(), Status::Approved, &dedup_cfg()).unwrap();
    kuaibao::poll::store_item(
        &mut store,
        &chinanews_copy(),
        Status::Candidate,
        &dedup_cfg(),
    )
    .unwrap();
    let entries = store.feed_entries(Published::Approved, None).unwrap();
    assert_eq!(entries.len(), 1, "{entries:#?}");
    let e = &entries[0];
    assert_eq!(e.url, "https://mohrss.example/talent.html");
    assert_eq!(e.origin, "人力资源社会保障部");
    assert!(e.content_html.contains("近日，人力资源社会保障部印发通知"));
    assert_eq!(e.via.len(), 1);
    assert_eq!(e.via[0].outlet, "中国新闻网");
    assert_eq!(e.via[0].url, "https://chinanews.example/talent-copy.html");
}

#[test]
fn a_copy_of_an_approved_story_is_approved_with_it_and_not_queued_again() {
    let mut store = store();
    kuaibao::poll::store_item(&mut store, &original(), Status::Approved, &dedup_cfg()).unwrap();
    let copy = kuaibao::poll::store_item(
        &mut store,
        &chinanews_copy(),
        Status::Candidate,
        &dedup_cfg(),
    )
    .unwrap();
    let status = store.review_item(copy.id()).unwrap().status;
    assert_eq!(status, Status::Approved);
    assert!(
        store
            .review_items(Some(Status::Candidate), 10)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_entry_id_stays_when_the_original_arrives_after_a_copy_and_becomes_primary() {
    let mut store = store();
    kuaibao::poll::store_item(
        &mut store,
        &chinanews_copy(),
        Status::Candidate,
        &dedup_cfg(),
    )
    .unwrap();
    let first = store
        .feed_entries(Published::AlsoCandidatesFrom(0.0), None)
        .unwrap();
    assert_eq!(first[0].origin, "中国新闻网");
    kuaibao::poll::store_item(&mut store, &gov_copy(), Status::Candidate, &dedup_cfg()).unwrap();
    kuaibao::poll::store_item(&mut store, &original(), Status::Candidate, &dedup_cfg()).unwrap();
    let after = store
        .feed_entries(Published::AlsoCandidatesFrom(0.0), None)
        .unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].uid, first[0].uid, "the story keeps its entry id");
    // Named as 来源 by the 中国政府网 copy and naming itself: the original.
    assert_eq!(after[0].url, "https://mohrss.example/talent.html");
    assert!(after[0].updated >= first[0].updated);
    let outlets: Vec<&str> = after[0].via.iter().map(|v| v.outlet.as_str()).collect();
    assert_eq!(outlets, vec!["中国新闻网", "中国政府网"]);
}

#[test]
fn a_republisher_naming_the_original_outlet_is_not_primary_even_when_first() {
    let mut store = store();
    kuaibao::poll::store_item(&mut store, &gov_copy(), Status::Candidate, &dedup_cfg()).unwrap();
    kuaibao::poll::store_item(&mut store, &original(), Status::Candidate, &dedup_cfg()).unwrap();
    let story = store.story(store.stories(true, 1).unwrap()[0].id).unwrap();
    let primary = story.members.iter().find(|m| m.primary).unwrap();
    assert_eq!(primary.source_id, "mohrss");
}

#[test]
fn one_template_filled_in_by_two_provinces_is_two_stories() {
    let mut store = store();
    let a = sample("hebei-unemployment-insurance");
    let hebei = item(
        "gov",
        "hebei",
        &a.original_title,
        "河北省人社厅",
        &a.paragraphs,
        "2025-06-10T09:00:00+08:00",
    );
    let shandong_text: Vec<String> = a
        .paragraphs
        .iter()
        .map(|p| p.replace("河北", "山东").replace("石家庄", "济南"))
        .collect();
    let shandong = item(
        "gov",
        "shandong",
        &a.original_title.replace("河北", "山东"),
        "山东省人社厅",
        &shandong_text,
        "2025-06-11T09:00:00+08:00",
    );
    let x = kuaibao::poll::store_item(&mut store, &hebei, Status::Candidate, &dedup_cfg()).unwrap();
    let y =
        kuaibao::poll::store_item(&mut store, &shandong, Status::Candidate, &dedup_cfg()).unwrap();
    assert_ne!(
        store.story_of(x.id()).unwrap(),
        store.story_of(y.id()).unwrap()
    );
    assert_eq!(
        store
            .feed_entries(Published::AlsoCandidatesFrom(0.0), None)
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn a_copy_outside_the_window_opens_a_story_of_its_own() {
    let mut store = store();
    let cfg = kuaibao::dedup::DedupConfig {
        window_days: 30,
        ..Default::default()
    };
    kuaibao::poll::store_item(&mut store, &original(), Status::Candidate, &cfg).unwrap();
    let mut late = chinanews_copy();
    late.published = Some(date("2025-09-01T09:00:00+08:00"));
    kuaibao::poll::store_item(&mut store, &late, Status::Candidate, &cfg).unwrap();
    assert_eq!(story_count(&store), 2);
}

#[test]
fn grouping_can_be_turned_off() {
    let mut store = store();
    let cfg = kuaibao::dedup::DedupConfig {
        enabled: false,
        ..Default::default()
    };
    kuaibao::poll::store_item(&mut store, &original(), Status::Candidate, &cfg).unwrap();
    kuaibao::poll::store_item(&mut store, &chinanews_copy(), Status::Candidate, &cfg).unwrap();
    assert_eq!(story_count(&store), 2);
}

#[test]
fn a_split_sticks_when_the_items_are_polled_again_and_their_text_changes() {
    let mut store = store();
    let a = kuaibao::poll::store_item(&mut store, &original(), Status::Candidate, &dedup_cfg())
        .unwrap()
        .id();
    let b = kuaibao::poll::store_item(
        &mut store,
        &chinanews_copy(),
        Status::Candidate,
        &dedup_cfg(),
    )
    .unwrap()
    .id();
    let story = store.story_of(a).unwrap();
    let uid = store
        .feed_entries(Published::AlsoCandidatesFrom(0.0), None)
        .unwrap()[0]
        .uid
        .clone();
    let new_story = store.split_item(b).unwrap();
    assert_ne!(new_story, story);
    assert_eq!(
        store.story_of(a).unwrap(),
        story,
        "the original keeps its story"
    );

    // Polled again: unchanged, then edited at the outlet.
    assert!(matches!(
        kuaibao::poll::store_item(
            &mut store,
            &chinanews_copy(),
            Status::Candidate,
            &dedup_cfg()
        )
        .unwrap(),
        Stored::Unchanged(_)
    ));
    let mut edited = chinanews_copy();
    edited.content_text.push_str("\n（责任编辑：李明）");
    edited.content_hash = content_hash(&edited.content_text).unwrap();
    assert!(matches!(
        kuaibao::poll::store_item(&mut store, &edited, Status::Candidate, &dedup_cfg()).unwrap(),
        Stored::Updated(_)
    ));
    assert_eq!(store.story_of(b).unwrap(), new_story);
    let entries = store
        .feed_entries(Published::AlsoCandidatesFrom(0.0), None)
        .unwrap();
    assert_eq!(entries.len(), 2);
    assert!(
        entries.iter().any(|e| e.uid == uid),
        "the old story kept its entry id"
    );
}

#[test]
fn splitting_an_item_alone_in_its_story_is_an_error() {
    let mut store = store();
    let a = kuaibao::poll::store_item(&mut store, &original(), Status::Candidate, &dedup_cfg())
        .unwrap()
        .id();
    let err = store.split_item(a).unwrap_err().to_string();
    assert!(err.contains("only item"), "{err}");
}

#[test]
fn a_merge_moves_every_item_and_keeps_the_first_storys_entry_and_status() {
    let mut store = store();
    let cfg = kuaibao::dedup::DedupConfig {
        enabled: false,
        ..Default::default()
    };
    let a = kuaibao::poll::store_item(&mut store, &original(), Status::Approved, &cfg)
        .unwrap()
        .id();
    let b = kuaibao::poll::store_item(&mut store, &chinanews_copy(), Status::Candidate, &cfg)
        .unwrap()
        .id();
    let (sa, sb) = (store.story_of(a).unwrap(), store.story_of(b).unwrap());
    let uid = store.feed_entries(Published::Approved, None).unwrap()[0]
        .uid
        .clone();
    store.merge_stories(sa, sb).unwrap();
    assert_eq!(store.story_of(b).unwrap(), sa);
    let entries = store.feed_entries(Published::Approved, None).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].uid, uid);
    assert_eq!(entries[0].via.len(), 1);
    assert!(store.story(sb).is_err(), "the merged story is gone");
    assert!(store.merge_stories(sa, sa).is_err());
}

#[test]
fn approving_any_item_of_a_story_approves_the_story() {
    let mut store = store();
    let a = kuaibao::poll::store_item(&mut store, &original(), Status::Candidate, &dedup_cfg())
        .unwrap()
        .id();
    let b = kuaibao::poll::store_item(
        &mut store,
        &chinanews_copy(),
        Status::Candidate,
        &dedup_cfg(),
    )
    .unwrap()
    .id();
    store.set_status(b, Status::Approved).unwrap();
    let review = store.review_items(Some(Status::Approved), 10).unwrap();
    assert_eq!(review.len(), 1);
    assert_eq!(review[0].id, a, "listed under its primary item");
    assert_eq!(review[0].story_items, 2);
    assert_eq!(review[0].seen_on.len(), 2);
}

use crate::common;

use common::{Outlet, Reply, TestConfig, run_kuaibao as run};

/// Two outlets: 人社部 with the original, 中国新闻网 with its copy.
fn serve_two_outlets(outlet: &Outlet) -> String {
    let a = sample("talent-reform-pilot");
    let copy = other_articles()
        .into_iter()
        .find(|o| o.copy_of.as_deref() == Some("talent-reform-pilot"))
        .unwrap();
    let page = |title: &str, origin: &str, date: &str, paragraphs: &[String]| {
        let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
        Reply::html(&format!(
            "<html><head><meta charset=\"utf-8\"></head><body><h1>{title}</h1><div class=\"info\">{date}　来源：{origin}</div><div class=\"body\">{body}</div></body></html>"
        ))
    };
    outlet.set(
        "/m/a.html",
        page(
            &a.original_title,
            "人力资源社会保障部",
            "2025-06-16",
            &a.paragraphs,
        ),
    );
    outlet.set(
        "/c/a.html",
        page(&copy.title, "中国新闻网", "2025-06-17", &copy.paragraphs),
    );
    for (dir, title, date) in [
        ("m", a.original_title.as_str(), "2025-06-16"),
        ("c", copy.title.as_str(), "2025-06-17"),
    ] {
        outlet.set(
            &format!("/{dir}/list.html"),
            Reply::html(&format!("<ul class=\"list\"><li><a href=\"/{dir}/a.html\">{title}</a><span>{date}</span></li></ul>")),
        );
    }
    let source = |id: &str, name: &str, dir: &str| {
        format!(
            "[[source]]\nid = \"{id}\"\nname = \"{name}\"\nurl = \"{}\"\nkind = \"html\"\n[source.list]\nitem = \"ul.list li\"\nlink = \"a@href\"\ntitle = \"a\"\ndate = \"span\"\n[source.article]\ncontent = \"div.body\"\ntitle = \"h1\"\norigin = \"div.info\"\n\n",
            outlet.url(&format!("/{dir}/list.html"))
        )
    };
    source("mohrss", "人力资源社会保障部", "m") + &source("chinanews", "中国新闻网", "c")
}

#[tokio::test(flavor = "multi_thread")]
async fn editors_list_show_split_and_merge_stories_and_a_split_survives_a_forced_repoll() {
    let outlet = Outlet::start().await;
    let tc = TestConfig::new(&serve_two_outlets(&outlet), "[review]\nmode = \"auto\"");
    let poll = run(tc.path(), &["poll"]).await;
    assert!(
        poll.status.success(),
        "{}",
        String::from_utf8_lossy(&poll.stderr)
    );

    let list = run(tc.path(), &["stories", "list", "--json"]).await;
    let stories: serde_json::Value = serde_json::from_slice(&list.stdout).expect("json");
    let stories = stories.as_array().expect("array");
    assert_eq!(stories.len(), 1, "{stories:?}");
    assert_eq!(stories[0]["items"], 2);
    assert_eq!(
        stories[0]["outlets"],
        serde_json::json!(["人力资源社会保障部", "中国新闻网"])
    );
    let story_id = stories[0]["id"].as_i64().unwrap();

    let story = story_id.to_string();
    let show = run(tc.path(), &["stories", "show", &story, "--json"]).await;
    let detail: serde_json::Value = serde_json::from_slice(&show.stdout).expect("json");
    let members = detail["members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(members[0]["primary"], true);
    assert_eq!(members[0]["source_id"], "mohrss");
    let copy_id = members[1]["id"].to_string();
    let text = run(tc.path(), &["stories", "show", &story]).await;
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("* item") && text.contains("中国新闻网"),
        "{text}"
    );

    let split = run(tc.path(), &["stories", "split", &copy_id]).await;
    assert!(
        split.status.success(),
        "{}",
        String::from_utf8_lossy(&split.stderr)
    );
    let again = run(tc.path(), &["poll", "--force"]).await;
    assert!(again.status.success());
    let list = run(tc.path(), &["stories", "list", "--all", "--json"]).await;
    let stories: serde_json::Value = serde_json::from_slice(&list.stdout).expect("json");
    assert_eq!(
        stories.as_array().unwrap().len(),
        2,
        "the split stuck: {stories}"
    );
    assert!(
        run(tc.path(), &["stories", "list", "--json"])
            .await
            .stdout
            .starts_with(b"[]")
    );

    // Merging them back is one story again; a lone item cannot be split.
    let ids: Vec<String> = stories
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].to_string())
        .collect();
    let merge = run(tc.path(), &["stories", "merge", &ids[1], &ids[0]]).await;
    assert!(
        merge.status.success(),
        "{}",
        String::from_utf8_lossy(&merge.stderr)
    );
    let list = run(tc.path(), &["stories", "list", "--json"]).await;
    let stories: serde_json::Value = serde_json::from_slice(&list.stdout).expect("json");
    assert_eq!(stories.as_array().unwrap().len(), 1);
    let missing = run(tc.path(), &["stories", "show", "999"]).await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no story with id 999"));
}

#[test]
fn an_article_too_short_to_fingerprint_is_stored_without_one_and_found_again() {
    let mut store = store();
    let tiny: Vec<String> = (0..10).map(|_| "好".to_string()).collect();
    let first = item(
        "gov",
        "tiny",
        "好",
        "中国政府网",
        &tiny,
        "2025-06-18T09:00:00+08:00",
    );
    let stored = kuaibao::poll::store_item(&mut store, &first, Status::Candidate, &dedup_cfg());
    assert!(
        matches!(stored, Ok(Stored::New(_))),
        "ten one-character paragraphs must be storable: {stored:?}"
    );
    let prints = store.counts().unwrap().fingerprints;
    assert_eq!(prints, 0, "nothing to fingerprint, nothing indexed");
    // A second short item looks for candidates with no band at all.
    let second = item(
        "xinhua",
        "tiny2",
        "行",
        "新华社",
        &tiny[..3],
        "2025-06-18T10:00:00+08:00",
    );
    assert!(matches!(
        kuaibao::poll::store_item(&mut store, &second, Status::Candidate, &dedup_cfg()),
        Ok(Stored::New(_))
    ));
}

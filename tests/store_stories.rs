//! The store's stories, desk, decisions and repairs, on both backends:
//! each test is written once against the traits (`StoryStore`,
//! `DeskStore`, `DecisionStore` and `DecisionLog`, `RepairStore`; items
//! are put in with `ItemStore::save_item`) and runs on SQLite and on
//! PostgreSQL, so the two answer the same.

use crate::support;

use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use kuaibao::classify::{DecisionLog, Model};
use kuaibao::config::{EncodingChoice, Source, SourceKind};
use kuaibao::dedup::DedupConfig;
use kuaibao::demo::{OtherKind, SampleArticle, other_articles, sample_articles};
use kuaibao::model::NewItem;
use kuaibao::normalize::content_hash;
use kuaibao::store::{
    Decision, DecisionStore, DeskQuery, DeskStore, ItemStore, NewRepair, RepairStore,
    SectionFilter, Status, StoreError, Stored, StoryStore,
};

// ---------------------------------------------------------------- fixtures

fn sources() -> Vec<Source> {
    [
        ("mohrss", "人力资源社会保障部"),
        ("chinanews", "中国新闻网"),
        ("gov", "中国政府网"),
        ("xinhua", "新华社"),
    ]
    .into_iter()
    .map(|(id, name)| Source {
        id: id.to_string(),
        name: name.to_string(),
        url: url::Url::parse(&format!("https://{id}.example/list/")).expect("a URL"),
        kind: SourceKind::Html,
        encoding: EncodingChoice::Auto,
        interval: std::time::Duration::from_secs(3600),
        region: None,
        section: None,
        enabled: true,
        list: None,
        json: None,
        article: None,
    })
    .collect()
}

fn with_sources<S: ItemStore + ?Sized>(store: &mut S) {
    store.sync_sources(&sources()).expect("sync sources");
}

fn date(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("a date")
}

fn item(
    source: &str,
    slug: &str,
    title: &str,
    origin: &str,
    paragraphs: &[String],
    published: Option<&str>,
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
            &url::Url::parse(&url).expect("a URL"),
        ),
        content_hash: content_hash(&text).unwrap_or_default(),
        content_text: text,
        origin: origin.into(),
        section: None,
        region: None,
        published: published.map(date),
        bulletin_title: None,
        relevance: None,
        explanation: None,
    }
}

/// A one-paragraph item of its own, filed and rated.
fn story(
    source: &str,
    slug: &str,
    title: &str,
    body: &str,
    section: Option<&str>,
    relevance: Option<f64>,
    published: Option<&str>,
) -> NewItem {
    NewItem {
        section: section.map(str::to_string),
        relevance,
        ..item(source, slug, title, "", &[body.to_string()], published)
    }
}

fn sample(slug: &str) -> SampleArticle {
    sample_articles()
        .into_iter()
        .find(|a| a.slug == slug)
        .expect("a sample article")
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
        Some("2025-06-16T17:05:00+08:00"),
    )
}

/// 中国新闻网's copy: another title, a dateline, a reworded lead.
fn chinanews_copy() -> NewItem {
    let o = other_articles()
        .into_iter()
        .find(|o| o.kind == OtherKind::Copy && o.copy_of.as_deref() == Some("talent-reform-pilot"))
        .expect("the copy");
    item(
        "chinanews",
        "talent-copy",
        &o.title,
        "中国新闻网",
        &o.paragraphs,
        Some("2025-06-17T10:12:00+08:00"),
    )
}

/// 中国政府网 carrying it with `来源：人力资源社会保障部`.
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
        Some("2025-06-16T18:30:00+08:00"),
    )
}

/// Stores an item as the poller does, grouping copies by default.
fn save<S: ItemStore + ?Sized>(store: &mut S, item: &NewItem, status: Status) -> i64 {
    save_with(store, item, status, &DedupConfig::default())
}

/// Stores an item in a story of its own (unless its text is already
/// stored).
fn save_alone<S: ItemStore + ?Sized>(store: &mut S, item: &NewItem, status: Status) -> i64 {
    let cfg = DedupConfig {
        enabled: false,
        ..DedupConfig::default()
    };
    save_with(store, item, status, &cfg)
}

fn save_with<S: ItemStore + ?Sized>(
    store: &mut S,
    item: &NewItem,
    status: Status,
    cfg: &DedupConfig,
) -> i64 {
    let story = kuaibao::dedup::prepare_story(item, chrono::Utc::now(), cfg);
    let stored = store
        .save_item(item, status, &story, &mut |stored| {
            kuaibao::dedup::place(stored, &story, cfg)
        })
        .expect("save the item");
    assert!(matches!(stored, Stored::New(_)), "{stored:?}");
    stored.id()
}

fn query(text: Option<&str>) -> DeskQuery {
    DeskQuery {
        text: text.map(str::to_string),
        sections: vec!["focus".into(), "abroad".into(), "regional".into()],
        limit: 50,
        ..DeskQuery::default()
    }
}

/// The primary item ids of a desk page, in order.
fn page_ids<S: DeskStore + ?Sized>(store: &mut S, q: &DeskQuery) -> Vec<i64> {
    let page = store.desk_items(q).expect("the queue");
    page.items.iter().map(|i| i.id).collect()
}

fn found<S: DeskStore + ?Sized>(store: &mut S, text: &str) -> i64 {
    store.desk_items(&query(Some(text))).expect("search").total
}

/// `国际：…` for the abroad section, the outlet's title elsewhere.
fn retitle(title: &str, section: Option<&str>, _region: Option<&str>) -> Option<String> {
    (section == Some("abroad")).then(|| format!("国际：{title}"))
}

// ------------------------------------------------------------------ stories

fn a_copy_joins_the_original_story_and_the_list_names_both_outlets_primary_first<S>(store: &mut S)
where
    S: ItemStore + StoryStore + ?Sized,
{
    with_sources(store);
    let a = save(store, &original(), Status::Candidate);
    let b = save(store, &chinanews_copy(), Status::Candidate);
    let story = store.story_of(a).expect("story of a");
    assert_eq!(store.story_of(b).expect("story of b"), story);
    let grouped = store.stories(true, 10).expect("grouped stories");
    assert_eq!(grouped.len(), 1);
    let s = &grouped[0];
    assert_eq!(s.id, story);
    assert_eq!(s.items, 2);
    assert_eq!(s.primary_item, a);
    assert_eq!(s.title, original().title);
    assert_eq!(s.status, Status::Candidate);
    assert_eq!(s.published.as_deref(), Some("2025-06-16T17:05:00+08:00"));
    assert_eq!(s.outlets, vec!["人力资源社会保障部", "中国新闻网"]);
    assert_eq!(store.stories(false, 10).expect("all stories").len(), 1);
}
on_both_backends!(a_copy_joins_the_original_story_and_the_list_names_both_outlets_primary_first);

fn the_original_arriving_after_its_copies_becomes_primary_and_the_story_keeps_its_uid<S>(
    store: &mut S,
) where
    S: ItemStore + StoryStore + ?Sized,
{
    with_sources(store);
    let c = save(store, &chinanews_copy(), Status::Candidate);
    let first = store.stories(false, 10).expect("stories")[0].clone();
    assert_eq!(first.primary_item, c);
    let g = save(store, &gov_copy(), Status::Candidate);
    let a = save(store, &original(), Status::Candidate);
    let after = store.stories(false, 10).expect("stories");
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].uid, first.uid, "the story keeps its entry id");
    // Named as 来源 by the 中国政府网 copy and naming itself: the original.
    assert_eq!(after[0].primary_item, a);
    let detail = store.story(after[0].id).expect("the story");
    let ids: Vec<i64> = detail.members.iter().map(|m| m.id).collect();
    assert_eq!(ids, vec![a, g, c], "the primary first, then by date");
    let primaries: Vec<bool> = detail.members.iter().map(|m| m.primary).collect();
    assert_eq!(primaries, vec![true, false, false]);
    let m = &detail.members[0];
    assert_eq!(m.source_id, "mohrss");
    assert_eq!(m.source_name, "人力资源社会保障部");
    assert_eq!(m.origin, "人力资源社会保障部");
    assert_eq!(m.url, "https://mohrss.example/talent.html");
    assert_eq!(m.pages, vec!["https://mohrss.example/talent.html"]);
    assert_eq!(m.published.as_deref(), Some("2025-06-16T17:05:00+08:00"));
    assert_eq!(
        detail.summary.outlets,
        vec!["人力资源社会保障部", "中国新闻网", "中国政府网"]
    );
}
on_both_backends!(
    the_original_arriving_after_its_copies_becomes_primary_and_the_story_keeps_its_uid
);

fn a_split_item_opens_a_story_of_its_own_and_the_old_story_keeps_its_id_and_uid<S>(store: &mut S)
where
    S: ItemStore + StoryStore + ?Sized,
{
    with_sources(store);
    let a = save(store, &original(), Status::Candidate);
    let b = save(store, &chinanews_copy(), Status::Candidate);
    let story = store.story_of(a).expect("story");
    let uid = store.story(story).expect("story").summary.uid;
    let new_story = store.split_item(b).expect("split");
    assert_ne!(new_story, story);
    assert_eq!(store.story_of(a).expect("story of a"), story);
    assert_eq!(store.story_of(b).expect("story of b"), new_story);
    let old = store.story(story).expect("the old story");
    assert_eq!(old.summary.uid, uid);
    assert_eq!(old.summary.items, 1);
    assert_eq!(old.summary.outlets, vec!["人力资源社会保障部"]);
    let new = store.story(new_story).expect("the new story");
    assert_eq!(new.summary.primary_item, b);
    assert_eq!(new.summary.outlets, vec!["中国新闻网"]);
    assert_ne!(new.summary.uid, uid);
    assert!(store.stories(true, 10).expect("grouped").is_empty());
    assert_eq!(store.stories(false, 10).expect("all").len(), 2);

    match store.split_item(a) {
        Err(StoreError::AloneInStory { item, story: s }) => assert_eq!((item, s), (a, story)),
        other => panic!("splitting an item alone in its story: {other:?}"),
    }
    assert!(matches!(
        store.split_item(999_999),
        Err(StoreError::NoSuchItem(999_999))
    ));
}
on_both_backends!(a_split_item_opens_a_story_of_its_own_and_the_old_story_keeps_its_id_and_uid);

fn a_merge_moves_every_item_into_the_first_story_which_keeps_its_uid_and_status<S>(store: &mut S)
where
    S: ItemStore + StoryStore + DeskStore + ?Sized,
{
    with_sources(store);
    let a = save_alone(store, &original(), Status::Approved);
    let b = save_alone(store, &chinanews_copy(), Status::Candidate);
    let (sa, sb) = (
        store.story_of(a).expect("story a"),
        store.story_of(b).expect("story b"),
    );
    assert_ne!(sa, sb);
    let uid = store.story(sa).expect("story a").summary.uid;
    store.merge_stories(sa, sb).expect("merge");
    assert_eq!(store.story_of(b).expect("story b"), sa);
    let merged = store.story(sa).expect("merged");
    assert_eq!(merged.summary.uid, uid);
    assert_eq!(merged.summary.items, 2);
    assert_eq!(merged.summary.status, Status::Approved);
    let copy = store.desk_item(b).expect("desk item").expect("found");
    assert_eq!(copy.status, Status::Approved, "the moved items take it on");
    assert!(matches!(store.story(sb), Err(StoreError::NoSuchStory(s)) if s == sb));
    assert!(matches!(
        store.merge_stories(sa, sa),
        Err(StoreError::SameStory(s)) if s == sa
    ));
    assert!(matches!(
        store.merge_stories(sa, 999_999),
        Err(StoreError::NoSuchStory(999_999))
    ));
    assert!(matches!(
        store.merge_stories(999_999, sa),
        Err(StoreError::NoSuchStory(999_999))
    ));
    assert_eq!(store.story(sa).expect("still there").summary.items, 2);
}
on_both_backends!(a_merge_moves_every_item_into_the_first_story_which_keeps_its_uid_and_status);

fn stories_are_listed_newest_first_and_the_grouped_list_holds_only_stories_of_several_items<S>(
    store: &mut S,
) where
    S: ItemStore + StoryStore + ?Sized,
{
    with_sources(store);
    let talent = save(store, &original(), Status::Candidate);
    save(store, &chinanews_copy(), Status::Candidate);
    let older = save(
        store,
        &story(
            "gov",
            "old",
            "某市开展职业技能竞赛",
            "某市举办职业技能竞赛，来自各行业的选手同台竞技。",
            None,
            None,
            Some("2025-05-01T09:00:00+08:00"),
        ),
        Status::Candidate,
    );
    let newer = save(
        store,
        &story(
            "xinhua",
            "new",
            "德国调整法定最低工资标准",
            "德国联邦政府宣布，法定最低工资将于明年一月起上调。",
            None,
            None,
            Some("2025-07-01T09:00:00+08:00"),
        ),
        Status::Approved,
    );
    let primaries: Vec<i64> = store
        .stories(false, 10)
        .expect("stories")
        .iter()
        .map(|s| s.primary_item)
        .collect();
    assert_eq!(primaries, vec![newer, talent, older]);
    let first_two: Vec<i64> = store
        .stories(false, 2)
        .expect("stories")
        .iter()
        .map(|s| s.primary_item)
        .collect();
    assert_eq!(first_two, vec![newer, talent]);
    let grouped = store.stories(true, 10).expect("grouped");
    assert_eq!(grouped.len(), 1);
    assert_eq!(grouped[0].primary_item, talent);
    let newest = &store.stories(false, 1).expect("stories")[0];
    assert_eq!(newest.status, Status::Approved);
    assert_eq!(newest.outlets, vec!["新华社"]);
    assert!(matches!(
        store.story(999_999),
        Err(StoreError::NoSuchStory(999_999))
    ));
    assert!(matches!(
        store.story_of(999_999),
        Err(StoreError::NoSuchItem(999_999))
    ));
}
on_both_backends!(
    stories_are_listed_newest_first_and_the_grouped_list_holds_only_stories_of_several_items
);

// --------------------------------------------------------------------- desk

fn the_queue_groups_by_section_in_bulletin_order_most_relevant_first_and_pages<S>(store: &mut S)
where
    S: ItemStore + DeskStore + ?Sized,
{
    with_sources(store);
    let day = |d: u32| format!("2025-06-{d:02}T09:00:00+08:00");
    let mut add = |slug: &str, section: Option<&str>, relevance: Option<f64>, d: u32| {
        let body = format!("第{slug}条新闻的正文，各不相同，编号{slug}。");
        save_alone(
            store,
            &story(
                "gov",
                slug,
                &format!("标题{slug}"),
                &body,
                section,
                relevance,
                Some(&day(d)),
            ),
            Status::Candidate,
        )
    };
    let a = add("a", Some("focus"), Some(0.4), 10);
    let b = add("b", Some("focus"), Some(0.9), 11);
    let c = add("c", Some("focus"), Some(0.7), 12);
    // Equal relevance: the newer first; same date: the later stored first.
    let d = add("d", Some("abroad"), Some(0.5), 13);
    let e = add("e", Some("abroad"), Some(0.5), 14);
    let f = add("f", Some("abroad"), Some(0.5), 14);
    // Unfiled: no section, or one not configured; unrated last.
    let g = add("g", None, None, 20);
    let h = add("h", Some("gone"), Some(0.1), 1);
    let i = add("i", Some("regional"), None, 2);

    let mut q = query(None);
    let page = store.desk_items(&q).expect("the queue");
    assert_eq!(page.total, 9);
    assert_eq!(
        page.groups,
        vec![
            (Some("focus".to_string()), 3),
            (Some("abroad".to_string()), 3),
            (Some("regional".to_string()), 1),
            (None, 2),
        ]
    );
    let all: Vec<i64> = page.items.iter().map(|i| i.id).collect();
    assert_eq!(all, vec![b, c, a, f, e, d, i, h, g]);

    q.limit = 4;
    q.offset = 4;
    let page = store.desk_items(&q).expect("page 2");
    assert_eq!(page.total, 9, "the total counts every page");
    assert_eq!(page.groups.len(), 4);
    let ids: Vec<i64> = page.items.iter().map(|i| i.id).collect();
    assert_eq!(ids, vec![e, d, i, h]);
    q.offset = 8;
    assert_eq!(page_ids(store, &q), vec![g]);
    q.offset = 9;
    assert!(page_ids(store, &q).is_empty());

    // Without configured sections every story is unfiled, ordered alike.
    let mut q = query(None);
    q.sections.clear();
    let page = store.desk_items(&q).expect("no sections");
    assert_eq!(page.groups, vec![(None, 9)]);
    let ids: Vec<i64> = page.items.iter().map(|i| i.id).collect();
    assert_eq!(ids, vec![b, c, f, e, d, a, h, g, i]);
}
on_both_backends!(the_queue_groups_by_section_in_bulletin_order_most_relevant_first_and_pages);

fn the_desk_filters_by_status_section_the_unfiled_outlet_and_day<S>(store: &mut S)
where
    S: ItemStore + DeskStore + StoryStore + ?Sized,
{
    with_sources(store);
    let talent = save(
        store,
        &NewItem {
            section: Some("focus".into()),
            ..original()
        },
        Status::Approved,
    );
    // A copy from another outlet: the story is carried by 中国新闻网 too.
    save(store, &chinanews_copy(), Status::Candidate);
    let abroad = save_alone(
        store,
        &story(
            "xinhua",
            "germany",
            "德国调整法定最低工资标准",
            "德国联邦政府宣布，法定最低工资将于明年一月起上调。",
            Some("abroad"),
            Some(0.8),
            Some("2025-06-12T23:30:00+08:00"),
        ),
        Status::Candidate,
    );
    let unfiled = save_alone(
        store,
        &story(
            "gov",
            "contest",
            "某市开展职业技能竞赛",
            "某市举办职业技能竞赛，来自各行业的选手同台竞技。",
            Some("gone"),
            None,
            None,
        ),
        Status::Maybe,
    );

    let mut q = query(None);
    q.status = Some(Status::Approved);
    assert_eq!(page_ids(store, &q), vec![talent]);
    q.status = Some(Status::Maybe);
    assert_eq!(page_ids(store, &q), vec![unfiled]);
    q.status = Some(Status::Rejected);
    let page = store.desk_items(&q).expect("none");
    assert_eq!((page.total, page.groups.len()), (0, 0));

    let mut q = query(None);
    q.section = Some(SectionFilter::Section("abroad".into()));
    assert_eq!(page_ids(store, &q), vec![abroad]);
    q.section = Some(SectionFilter::Unfiled);
    assert_eq!(page_ids(store, &q), vec![unfiled]);
    let mut none = query(None);
    none.sections.clear();
    none.section = Some(SectionFilter::Unfiled);
    assert_eq!(
        store.desk_items(&none).expect("unfiled").total,
        3,
        "without sections, everything is unfiled"
    );

    let mut q = query(None);
    q.source = Some("chinanews".into());
    assert_eq!(page_ids(store, &q), vec![talent], "any copy's outlet");
    q.source = Some("mohrss".into());
    assert_eq!(page_ids(store, &q), vec![talent]);
    q.source = Some("nowhere".into());
    assert!(page_ids(store, &q).is_empty());

    // By the Beijing day of publication (or of first sight, without one).
    let mut q = query(None);
    q.from = Some("2025-06-12".into());
    q.to = Some("2025-06-12".into());
    assert_eq!(page_ids(store, &q), vec![abroad]);
    q.to = Some("2025-06-16".into());
    assert_eq!(page_ids(store, &q), vec![talent, abroad]);
    let mut q = query(None);
    q.to = Some("2000-01-01".into());
    assert!(page_ids(store, &q).is_empty());
    q.to = None;
    q.from = Some("2025-06-17".into());
    assert_eq!(
        page_ids(store, &q),
        vec![unfiled],
        "seen today, undated; the talent story is dated by its primary"
    );

    // Filters combine.
    let mut q = query(None);
    q.status = Some(Status::Candidate);
    q.section = Some(SectionFilter::Section("focus".into()));
    assert!(page_ids(store, &q).is_empty());
}
on_both_backends!(the_desk_filters_by_status_section_the_unfiled_outlet_and_day);

fn search_finds_a_substring_of_any_copy_in_its_title_bulletin_title_or_text<S>(store: &mut S)
where
    S: ItemStore + DeskStore + ?Sized,
{
    with_sources(store);
    let germany = save_alone(
        store,
        &story(
            "xinhua",
            "germany",
            "德国调整法定最低工资标准",
            "德国最低工资上调至每小时十二点八二欧元，GDP增速放缓。",
            Some("abroad"),
            None,
            None,
        ),
        Status::Candidate,
    );
    let pension = save_alone(
        store,
        &story(
            "gov",
            "pension",
            "江苏调整退休人员基本养老金",
            "江苏省人社厅发布通知，调整退休人员基本养老金，涨幅为50%_左右的一半。",
            Some("focus"),
            None,
            None,
        ),
        Status::Candidate,
    );
    let injury = save_alone(
        store,
        &story(
            "mohrss",
            "injury",
            "工伤保险条例实施情况通报",
            "人社部通报工伤保险条例实施情况。",
            None,
            None,
            None,
        ),
        Status::Approved,
    );
    let talent = save(store, &original(), Status::Candidate);
    save(store, &chinanews_copy(), Status::Candidate);
    // Search sees items the moment they are stored, whatever catching up
    // the backend's index needs.
    assert_eq!(found(store, "二点八"), 1, "three characters of a body");
    let page = store.desk_items(&query(Some("二点八"))).expect("search");
    assert_eq!(page.items[0].id, germany);
    assert_eq!(page.groups, vec![(Some("abroad".to_string()), 1)]);
    assert_eq!(found(store, "养老金 江苏"), 1, "every word must occur");
    assert_eq!(found(store, "养老金 德国"), 0);
    assert_eq!(
        page_ids(store, &query(Some("工伤"))),
        vec![injury],
        "two characters"
    );
    assert_eq!(found(store, "整退休人"), 1, "a title");
    assert_eq!(found(store, "gdp"), 1, "ASCII letters in either case");
    assert_eq!(found(store, "Gd"), 1);
    // LIKE's wildcards are text.
    assert_eq!(page_ids(store, &query(Some("%"))), vec![pension]);
    assert_eq!(page_ids(store, &query(Some("50%_左"))), vec![pension]);
    assert_eq!(found(store, "5_"), 0);
    assert_eq!(found(store, "十二%欧元"), 0);
    // Query syntax is text.
    assert_eq!(found(store, "\"OR* NEAR("), 0);
    assert_eq!(found(store, "AND"), 0);
    // A copy's own words find its story, under the primary.
    let copy_only = chinanews_copy()
        .content_text
        .chars()
        .take(6)
        .collect::<String>();
    assert!(!original().content_text.contains(&copy_only), "{copy_only}");
    assert_eq!(page_ids(store, &query(Some(&copy_only))), vec![talent]);
    // A bulletin title an editor sets is searched too.
    store
        .set_bulletin_title(germany, Some("德国：最低工资再上调"))
        .expect("retitle");
    assert_eq!(page_ids(store, &query(Some("再上调"))), vec![germany]);
    // Blank or spaces only: no search.
    assert_eq!(found(store, "  "), 4);
}
on_both_backends!(search_finds_a_substring_of_any_copy_in_its_title_bulletin_title_or_text);

fn search_words_of_three_characters_must_all_occur_in_one_copy_shorter_ones_in_any<S>(store: &mut S)
where
    S: ItemStore + DeskStore + StoryStore + ?Sized,
{
    with_sources(store);
    let wages = save_alone(
        store,
        &story(
            "gov",
            "wages",
            "最低工资标准公布",
            "本市最低工资标准上调。",
            None,
            None,
            Some("2025-06-01T09:00:00+08:00"),
        ),
        Status::Candidate,
    );
    let insurance = save_alone(
        store,
        &story(
            "xinhua",
            "insurance",
            "失业保险金发放",
            "失业保险金按月发放。",
            None,
            None,
            Some("2025-06-02T09:00:00+08:00"),
        ),
        Status::Candidate,
    );
    let (sw, si) = (
        store.story_of(wages).expect("story"),
        store.story_of(insurance).expect("story"),
    );
    store.merge_stories(sw, si).expect("merge");
    assert_eq!(found(store, "最低工资"), 1);
    assert_eq!(found(store, "失业保险"), 1, "the merged-in copy's words");
    assert_eq!(
        found(store, "最低工资 失业保险"),
        0,
        "long words match within one copy"
    );
    assert_eq!(found(store, "工资 保险"), 1, "short words in any copy");
    assert_eq!(found(store, "最低工资 保险"), 1);
}
on_both_backends!(search_words_of_three_characters_must_all_occur_in_one_copy_shorter_ones_in_any);

fn a_desk_item_is_its_story_under_the_primary_with_every_copy<S>(store: &mut S)
where
    S: ItemStore + DeskStore + ?Sized,
{
    with_sources(store);
    let explanation = r#"{"reasons": ["关键词：人才 +2"], "scores": [["focus", 0.8]]}"#;
    let a = save(
        store,
        &NewItem {
            section: Some("focus".into()),
            relevance: Some(0.75),
            explanation: Some(explanation.into()),
            ..original()
        },
        Status::Candidate,
    );
    let b = save(store, &chinanews_copy(), Status::Candidate);
    let item = store.desk_item(b).expect("desk item").expect("found");
    assert_eq!(item.id, a, "under the primary, whichever copy is named");
    assert_eq!(item.story_items, 2);
    assert_eq!(item.title, original().title);
    assert_eq!(item.bulletin_title, None);
    assert_eq!(item.origin, "人力资源社会保障部");
    assert_eq!(item.url, "https://mohrss.example/talent.html");
    assert_eq!(item.section.as_deref(), Some("focus"));
    assert_eq!(item.published.as_deref(), Some("2025-06-16T17:05:00+08:00"));
    assert_eq!(item.status, Status::Candidate);
    assert_eq!(item.source_id, "mohrss");
    assert_eq!(item.source_name, "人力资源社会保障部");
    assert_eq!(item.relevance, Some(0.75));
    assert_eq!(
        item.explanation,
        Some(serde_json::from_str::<serde_json::Value>(explanation).expect("JSON"))
    );
    let first = original()
        .content_text
        .lines()
        .next()
        .expect("a line")
        .to_string();
    assert_eq!(item.first_paragraph, first);
    assert_eq!(item.content_html.as_str(), original().content_html.as_str());
    assert_eq!(item.outlets, vec!["人力资源社会保障部", "中国新闻网"]);
    let members: Vec<(i64, &str, bool)> = item
        .members
        .iter()
        .map(|m| (m.id, m.source_name.as_str(), m.primary))
        .collect();
    assert_eq!(
        members,
        vec![(a, "人力资源社会保障部", true), (b, "中国新闻网", false)]
    );
    assert_eq!(
        item.members[1].url,
        "https://chinanews.example/talent-copy.html"
    );
    assert!(!item.section_fixed && !item.title_fixed);
    assert_eq!(
        store.story_item_ids(item.story_id).expect("ids"),
        vec![a, b]
    );

    // A story of one lists no members; an explanation that is not JSON is
    // none.
    let alone = save_alone(
        store,
        &NewItem {
            explanation: Some("not json".into()),
            ..story(
                "gov",
                "alone",
                "某市开展职业技能竞赛",
                &format!("{}\n第二段。", "字".repeat(200)),
                None,
                None,
                None,
            )
        },
        Status::Maybe,
    );
    let item = store.desk_item(alone).expect("desk item").expect("found");
    assert!(item.members.is_empty());
    assert_eq!(item.explanation, None);
    assert_eq!(item.outlets, vec!["中国政府网"]);
    assert_eq!(item.status, Status::Maybe);
    assert_eq!(
        item.first_paragraph,
        format!("{}…", "字".repeat(kuaibao::store::FIRST_PARAGRAPH_CHARS))
    );
    assert!(store.desk_item(999_999).expect("no item").is_none());
    assert!(store.story_item_ids(999_999).expect("no story").is_empty());
}
on_both_backends!(a_desk_item_is_its_story_under_the_primary_with_every_copy);

fn moving_a_story_files_its_primary_for_good_and_retitles_it_unless_an_editor_titled_it<S>(
    store: &mut S,
) where
    S: ItemStore + DeskStore + ?Sized,
{
    with_sources(store);
    let a = save(
        store,
        &NewItem {
            section: Some("focus".into()),
            ..original()
        },
        Status::Candidate,
    );
    let b = save(store, &chinanews_copy(), Status::Candidate);
    let old = store
        .set_section(b, Some("abroad"), &retitle)
        .expect("move");
    assert_eq!(old.as_deref(), Some("focus"));
    let item = store.desk_item(a).expect("desk item").expect("found");
    assert_eq!(item.section.as_deref(), Some("abroad"));
    assert!(item.section_fixed);
    let retitled = format!("国际：{}", original().title);
    assert_eq!(item.bulletin_title.as_deref(), Some(retitled.as_str()));
    // The same section again: nothing moves, it stays fixed.
    let old = store
        .set_section(a, Some("abroad"), &retitle)
        .expect("again");
    assert_eq!(old.as_deref(), Some("abroad"));
    // Back: a title equal to the outlet's is none.
    store.set_section(a, Some("focus"), &retitle).expect("back");
    let item = store.desk_item(a).expect("desk item").expect("found");
    assert_eq!(item.bulletin_title, None);
    // An editor's title stays through moves.
    store
        .set_bulletin_title(a, Some("人社部：人才改革试点"))
        .expect("title");
    let old = store.set_section(a, None, &retitle).expect("unfile");
    assert_eq!(old.as_deref(), Some("focus"));
    let item = store.desk_item(a).expect("desk item").expect("found");
    assert_eq!(item.section, None);
    assert_eq!(item.bulletin_title.as_deref(), Some("人社部：人才改革试点"));
    assert!(item.section_fixed && item.title_fixed);
    assert!(matches!(
        store.set_section(999_999, Some("focus"), &retitle),
        Err(StoreError::NoSuchItem(999_999))
    ));
}
on_both_backends!(
    moving_a_story_files_its_primary_for_good_and_retitles_it_unless_an_editor_titled_it
);

fn the_bulletin_title_is_set_on_the_primary_and_a_blank_one_restores_the_outlets<S>(store: &mut S)
where
    S: ItemStore + DeskStore + ?Sized,
{
    with_sources(store);
    let a = save(store, &original(), Status::Candidate);
    let b = save(store, &chinanews_copy(), Status::Candidate);
    let old = store
        .set_bulletin_title(b, Some("  人社部：人才改革试点  "))
        .expect("title");
    assert_eq!(old, None);
    let item = store.desk_item(b).expect("desk item").expect("found");
    assert_eq!(item.id, a);
    assert_eq!(item.bulletin_title.as_deref(), Some("人社部：人才改革试点"));
    assert!(item.title_fixed && !item.section_fixed);
    let old = store.set_bulletin_title(a, Some("   ")).expect("blank");
    assert_eq!(old.as_deref(), Some("人社部：人才改革试点"));
    let item = store.desk_item(a).expect("desk item").expect("found");
    assert_eq!(item.bulletin_title, None);
    assert!(item.title_fixed, "the outlet's title, kept by the editor");
    assert_eq!(store.set_bulletin_title(a, None).expect("none"), None);
    assert!(matches!(
        store.set_bulletin_title(999_999, Some("x")),
        Err(StoreError::NoSuchItem(999_999))
    ));
}
on_both_backends!(the_bulletin_title_is_set_on_the_primary_and_a_blank_one_restores_the_outlets);

fn regrouping_puts_items_together_in_a_new_story_named_after_the_first<S>(store: &mut S)
where
    S: ItemStore + DeskStore + StoryStore + ?Sized,
{
    with_sources(store);
    let a = save_alone(store, &original(), Status::Candidate);
    let b = save_alone(store, &chinanews_copy(), Status::Candidate);
    let g = save_alone(
        store,
        &story(
            "gov",
            "contest",
            "某市开展职业技能竞赛",
            "某市举办职业技能竞赛，来自各行业的选手同台竞技。",
            None,
            None,
            None,
        ),
        Status::Candidate,
    );
    let (sa, sb) = (
        store.story_of(a).expect("story"),
        store.story_of(b).expect("story"),
    );
    let uid_b = store.story(sb).expect("story").summary.uid;
    let uid_a = store.story(sa).expect("story").summary.uid;
    // Undoing a merge: the merged-in items go back to a story of their own.
    store.merge_stories(sa, sb).expect("merge");
    let back = store.regroup_items(&[b], Status::Maybe).expect("regroup");
    assert_ne!(back, sa);
    let story = store.story(back).expect("regrouped");
    assert_eq!(story.summary.uid, uid_b, "its old feed entry id again");
    assert_eq!(story.summary.status, Status::Maybe);
    assert_eq!(store.story_item_ids(back).expect("ids"), vec![b]);
    assert_eq!(store.story_item_ids(sa).expect("ids"), vec![a]);
    // Items from two stories, the first's uid taken by its own story: the
    // new story's uid gets a suffix, and the emptied story is gone.
    let both = store
        .regroup_items(&[a, g], Status::Approved)
        .expect("regroup");
    let story = store.story(both).expect("regrouped");
    assert_eq!(story.summary.uid, format!("{uid_a}-2"));
    assert_eq!(story.summary.items, 2);
    assert_eq!(
        story.summary.primary_item, a,
        "the original, named by 中国政府网"
    );
    assert_eq!(story.summary.status, Status::Approved);
    assert!(matches!(store.story(sa), Err(StoreError::NoSuchStory(_))));
    assert_eq!(store.stories(false, 10).expect("stories").len(), 2);
    // Nothing, or an unknown item: an error, and nothing changes.
    assert!(matches!(
        store.regroup_items(&[], Status::Candidate),
        Err(StoreError::NoSuchItem(0))
    ));
    assert!(matches!(
        store.regroup_items(&[b, 999_999], Status::Candidate),
        Err(StoreError::NoSuchItem(999_999))
    ));
    assert_eq!(store.story_of(b).expect("story"), back);
    assert_eq!(store.stories(false, 10).expect("stories").len(), 2);
}
on_both_backends!(regrouping_puts_items_together_in_a_new_story_named_after_the_first);

fn once_the_search_index_caught_up_there_is_nothing_left_to_index<S>(store: &mut S)
where
    S: ItemStore + DeskStore + ?Sized,
{
    with_sources(store);
    save(store, &original(), Status::Candidate);
    store.index_search_text(Some(1)).expect("index");
    store.index_search_text(None).expect("index");
    assert_eq!(store.index_search_text(None).expect("index"), 0);
    assert_eq!(found(store, "人才"), 1);
}
on_both_backends!(once_the_search_index_caught_up_there_is_nothing_left_to_index);

// ---------------------------------------------------------------- decisions

fn a_decision_on_a_copy_is_recorded_on_the_primary_with_its_section<S>(store: &mut S)
where
    S: ItemStore + DecisionStore + DecisionLog<Error = StoreError> + ?Sized,
{
    with_sources(store);
    assert_eq!(store.latest_decision().expect("latest"), 0);
    assert_eq!(store.decision_count().expect("count"), 0);
    save(
        store,
        &NewItem {
            section: Some("focus".into()),
            ..original()
        },
        Status::Approved,
    );
    let b = save(store, &chinanews_copy(), Status::Candidate);
    store
        .record_decision(b, Decision::Approve, Some("alice"))
        .expect("decide");
    assert_eq!(store.decision_count().expect("count"), 1);
    let first = store.latest_decision().expect("latest");
    assert!(first > 0);
    let items = store.decided_items().expect("decided");
    assert_eq!(items.len(), 1, "one decision, on the primary");
    assert_eq!(items[0].title, original().title);
    assert_eq!(items[0].section.as_deref(), Some("focus"));
    assert_eq!(items[0].source_id, "mohrss");
    assert_eq!(items[0].origin, "人力资源社会保障部");
    assert_eq!(items[0].url, "https://mohrss.example/talent.html");
    assert_eq!(items[0].text, original().content_text);
    assert!(!items[0].rejected);
    assert!(matches!(
        store.record_decision(999_999, Decision::Reject, None),
        Err(StoreError::NoSuchItem(999_999))
    ));
    assert_eq!(store.decision_count().expect("count"), 1);
    store
        .record_decision(b, Decision::Move, None)
        .expect("decide");
    assert!(store.latest_decision().expect("latest") > first);
    assert_eq!(store.decided_items().expect("decided").len(), 1);
}
on_both_backends!(a_decision_on_a_copy_is_recorded_on_the_primary_with_its_section);

fn forgetting_takes_back_only_the_latest_such_decision_of_that_editor<S>(store: &mut S)
where
    S: ItemStore + DecisionStore + DecisionLog<Error = StoreError> + ?Sized,
{
    with_sources(store);
    let a = save(store, &original(), Status::Approved);
    let b = save(store, &chinanews_copy(), Status::Approved);
    store
        .record_decision(a, Decision::Approve, Some("alice"))
        .expect("decide");
    store
        .record_decision(a, Decision::Approve, Some("bob"))
        .expect("decide");
    store
        .record_decision(a, Decision::Approve, Some("alice"))
        .expect("decide");
    store
        .record_decision(a, Decision::Reject, Some("alice"))
        .expect("decide");
    let latest = store.latest_decision().expect("latest");
    assert!(
        store
            .forget_decision(b, Decision::Approve, "alice")
            .expect("forget"),
        "named by any copy of the story"
    );
    assert_eq!(store.decision_count().expect("count"), 3);
    assert_eq!(
        store.latest_decision().expect("latest"),
        latest,
        "the reject, decided last, stays"
    );
    assert!(
        store
            .forget_decision(a, Decision::Approve, "alice")
            .expect("forget")
    );
    assert!(
        !store
            .forget_decision(a, Decision::Approve, "alice")
            .expect("forget"),
        "alice has no approval left"
    );
    assert!(
        !store
            .forget_decision(a, Decision::Move, "bob")
            .expect("forget")
    );
    assert!(
        !store
            .forget_decision(999_999, Decision::Approve, "bob")
            .expect("forget")
    );
    assert_eq!(store.decision_count().expect("count"), 2);
}
on_both_backends!(forgetting_takes_back_only_the_latest_such_decision_of_that_editor);

fn decided_items_are_rejected_when_their_story_was_rejected_or_found_irrelevant<S>(store: &mut S)
where
    S: ItemStore + DecisionStore + DecisionLog<Error = StoreError> + ?Sized,
{
    with_sources(store);
    let mut add = |slug: &str, status: Status| {
        let id = save_alone(
            store,
            &story(
                "gov",
                slug,
                &format!("标题{slug}"),
                &format!("正文{slug}，各不相同。"),
                Some("regional"),
                None,
                None,
            ),
            status,
        );
        store
            .record_decision(id, Decision::of_status(status).expect("a decision"), None)
            .expect("decide");
        id
    };
    add("approved", Status::Approved);
    add("rejected", Status::Rejected);
    add("irrelevant", Status::Irrelevant);
    let items = store.decided_items().expect("decided");
    let got: Vec<(&str, bool)> = items
        .iter()
        .map(|i| (i.title.as_str(), i.rejected))
        .collect();
    assert_eq!(
        got,
        vec![
            ("标题approved", false),
            ("标题rejected", true),
            ("标题irrelevant", true)
        ]
    );
}
on_both_backends!(decided_items_are_rejected_when_their_story_was_rejected_or_found_irrelevant);

fn the_saved_model_is_given_back_only_for_the_decisions_it_was_trained_on<S>(store: &mut S)
where
    S: ItemStore + DecisionStore + DecisionLog<Error = StoreError> + ?Sized,
{
    with_sources(store);
    let rules = kuaibao::classify::Rules::default();
    assert!(
        kuaibao::classify::current_model(store, &rules, &|_| None)
            .expect("no model")
            .is_none(),
        "no decisions, no model"
    );
    assert_eq!(store.model_trained_on().expect("trained on"), None);
    let a = save_alone(
        store,
        &story(
            "gov",
            "jobs",
            "人社部部署稳岗扩岗工作",
            "人社部部署稳岗扩岗专项行动，支持企业吸纳高校毕业生就业。",
            Some("focus"),
            Some(0.9),
            None,
        ),
        Status::Approved,
    );
    let b = save_alone(
        store,
        &story(
            "gov",
            "food",
            "某地举办美食节",
            "美食节汇集各地特色小吃，吸引市民游客品尝。",
            None,
            Some(0.1),
            None,
        ),
        Status::Rejected,
    );
    store
        .record_decision(a, Decision::Approve, Some("alice"))
        .expect("decide");
    store
        .record_decision(b, Decision::Reject, Some("alice"))
        .expect("decide");
    let model = kuaibao::classify::current_model(store, &rules, &|_| None)
        .expect("train")
        .expect("a model");
    assert_eq!(model.decisions(), 2);
    let latest = store.latest_decision().expect("latest");
    assert_eq!(store.model_trained_on().expect("trained on"), Some(latest));
    let again = store
        .saved_model(latest)
        .expect("saved")
        .expect("the model");
    assert_eq!(*again, *model);
    assert!(store.saved_model(latest + 1).expect("saved").is_none());

    let plain = Arc::new(Model::default());
    store.save_model(latest + 5, plain.clone()).expect("save");
    assert_eq!(
        store.model_trained_on().expect("trained on"),
        Some(latest + 5)
    );
    let read = store
        .saved_model(latest + 5)
        .expect("saved")
        .expect("a model");
    assert!(Arc::ptr_eq(&read, &plain), "kept in memory");
    assert!(
        store.saved_model(latest).expect("saved").is_none(),
        "replaced"
    );
}
on_both_backends!(the_saved_model_is_given_back_only_for_the_decisions_it_was_trained_on);

// ------------------------------------------------------------------ repairs

fn repair<'a>(source: &'a str, status: &'a str, by: Option<&'a str>) -> NewRepair<'a> {
    NewRepair {
        source_id: source,
        status,
        what: "list",
        confidence: 0.875,
        old_toml: "[list]\nitem = \"li\"\n",
        new_toml: "[list]\nitem = \"div.news li\"\n",
        evidence: r#"{"found":["https://gov.example/1.html"]}"#,
        decided_by: by,
    }
}

fn a_new_proposal_replaces_the_sources_older_ones_and_decided_repairs_stay<S>(store: &mut S)
where
    S: RepairStore + ?Sized,
{
    assert!(store.proposed_repairs().expect("proposed").is_empty());
    assert!(store.latest_repair("gd").expect("latest").is_none());
    store
        .record_repair(&repair("gd", "proposed", None))
        .expect("record");
    let applied = store
        .record_repair(&repair("gd", "applied", Some("heal:auto")))
        .expect("record");
    let other = store
        .record_repair(&repair("js", "proposed", None))
        .expect("record");
    let second = store
        .record_repair(&repair("gd", "proposed", None))
        .expect("record");
    // Any record replaces the source's proposals: only the latest of gd's
    // is proposed. (Ids are not compared: SQLite may give a deleted
    // repair's id to the next one, PostgreSQL never does.)
    let row = store.repair(applied).expect("read").expect("kept");
    assert_eq!(row.status, "applied");
    assert_eq!(row.decided_by.as_deref(), Some("heal:auto"));
    assert_eq!(row.decided_at.as_deref(), Some(row.created_at.as_str()));
    let latest = store.latest_repair("gd").expect("latest").expect("one");
    assert_eq!(latest.id, second);
    assert_eq!(latest.source_id, "gd");
    assert_eq!(latest.status, "proposed");
    assert_eq!(latest.what, "list");
    assert_eq!(latest.confidence, 0.875);
    assert_eq!(latest.old_toml, "[list]\nitem = \"li\"\n");
    assert_eq!(latest.new_toml, "[list]\nitem = \"div.news li\"\n");
    assert_eq!(
        latest.evidence,
        r#"{"found":["https://gov.example/1.html"]}"#
    );
    assert_eq!((latest.decided_at, latest.decided_by), (None, None));
    assert!(
        chrono::DateTime::parse_from_rfc3339(&latest.created_at)
            .is_ok_and(|t| t.offset().local_minus_utc() == 8 * 3600),
        "Beijing time: {}",
        latest.created_at
    );
    let proposed: Vec<i64> = store
        .proposed_repairs()
        .expect("proposed")
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(proposed, vec![second, other], "newest first");

    store
        .decide_repair(second, "dismissed", "root")
        .expect("decide");
    let row = store.repair(second).expect("read").expect("kept");
    assert_eq!(row.status, "dismissed");
    assert_eq!(row.decided_by.as_deref(), Some("root"));
    assert!(row.decided_at.is_some());
    let proposed: Vec<i64> = store
        .proposed_repairs()
        .expect("proposed")
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(proposed, vec![other]);
    assert!(store.repair(999_999).expect("read").is_none());
    store
        .decide_repair(999_999, "applied", "root")
        .expect("deciding nothing is no error");
}
on_both_backends!(a_new_proposal_replaces_the_sources_older_ones_and_decided_repairs_stay);

fn a_sources_stored_pages_are_listed_newest_first_and_their_text_is_found_by_url<S>(store: &mut S)
where
    S: ItemStore + RepairStore + ?Sized,
{
    with_sources(store);
    let mut urls = Vec::new();
    for n in 1..=3 {
        let it = story(
            "gov",
            &format!("p{n}"),
            &format!("标题{n}"),
            &format!("第{n}篇正文。"),
            None,
            None,
            None,
        );
        save_alone(store, &it, Status::Candidate);
        urls.push(it.canonical_url);
    }
    save_alone(store, &original(), Status::Candidate);
    let listed = store.source_urls("gov", 10).expect("urls");
    assert_eq!(
        listed,
        vec![urls[2].clone(), urls[1].clone(), urls[0].clone()]
    );
    assert_eq!(
        store.source_urls("gov", 2).expect("urls"),
        vec![urls[2].clone(), urls[1].clone()]
    );
    assert!(store.source_urls("nowhere", 10).expect("urls").is_empty());
    assert_eq!(
        store.text_at(&urls[0]).expect("text").as_deref(),
        Some("第1篇正文。")
    );
    assert_eq!(
        store
            .text_at("https://gov.example/none.html")
            .expect("text"),
        None
    );
}
on_both_backends!(a_sources_stored_pages_are_listed_newest_first_and_their_text_is_found_by_url);

// -------------------------------------------------------- several writers

/// A SQLite file and a way to open more handles on it.
fn sqlite_file() -> (tempfile::TempDir, impl Fn() -> kuaibao::store::SqliteStore) {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("kuaibao.db");
    drop(kuaibao::store::SqliteStore::open(&path).expect("create"));
    (dir, move || {
        kuaibao::store::SqliteStore::open(&path).expect("open")
    })
}

/// A PostgreSQL database and a way to open more connections to it; `None`
/// when the test skips.
fn postgres_db(
    test: &str,
) -> Option<(
    support::pg_server::TestDb,
    impl Fn() -> kuaibao::store::postgres::PgStore,
)> {
    let db = support::pg_server::database(test)?;
    let url = db.url.clone();
    Some((db, move || {
        kuaibao::store::postgres::PgStore::connect(&url).expect("connect")
    }))
}

/// Two editors in two processes split the two items of the same stories
/// apart at the same moment: for each story one split happens and the
/// other finds the item alone, as if one after the other; the story keeps
/// its id, and no item is left without a story.
fn two_editors_splitting_one_story_at_once_split_it_once<S>(open: impl Fn() -> S)
where
    S: ItemStore + StoryStore + Send,
{
    let mut first = open();
    with_sources(&mut first);
    let mut pairs = Vec::new();
    for (n, a) in sample_articles().into_iter().take(8).enumerate() {
        let one = item(
            "mohrss",
            &format!("a{n}"),
            &a.original_title,
            &a.origin,
            &a.paragraphs,
            Some("2025-06-16T17:05:00+08:00"),
        );
        let mut other = one.clone();
        other.source_id = "xinhua".into();
        other.url = one.url.replace("mohrss", "xinhua");
        other.canonical_url = other.url.clone();
        other.content_text.push_str("\n（新华社）");
        other.content_hash = content_hash(&other.content_text).unwrap_or_default();
        let x = save(&mut first, &one, Status::Candidate);
        let y = save(&mut first, &other, Status::Candidate);
        let story = first.story_of(x).expect("story");
        assert_eq!(first.story_of(y).expect("story"), story, "grouped");
        pairs.push((story, x, y));
    }
    let barrier = std::sync::Barrier::new(2);
    let results: Vec<Vec<Result<i64, StoreError>>> = std::thread::scope(|s| {
        let handles: Vec<_> = [0, 1]
            .into_iter()
            .map(|side| {
                let mut store = open();
                let (barrier, pairs) = (&barrier, &pairs);
                s.spawn(move || {
                    barrier.wait();
                    pairs
                        .iter()
                        .map(|&(_, x, y)| store.split_item(if side == 0 { x } else { y }))
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a writer"))
            .collect()
    });
    for (n, &(story, x, y)) in pairs.iter().enumerate() {
        let outcomes = [&results[0][n], &results[1][n]];
        let splits = outcomes.iter().filter(|r| r.is_ok()).count();
        assert_eq!(splits, 1, "story {story}: {outcomes:?}");
        assert!(
            outcomes
                .iter()
                .any(|r| matches!(r, Err(StoreError::AloneInStory { .. }))),
            "{outcomes:?}"
        );
        let kept = first.story(story).expect("the story keeps its id");
        assert_eq!(kept.summary.items, 1);
        let (sx, sy) = (
            first.story_of(x).expect("story"),
            first.story_of(y).expect("story"),
        );
        assert_ne!(sx, sy);
        assert!(sx == story || sy == story);
    }
    assert_eq!(first.stories(false, 100).expect("stories").len(), 16);
}

#[test]
fn two_editors_splitting_one_story_at_once_split_it_once_sqlite() {
    let (_dir, open) = sqlite_file();
    two_editors_splitting_one_story_at_once_split_it_once(open);
}

#[test]
fn two_editors_splitting_one_story_at_once_split_it_once_postgres() {
    let Some((_db, open)) = postgres_db("store_stories::two_editors_splitting") else {
        return;
    };
    two_editors_splitting_one_story_at_once_split_it_once(open);
}

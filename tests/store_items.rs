//! Items and sources in the store (`ItemStore`) and the dedup index
//! (`IndexStore`), each test run on SQLite and on PostgreSQL with the same
//! assertions: storing an item once, copies joining their story, review
//! and its statuses, the published feeds, sources' fetch state, HTTP
//! validators, health.

use crate::support;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use kuaibao::config::{EncodingChoice, Source, SourceKind};
use kuaibao::dedup::{DedupConfig, prepare_story};
use kuaibao::demo::{OtherKind, SampleArticle, other_articles, sample_articles};
use kuaibao::model::{NewItem, Published, Validators};
use kuaibao::normalize::content_hash;
use kuaibao::store::{
    Classification, FetchOutcomeKind, FetchRecord, IndexStore, ItemStore, Status, StoreError,
    Stored, ToSave,
};

fn source(id: &str, name: &str) -> Source {
    Source {
        id: id.to_string(),
        name: name.to_string(),
        url: url::Url::parse(&format!("https://{id}.example/list/")).expect("url"),
        kind: SourceKind::Html,
        encoding: EncodingChoice::Auto,
        interval: std::time::Duration::from_secs(3600),
        region: None,
        section: None,
        enabled: true,
        list: None,
        json: None,
        article: None,
    }
}

fn sync<S: ItemStore + ?Sized>(store: &mut S) {
    store
        .sync_sources(&[
            source("mohrss", "人力资源社会保障部"),
            source("chinanews", "中国新闻网"),
            source("gov", "中国政府网"),
            source("xinhua", "新华社"),
        ])
        .expect("sync sources");
}

fn date(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("date")
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
            &url::Url::parse(&url).expect("url"),
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
        .expect("sample article")
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

/// 中国新闻网's copy: another title, a reworded lead, the last paragraph
/// cut (dedup's placement finds it, not the content hash).
fn chinanews_copy() -> NewItem {
    let o = other_articles()
        .into_iter()
        .find(|o| o.kind == OtherKind::Copy && o.copy_of.as_deref() == Some("talent-reform-pilot"))
        .expect("copy");
    item(
        "chinanews",
        "talent-copy",
        &o.title,
        "中国新闻网",
        &o.paragraphs,
        "2025-06-17T10:12:00+08:00",
    )
}

/// Another story altogether, a month later.
fn other_story() -> NewItem {
    let a = sample("hebei-unemployment-insurance");
    item(
        "gov",
        "hebei",
        &a.original_title,
        "河北省人社厅",
        &a.paragraphs,
        "2025-07-10T09:00:00+08:00",
    )
}

/// Stores an item as a poll does: dedup places it among the stored ones,
/// inside the store's transaction.
fn save<S: ItemStore + ?Sized>(store: &mut S, item: &NewItem, status: Status) -> Stored {
    let cfg = DedupConfig::default();
    let story = prepare_story(item, Utc::now(), &cfg);
    store
        .save_item(item, status, &story, &mut |stored| {
            kuaibao::dedup::place(stored, &story, &cfg)
        })
        .expect("save item")
}

fn status_of<S: ItemStore + ?Sized>(store: &S, id: i64) -> Status {
    store.review_item(id).expect("review item").status
}

// --- storing an item once ---------------------------------------------------

fn a_saved_item_is_found_again_by_its_url_and_by_its_guid<S: ItemStore + ?Sized>(store: &mut S) {
    sync(store);
    let mut a = original();
    a.guid = Some("guid-1".into());
    assert_eq!(
        store
            .find_known("mohrss", Some("guid-1"), &a.canonical_url)
            .expect("find"),
        None
    );
    let Stored::New(id) = save(store, &a, Status::Candidate) else {
        panic!("a new item");
    };
    assert_eq!(
        store
            .find_known("mohrss", Some("guid-1"), "elsewhere")
            .expect("find"),
        Some(id),
        "the same guid from the same source"
    );
    assert_eq!(
        store
            .find_known("gov", Some("guid-1"), "elsewhere")
            .expect("find"),
        None,
        "a guid is only the source's own"
    );
    assert_eq!(
        store
            .find_known("gov", None, &a.canonical_url)
            .expect("find"),
        Some(id),
        "the same canonical URL from anywhere"
    );
    assert_eq!(save(store, &a, Status::Candidate), Stored::Unchanged(id));
    assert_eq!(store.item_at(&a.url).expect("item at"), Some(id));
    assert_eq!(store.item_at("https://nowhere/").expect("item at"), None);
    assert_eq!(
        store.item_text(id).expect("text"),
        a.content_text,
        "the plain text is kept"
    );
    assert!(matches!(
        store.item_text(id + 1000),
        Err(StoreError::NoSuchItem(_))
    ));
    let counts = store.counts().expect("counts");
    assert_eq!((counts.items, counts.pages, counts.stories), (1, 1, 1));
    assert_eq!(counts.fingerprints, 1);
}
on_both_backends!(a_saved_item_is_found_again_by_its_url_and_by_its_guid);

/// Saves `items` as one batch, each a candidate, placed by dedup.
fn save_batch<S: ItemStore + ?Sized>(
    store: &mut S,
    items: &[NewItem],
) -> Vec<Result<Stored, StoreError>> {
    let cfg = DedupConfig::default();
    let stories: Vec<_> = items
        .iter()
        .map(|i| prepare_story(i, Utc::now(), &cfg))
        .collect();
    let batch: Vec<ToSave<'_>> = items
        .iter()
        .zip(&stories)
        .map(|(item, story)| ToSave {
            item,
            status: Status::Candidate,
            story,
        })
        .collect();
    store.save_items(&batch, &mut |i, stored| {
        kuaibao::dedup::place(stored, &stories[i], &cfg)
    })
}

fn a_copy_in_a_batch_joins_the_story_of_its_original_stored_before_it<S: ItemStore + ?Sized>(
    store: &mut S,
) {
    sync(store);
    let stored = save_batch(store, &[original(), other_story(), chinanews_copy()]);
    let [Ok(Stored::New(a)), Ok(Stored::New(b)), Ok(Stored::New(c))] = stored[..] else {
        panic!("expected three new items: {stored:?}");
    };
    let story = |id| store.review_item(id).expect("item").story_id;
    assert_eq!(story(a), story(c), "the copy joins the original's story");
    assert_ne!(story(a), story(b), "another story stays apart");
}
on_both_backends!(a_copy_in_a_batch_joins_the_story_of_its_original_stored_before_it);

#[test]
fn an_item_that_fails_in_a_batch_costs_only_itself() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kuaibao.db");
    let mut store = kuaibao::store::SqliteStore::open(&path).expect("open");
    sync(&mut store);
    // A write the database refuses, as a full disk or a bug would.
    rusqlite::Connection::open(&path)
        .expect("second connection")
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON items WHEN NEW.source_id = 'gov'
             BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .expect("trigger");
    let stored = save_batch(&mut store, &[original(), other_story(), chinanews_copy()]);
    assert!(
        matches!(stored[..], [Ok(Stored::New(_)), Err(_), Ok(Stored::New(_))]),
        "the failed item fails alone: {stored:?}"
    );
    assert_eq!(
        store.counts().expect("counts").items,
        2,
        "the others are kept, nothing of the failed one"
    );
}

fn the_same_text_under_another_url_of_the_same_source_is_one_item_on_two_pages<
    S: ItemStore + ?Sized,
>(
    store: &mut S,
) {
    sync(store);
    let a = original();
    let id = save(store, &a, Status::Candidate).id();
    let mut again = a.clone();
    again.url = "https://mohrss.example/print/talent.html".into();
    again.canonical_url = again.url.clone();
    assert_eq!(save(store, &again, Status::Candidate), Stored::Merged(id));
    assert_eq!(store.item_at(&again.url).expect("item at"), Some(id));
    let counts = store.counts().expect("counts");
    assert_eq!((counts.items, counts.pages, counts.stories), (1, 2, 1));
    let review = store.review_item(id).expect("review");
    // In the order first seen, then by URL (both were seen this second).
    assert_eq!(
        review.seen_on,
        vec![again.url.clone(), a.url.clone()],
        "every page it was seen on"
    );
}
on_both_backends!(the_same_text_under_another_url_of_the_same_source_is_one_item_on_two_pages);

fn a_guid_already_taken_keeps_its_first_page_and_the_new_page_is_still_recorded<
    S: ItemStore + ?Sized,
>(
    store: &mut S,
) {
    sync(store);
    let mut a = original();
    a.guid = Some("g".into());
    let id = save(store, &a, Status::Candidate).id();
    let mut other = other_story();
    other.source_id = "mohrss".into();
    other.guid = Some("g".into());
    // Same guid: the listed entry is the known item; its page is recorded.
    assert_eq!(
        save(store, &other, Status::Candidate),
        Stored::Unchanged(id)
    );
    assert_eq!(
        store.find_known("mohrss", Some("g"), "x").expect("find"),
        Some(id)
    );
    assert_eq!(store.counts().expect("counts").pages, 2);
}
on_both_backends!(a_guid_already_taken_keeps_its_first_page_and_the_new_page_is_still_recorded);

fn new_text_at_the_source_updates_the_item_in_its_story<S: ItemStore + ?Sized>(store: &mut S) {
    sync(store);
    let a = original();
    let id = save(store, &a, Status::Candidate).id();
    let story = store.review_item(id).expect("review").story_id;
    let mut edited = a.clone();
    edited.title = format!("{}（更新）", a.title);
    edited.content_text = format!("{}\n补充说明。", a.content_text);
    edited.content_hash = content_hash(&edited.content_text).unwrap_or_default();
    edited.relevance = Some(0.9);
    edited.explanation = Some(r#"{"why":"test"}"#.into());
    edited.bulletin_title = Some("全国：人才改革".into());
    assert_eq!(save(store, &edited, Status::Approved), Stored::Updated(id));
    let review = store.review_item(id).expect("review");
    assert_eq!(review.title, edited.title);
    assert_eq!(review.story_id, story, "the story stays");
    assert_eq!(review.relevance, Some(0.9));
    assert_eq!(review.bulletin_title.as_deref(), Some("全国：人才改革"));
    assert_eq!(review.explanation, Some(serde_json::json!({"why": "test"})));
    assert_eq!(
        review.status,
        Status::Approved,
        "a story no editor decided takes the new classification's status"
    );
    assert_eq!(store.item_text(id).expect("text"), edited.content_text);
    // A copy seen by another outlet never overwrites the original's text.
    let mut foreign = edited.clone();
    foreign.source_id = "gov".into();
    foreign.title = "别的标题".into();
    assert_eq!(
        save(store, &foreign, Status::Candidate),
        Stored::Unchanged(id)
    );
    assert_eq!(store.review_item(id).expect("review").title, edited.title);
}
on_both_backends!(new_text_at_the_source_updates_the_item_in_its_story);

// --- stories -----------------------------------------------------------------

fn a_republished_copy_joins_the_story_and_the_feed_shows_it_once_with_a_via<
    S: ItemStore + ?Sized,
>(
    store: &mut S,
) {
    sync(store);
    let a = save(store, &original(), Status::Approved).id();
    let b = save(store, &chinanews_copy(), Status::Candidate).id();
    assert_ne!(a, b);
    let (ra, rb) = (
        store.review_item(a).expect("a"),
        store.review_item(b).expect("b"),
    );
    assert_eq!(ra.story_id, rb.story_id, "one story");
    assert_eq!(ra.story_items, 2);
    assert_eq!(
        rb.status,
        Status::Approved,
        "a copy of an approved story is approved with it"
    );
    assert_eq!(store.counts().expect("counts").stories, 1);
    let review = store.review_items(None, 10).expect("review");
    assert_eq!(review.len(), 1, "one row per story: {review:#?}");
    assert_eq!(review[0].id, a, "the original is primary");
    assert_eq!(
        review[0].seen_on,
        vec![
            "https://mohrss.example/talent.html",
            "https://chinanews.example/talent-copy.html"
        ]
    );
    let entries = store.feed_entries(Published::Approved, None).expect("feed");
    assert_eq!(entries.len(), 1, "{entries:#?}");
    let e = &entries[0];
    assert_eq!(e.url, "https://mohrss.example/talent.html");
    assert_eq!(e.origin, "人力资源社会保障部");
    assert_eq!(e.source_name, "人力资源社会保障部");
    assert_eq!(e.source_url, "https://mohrss.example/list/");
    assert!(e.content_html.contains("近日，人力资源社会保障部印发通知"));
    assert_eq!(e.via.len(), 1);
    assert_eq!(e.via[0].outlet, "中国新闻网");
    assert_eq!(e.via[0].url, "https://chinanews.example/talent-copy.html");
    assert_eq!(
        e.updated,
        date("2025-06-17T10:12:00+08:00"),
        "the newest article of the story dates the entry"
    );
}
on_both_backends!(a_republished_copy_joins_the_story_and_the_feed_shows_it_once_with_a_via);

fn the_same_text_from_another_outlet_joins_that_story_and_lifts_an_undecided_status<
    S: ItemStore + ?Sized,
>(
    store: &mut S,
) {
    sync(store);
    let a = save(store, &original(), Status::Irrelevant).id();
    let mut copy = original();
    copy.source_id = "xinhua".into();
    copy.url = "https://xinhua.example/talent.html".into();
    copy.canonical_url = copy.url.clone();
    let b = save(store, &copy, Status::Candidate).id();
    assert_ne!(a, b, "another outlet's copy is an item of its own");
    assert_eq!(
        store.review_item(a).expect("a").story_id,
        store.review_item(b).expect("b").story_id
    );
    assert_eq!(status_of(store, a), Status::Candidate, "lifted");
    assert_eq!(status_of(store, b), Status::Candidate);
    // A decided story stays as the editor left it.
    store.set_status(a, Status::Rejected).expect("reject");
    let mut third = copy.clone();
    third.source_id = "gov".into();
    third.url = "https://gov.example/talent.html".into();
    third.canonical_url = third.url.clone();
    let c = save(store, &third, Status::Candidate).id();
    assert_eq!(status_of(store, c), Status::Rejected);
    assert_eq!(status_of(store, a), Status::Rejected);
}
on_both_backends!(the_same_text_from_another_outlet_joins_that_story_and_lifts_an_undecided_status);

fn unrelated_items_are_stories_of_their_own<S: ItemStore + ?Sized>(store: &mut S) {
    sync(store);
    let a = save(store, &original(), Status::Candidate).id();
    let b = save(store, &other_story(), Status::Candidate).id();
    assert_ne!(
        store.review_item(a).expect("a").story_id,
        store.review_item(b).expect("b").story_id
    );
    assert_eq!(store.counts().expect("counts").stories, 2);
    assert_eq!(store.integrity_check().expect("check"), "ok");
}
on_both_backends!(unrelated_items_are_stories_of_their_own);

// --- review ------------------------------------------------------------------

fn review_lists_stories_newest_first_and_filters_by_status<S: ItemStore + ?Sized>(store: &mut S) {
    sync(store);
    let a = save(store, &original(), Status::Candidate).id();
    let b = save(store, &other_story(), Status::Maybe).id();
    let all: Vec<i64> = store
        .review_items(None, 10)
        .expect("review")
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(all, vec![b, a], "newest first");
    let maybe: Vec<i64> = store
        .review_items(Some(Status::Maybe), 10)
        .expect("review")
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(maybe, vec![b]);
    assert_eq!(store.review_items(None, 1).expect("review").len(), 1);
    let r = store.review_item(a).expect("review");
    assert_eq!(r.source_id, "mohrss");
    assert_eq!(r.origin, "人力资源社会保障部");
    assert_eq!(r.published.as_deref(), Some("2025-06-16T17:05:00+08:00"));
    assert_eq!(r.bulletin_title, None);
    assert!(matches!(
        store.review_item(a + b + 100),
        Err(StoreError::NoSuchItem(_))
    ));
    assert_eq!(
        store.status_counts().expect("counts"),
        vec![(Status::Candidate, 1), (Status::Maybe, 1)]
    );
}
on_both_backends!(review_lists_stories_newest_first_and_filters_by_status);

fn a_status_is_set_for_the_whole_story_and_can_be_restored<S: ItemStore + ?Sized>(store: &mut S) {
    sync(store);
    let a = save(store, &original(), Status::Candidate).id();
    let b = save(store, &chinanews_copy(), Status::Candidate).id();
    assert_eq!(
        store
            .set_status_by(b, Status::Approved, Some("editor"))
            .expect("approve"),
        Status::Candidate
    );
    assert_eq!(status_of(store, a), Status::Approved, "the whole story");
    assert_eq!(status_of(store, b), Status::Approved);
    assert_eq!(
        store.restore_status(a, Status::Candidate).expect("undo"),
        Status::Approved
    );
    assert_eq!(status_of(store, b), Status::Candidate);
    assert!(matches!(
        store.set_status(a + b + 100, Status::Approved),
        Err(StoreError::NoSuchItem(_))
    ));
}
on_both_backends!(a_status_is_set_for_the_whole_story_and_can_be_restored);

fn a_fresh_classification_changes_relevance_and_titles_but_not_status_or_story<
    S: ItemStore + ?Sized,
>(
    store: &mut S,
) {
    sync(store);
    let a = save(store, &original(), Status::Candidate).id();
    store
        .set_classification(
            a,
            &Classification {
                relevance: Some(0.75),
                explanation: Some(r#"{"model":0.75}"#.into()),
                section: Some("focus".into()),
                region: None,
                bulletin_title: Some("全国：试点".into()),
            },
        )
        .expect("classify");
    let r = store.review_item(a).expect("review");
    assert_eq!(r.relevance, Some(0.75));
    assert_eq!(r.section.as_deref(), Some("focus"));
    assert_eq!(r.bulletin_title.as_deref(), Some("全国：试点"));
    assert_eq!(r.status, Status::Candidate);
    // None keeps the stored section.
    store
        .set_classification(a, &Classification::default())
        .expect("classify");
    let r = store.review_item(a).expect("review");
    assert_eq!(r.section.as_deref(), Some("focus"));
    assert_eq!(r.relevance, None);
    assert_eq!(r.bulletin_title, None);
    assert!(matches!(
        store.set_classification(a + 100, &Classification::default()),
        Err(StoreError::NoSuchItem(_))
    ));
}
on_both_backends!(a_fresh_classification_changes_relevance_and_titles_but_not_status_or_story);

// --- feeds -------------------------------------------------------------------

fn feeds_publish_approved_stories_and_candidates_only_in_auto_mode<S: ItemStore + ?Sized>(
    store: &mut S,
) {
    sync(store);
    let a = save(store, &original(), Status::Approved).id();
    let b = save(store, &other_story(), Status::Candidate).id();
    let mut maybe = other_story();
    maybe.url = "https://gov.example/maybe.html".into();
    maybe.canonical_url = maybe.url.clone();
    maybe.title = "待定的文章".into();
    maybe.content_text = "完全不同的一段正文，讲的是另外一件事情，与其他文章都不一样。".into();
    maybe.content_hash = content_hash(&maybe.content_text).unwrap_or_default();
    save(store, &maybe, Status::Maybe);
    let approved: Vec<String> = store
        .feed_entries(Published::Approved, None)
        .expect("feed")
        .into_iter()
        .map(|e| e.url)
        .collect();
    assert_eq!(approved, vec!["https://mohrss.example/talent.html"]);
    let auto: Vec<String> = store
        .feed_entries(Published::AlsoCandidatesFrom(0.0), None)
        .expect("feed")
        .into_iter()
        .map(|e| e.url)
        .collect();
    assert_eq!(
        auto,
        vec![
            "https://gov.example/hebei.html",
            "https://mohrss.example/talent.html"
        ],
        "newest first, never a 待定 one"
    );
    assert_eq!(
        store
            .feed_entries(Published::AlsoCandidatesFrom(0.0), Some(1))
            .expect("feed")
            .len(),
        1
    );
    let june = store
        .feed_entries_in_month(Published::AlsoCandidatesFrom(0.0), "2025-06")
        .expect("june");
    assert_eq!(june.len(), 1);
    assert_eq!(june[0].url, "https://mohrss.example/talent.html");
    assert!(
        store
            .feed_entries_in_month(Published::Approved, "2025-07")
            .expect("july")
            .is_empty()
    );
    assert_eq!(
        store
            .publishable_months(Published::AlsoCandidatesFrom(0.0))
            .expect("months"),
        vec![(None, "2025-06".to_string()), (None, "2025-07".to_string())]
    );
    assert_eq!(
        store
            .publishable_months(Published::Approved)
            .expect("months"),
        vec![(None, "2025-06".to_string())]
    );
    let _ = (a, b);
}
on_both_backends!(feeds_publish_approved_stories_and_candidates_only_in_auto_mode);

fn auto_mode_publishes_only_the_candidates_sure_enough<S: ItemStore + ?Sized>(store: &mut S) {
    sync(store);
    let mut sure = original();
    sure.relevance = Some(0.999);
    let mut unsure = other_story();
    unsure.relevance = Some(0.95);
    let sure = save(store, &sure, Status::Candidate).id();
    let unsure = save(store, &unsure, Status::Candidate).id();
    let auto = Published::AlsoCandidatesFrom(0.993);
    let urls: Vec<String> = store
        .feed_entries(auto, None)
        .expect("feed")
        .into_iter()
        .map(|e| e.url)
        .collect();
    assert_eq!(urls, vec!["https://mohrss.example/talent.html"]);
    assert_eq!(
        store.publishable_months(auto).expect("months"),
        vec![(None, "2025-06".to_string())],
        "no archive for a month of unsure candidates only"
    );
    let version = store.feed_version(auto).expect("version");
    assert_eq!((version.count, version.id_sum), (1, sure));
    store.set_status(unsure, Status::Approved).expect("approve");
    assert_eq!(
        store.feed_entries(auto, None).expect("feed").len(),
        2,
        "an editor's approval publishes it whatever its relevance"
    );
}
on_both_backends!(auto_mode_publishes_only_the_candidates_sure_enough);

fn the_feed_version_changes_when_a_story_is_approved_or_a_source_renamed<S: ItemStore + ?Sized>(
    store: &mut S,
) {
    sync(store);
    let empty = store.feed_version(Published::Approved).expect("version");
    assert_eq!(empty.count, 0);
    assert_eq!(empty.max_updated, "");
    assert_eq!(empty.id_sum, 0);
    assert_eq!(
        empty.sources.lines().next(),
        Some("chinanews 中国新闻网 https://chinanews.example/list/"),
        "sources by id, one a line"
    );
    assert_eq!(empty.sources.lines().count(), 4);
    let a = save(store, &original(), Status::Candidate).id();
    assert_eq!(
        store.feed_version(Published::Approved).expect("version"),
        empty
    );
    let auto = store
        .feed_version(Published::AlsoCandidatesFrom(0.0))
        .expect("version");
    assert_eq!((auto.count, auto.id_sum), (1, a));
    store.set_status(a, Status::Approved).expect("approve");
    let approved = store.feed_version(Published::Approved).expect("version");
    assert_ne!(approved, empty);
    assert_eq!((approved.count, approved.id_sum), (1, a));
    store
        .sync_sources(&[source("gov", "中央人民政府门户网站")])
        .expect("rename");
    assert_ne!(
        store.feed_version(Published::Approved).expect("version"),
        approved
    );
}
on_both_backends!(the_feed_version_changes_when_a_story_is_approved_or_a_source_renamed);

// --- sources -----------------------------------------------------------------

fn a_fetch_is_logged_and_sets_the_sources_health<S: ItemStore + ?Sized>(store: &mut S) {
    sync(store);
    let start = Utc
        .with_ymd_and_hms(2025, 6, 1, 0, 0, 0)
        .single()
        .expect("t");
    let due = Utc
        .with_ymd_and_hms(2025, 6, 1, 1, 0, 0)
        .single()
        .expect("t");
    let failed = FetchRecord {
        source_id: "gov",
        url: "https://gov.example/list/",
        started_at: start,
        duration: std::time::Duration::from_millis(1500),
        outcome: FetchOutcomeKind::Failed,
        items_found: None,
        items_new: None,
        error: Some("timed out".into()),
        limits: Some("pages".into()),
        next_due_at: due,
    };
    store.record_fetch(&failed).expect("record");
    store.record_fetch(&failed).expect("record");
    assert_eq!(store.consecutive_failures("gov").expect("failures"), 2);
    assert_eq!(store.consecutive_failures("nope").expect("failures"), 0);
    let state = &store.source_states(&["gov", "nope"]).expect("states");
    assert_eq!(state[0].last_error.as_deref(), Some("timed out"));
    assert_eq!(
        state[0].last_attempt_at.as_deref(),
        Some("2025-06-01T08:00:00+08:00")
    );
    assert_eq!(state[0].last_success_at, None);
    assert_eq!(state[0].last_limits.as_deref(), Some("pages"));
    assert_eq!(state[0].limited_passes, 2);
    assert_eq!(state[1].id, "nope");
    assert_eq!(state[1].name, "", "an unknown source is all defaults");
    assert_eq!(
        store.next_due("gov").expect("due").map(|d| d.to_utc()),
        Some(due)
    );
    assert_eq!(store.next_due("nope").expect("due"), None);
    store
        .record_fetch(&FetchRecord {
            outcome: FetchOutcomeKind::Ok,
            items_found: Some(7),
            items_new: Some(3),
            error: None,
            limits: None,
            ..failed.clone()
        })
        .expect("record");
    assert_eq!(store.consecutive_failures("gov").expect("failures"), 0);
    assert_eq!(store.last_item_count("gov").expect("count"), Some(7));
    assert_eq!(store.last_item_count("nope").expect("count"), None);
    store
        .record_fetch(&FetchRecord {
            outcome: FetchOutcomeKind::NotModified,
            items_found: None,
            items_new: None,
            error: None,
            limits: None,
            ..failed
        })
        .expect("record");
    assert_eq!(
        store.last_item_count("gov").expect("count"),
        Some(7),
        "kept when not counted"
    );
    let state = &store.source_states(&["gov"]).expect("states")[0];
    assert_eq!(state.last_error, None);
    assert_eq!(state.limited_passes, 0);
    assert_eq!(state.last_item_count, Some(7));
    assert_eq!(state.name, "中国政府网");
}
on_both_backends!(a_fetch_is_logged_and_sets_the_sources_health);

fn a_sources_publishing_rate_counts_its_items_by_their_own_date<S: ItemStore + ?Sized>(
    store: &mut S,
) {
    sync(store);
    save(store, &original(), Status::Candidate);
    save(store, &other_story(), Status::Candidate);
    let since = Utc
        .with_ymd_and_hms(2025, 6, 10, 0, 0, 0)
        .single()
        .expect("t");
    assert_eq!(store.items_published_since("mohrss", since).expect("n"), 1);
    let later = Utc
        .with_ymd_and_hms(2025, 6, 20, 0, 0, 0)
        .single()
        .expect("t");
    assert_eq!(store.items_published_since("mohrss", later).expect("n"), 0);
    assert_eq!(store.items_published_since("gov", later).expect("n"), 1);
    let states = store.source_states(&["mohrss", "gov"]).expect("states");
    assert_eq!((states[0].items, states[1].items), (1, 1));
}
on_both_backends!(a_sources_publishing_rate_counts_its_items_by_their_own_date);

fn http_validators_are_kept_per_url_and_cleared_when_empty<S: ItemStore + ?Sized>(store: &mut S) {
    let url = "https://gov.example/list/";
    assert_eq!(store.validators(url).expect("get"), Validators::default());
    let v = Validators {
        etag: Some("\"abc\"".into()),
        last_modified: Some("Mon, 02 Jun 2025 08:00:00 GMT".into()),
    };
    store.set_validators(url, &v).expect("set");
    assert_eq!(store.validators(url).expect("get"), v);
    let v2 = Validators {
        etag: None,
        last_modified: Some("Tue, 03 Jun 2025 08:00:00 GMT".into()),
    };
    store.set_validators(url, &v2).expect("set");
    assert_eq!(store.validators(url).expect("get"), v2);
    store
        .set_validators(url, &Validators::default())
        .expect("clear");
    assert_eq!(store.validators(url).expect("get"), Validators::default());
}
on_both_backends!(http_validators_are_kept_per_url_and_cleared_when_empty);

// --- health ------------------------------------------------------------------

fn a_new_store_is_healthy_and_up_to_date<S: ItemStore + ?Sized>(store: &mut S) {
    store.ping().expect("ping");
    assert!(store.schema_version().expect("version") > 0);
    assert_eq!(store.integrity_check().expect("check"), "ok");
    store.checkpoint().expect("checkpoint");
    store.data_version().expect("data version");
    assert_eq!(store.counts().expect("counts").items, 0);
    assert!(store.status_counts().expect("counts").is_empty());
    assert!(
        store
            .feed_entries(Published::AlsoCandidatesFrom(0.0), None)
            .expect("feed")
            .is_empty()
    );
}
on_both_backends!(a_new_store_is_healthy_and_up_to_date);

// --- the dedup index -----------------------------------------------------------

fn a_saved_item_is_indexed_and_found_as_a_candidate_within_the_window<
    S: ItemStore + IndexStore + ?Sized,
>(
    store: &mut S,
) {
    sync(store);
    let cfg = DedupConfig::default();
    let a = original();
    let id = save(store, &a, Status::Candidate).id();
    let story = prepare_story(&a, Utc::now(), &cfg);
    let (day, fp) = store.fingerprint(id).expect("load").expect("indexed");
    assert_eq!(day, story.day);
    assert_eq!(fp.minhash, story.fingerprint.minhash);
    assert_eq!(fp.shingles, story.fingerprint.shingles);
    let copy = prepare_story(&chinanews_copy(), Utc::now(), &cfg);
    assert_eq!(
        store
            .dedup_candidates(&copy.fingerprint, None)
            .expect("candidates"),
        vec![id]
    );
    assert_eq!(
        store
            .dedup_candidates(&copy.fingerprint, Some(story.day))
            .expect("candidates"),
        vec![id]
    );
    assert!(
        store
            .dedup_candidates(&copy.fingerprint, Some(story.day + 1))
            .expect("candidates")
            .is_empty(),
        "outside the window"
    );
    assert!(store.fingerprint(id + 100).expect("load").is_none());
    assert!(!store.needs_fingerprints());
    assert!(store.unindexed_items().expect("unindexed").is_empty());
}
on_both_backends!(a_saved_item_is_indexed_and_found_as_a_candidate_within_the_window);

fn a_text_too_short_to_fingerprint_is_stored_unindexed_and_can_be_indexed_later<
    S: ItemStore + IndexStore + ?Sized,
>(
    store: &mut S,
) {
    sync(store);
    let mut short = original();
    short.title = "短".into();
    short.content_text = "短".into();
    short.origin = String::new();
    short.content_hash = content_hash(&short.content_text).unwrap_or_default();
    let id = save(store, &short, Status::Candidate).id();
    assert!(store.fingerprint(id).expect("load").is_none());
    let unindexed = store.unindexed_items().expect("unindexed");
    assert_eq!(unindexed.len(), 1);
    assert_eq!(unindexed[0].id, id);
    assert_eq!(unindexed[0].date, Some(date("2025-06-16T17:05:00+08:00")));
    // Indexed with another item's fingerprint, then replaced by a third.
    let cfg = DedupConfig::default();
    let fp = prepare_story(&original(), Utc::now(), &cfg).fingerprint;
    store
        .save_fingerprints(&[(id, 20000, fp.clone())])
        .expect("save");
    assert_eq!(store.dedup_candidates(&fp, None).expect("c"), vec![id]);
    let other = prepare_story(&other_story(), Utc::now(), &cfg).fingerprint;
    store
        .save_fingerprints(&[(id, 20001, other.clone())])
        .expect("save");
    assert!(
        store.dedup_candidates(&fp, None).expect("c").is_empty(),
        "the old bands are gone"
    );
    assert_eq!(store.dedup_candidates(&other, None).expect("c"), vec![id]);
    assert_eq!(store.fingerprint(id).expect("load").expect("fp").0, 20001);
    assert!(store.unindexed_items().expect("unindexed").is_empty());
}
on_both_backends!(a_text_too_short_to_fingerprint_is_stored_unindexed_and_can_be_indexed_later);

// --- many connections ----------------------------------------------------------

/// Band keys are written to a small table and merged into the large index
/// 512 items at a time (SQLite only): a key is found on either
/// side of a merge, and an item indexed again loses its merged keys.
#[test]
fn band_keys_are_found_before_and_after_they_are_merged_and_replaced_after() {
    let (dir, open) = sqlite_file();
    let mut store = open();
    let fingerprint = |n: u64| {
        let shingles: Vec<u64> = (0..40).map(|i| n * 1_000 + i).collect();
        kuaibao::dedup::Fingerprint::from_shingles(&shingles)
    };
    let waiting = |dir: &std::path::Path| -> (i64, i64) {
        let conn = rusqlite::Connection::open(dir.join("kuaibao.db")).expect("open");
        conn.query_row(
            "SELECT (SELECT COUNT(*) FROM item_bands_recent), (SELECT COUNT(*) FROM item_bands)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("count")
    };
    store
        .save_fingerprints(&[(1, 20_000, fingerprint(1))])
        .expect("save");
    assert_eq!(waiting(dir.path()), (42, 0), "a new item's keys wait");
    assert_eq!(
        store.dedup_candidates(&fingerprint(1), None).expect("c"),
        vec![1]
    );
    let many: Vec<_> = (2..=1_100)
        .map(|n| (n, 20_000, fingerprint(n as u64)))
        .collect();
    store.save_fingerprints(&many).expect("save");
    assert_eq!(waiting(dir.path()), (0, 1_100 * 42), "merged");
    assert_eq!(
        store.dedup_candidates(&fingerprint(1), None).expect("c"),
        vec![1]
    );
    store
        .save_fingerprints(&[(1, 20_001, fingerprint(5_000))])
        .expect("save");
    assert!(
        store
            .dedup_candidates(&fingerprint(1), None)
            .expect("c")
            .is_empty(),
        "the merged keys of its old text are gone"
    );
    assert_eq!(
        store
            .dedup_candidates(&fingerprint(5_000), None)
            .expect("c"),
        vec![1]
    );
    drop(store);
    // The count of waiting items survives a restart: a cron poll that saves
    // a few items a run still merges once enough wait.
    let mut store = open();
    // (Merged every 512 items: one waiting from before and 511 more.)
    let more: Vec<_> = (2_000..2_511)
        .map(|n| (n, 20_000, fingerprint(n as u64)))
        .collect();
    store.save_fingerprints(&more).expect("save");
    assert_eq!(
        waiting(dir.path()).0,
        0,
        "one waiting from before, 511 added: merged"
    );
}

/// A SQLite database file and a way to open more connections to it.
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

/// What another connection commits moves `data_version` (the served
/// documents' cheap check); reading does not.
fn another_connections_commit_changes_the_data_version<S: ItemStore>(open: impl Fn() -> S) {
    let mut writer = open();
    let reader = open();
    sync(&mut writer);
    let before = reader.data_version().expect("version");
    reader.review_items(None, 10).expect("read");
    assert_eq!(reader.data_version().expect("version"), before);
    let id = save(&mut writer, &original(), Status::Candidate).id();
    let saved = reader.data_version().expect("version");
    assert_ne!(saved, before, "an item saved elsewhere");
    writer.set_status(id, Status::Approved).expect("approve");
    assert_ne!(
        reader.data_version().expect("version"),
        saved,
        "a status set elsewhere"
    );
}

#[test]
fn another_connections_commit_changes_the_data_version_sqlite() {
    let (_dir, open) = sqlite_file();
    another_connections_commit_changes_the_data_version(open);
}

#[test]
fn another_connections_commit_changes_the_data_version_postgres() {
    let Some((_db, open)) = postgres_db("store_items::data_version") else {
        return;
    };
    another_connections_commit_changes_the_data_version(open);
}

/// Writers on several connections at once (pollers in several processes):
/// the same article saved twice is one item, and the same text or an
/// edited copy from other outlets is one story, however their
/// transactions interleave.
fn concurrent_writers_store_each_article_once_and_each_story_once<S: ItemStore + Send>(
    open: impl Fn() -> S,
) {
    let mut first = open();
    sync(&mut first);
    let articles: Vec<NewItem> = sample_articles()
        .into_iter()
        .take(6)
        .enumerate()
        .map(|(n, a)| {
            item(
                "mohrss",
                &format!("a{n}"),
                &a.original_title,
                &a.origin,
                &a.paragraphs,
                "2025-06-16T17:05:00+08:00",
            )
        })
        .collect();
    let copy = |a: &NewItem, source: &str| {
        let mut c = a.clone();
        c.source_id = source.into();
        c.url = a.url.replace("mohrss", source);
        c.canonical_url = c.url.clone();
        c
    };
    // Not the same text: the story found by its bands, not its hash.
    let edited: Vec<NewItem> = sample_articles()
        .into_iter()
        .take(6)
        .enumerate()
        .map(|(n, a)| {
            let mut paragraphs = a.paragraphs.clone();
            paragraphs.push("（责任编辑：王明）".into());
            item(
                "chinanews",
                &format!("p{n}"),
                &a.original_title,
                &a.origin,
                &paragraphs,
                "2025-06-16T18:00:00+08:00",
            )
        })
        .collect();
    // Two writers of the original, two of copies from two other outlets,
    // one of edited copies from a fourth.
    let plans: Vec<Vec<NewItem>> = vec![
        articles.clone(),
        articles.iter().rev().cloned().collect(),
        articles.iter().map(|a| copy(a, "xinhua")).collect(),
        articles.iter().rev().map(|a| copy(a, "gov")).collect(),
        edited,
    ];
    let stores: Vec<S> = plans.iter().map(|_| open()).collect();
    let barrier = std::sync::Barrier::new(plans.len());
    std::thread::scope(|s| {
        for (mut store, plan) in stores.into_iter().zip(&plans) {
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                for item in plan {
                    save(&mut store, item, Status::Candidate);
                }
            });
        }
    });
    let counts = first.counts().expect("counts");
    assert_eq!(counts.items, 24, "each article once per outlet");
    assert_eq!(counts.stories, 6, "each story once: {counts:?}");
    assert_eq!(first.integrity_check().expect("check"), "ok");
    for r in first.review_items(None, 100).expect("review") {
        assert_eq!(r.story_items, 4, "{r:?}");
    }
}

#[test]
fn concurrent_writers_store_each_article_once_and_each_story_once_sqlite() {
    let (_dir, open) = sqlite_file();
    concurrent_writers_store_each_article_once_and_each_story_once(open);
}

#[test]
fn concurrent_writers_store_each_article_once_and_each_story_once_postgres() {
    let Some((_db, open)) = postgres_db("store_items::concurrent_writers") else {
        return;
    };
    concurrent_writers_store_each_article_once_and_each_story_once(open);
}

/// An editor's approval or rejection is a decision the classifier learns
/// from, recorded on the story's primary item; a status with no decision
/// (待定, back to candidate) and an undo record none. Read with each
/// backend's own client: `DecisionStore` is another trait.
fn an_editors_decision_is_recorded_on_the_storys_primary_item<S: ItemStore + ?Sized>(
    store: &mut S,
    decisions: impl Fn() -> Vec<(i64, String, Option<String>)>,
) {
    sync(store);
    let a = save(store, &original(), Status::Candidate).id();
    let b = save(store, &chinanews_copy(), Status::Candidate).id();
    store
        .set_status_by(b, Status::Approved, Some("editor"))
        .expect("approve");
    store
        .set_status_by(b, Status::Approved, Some("editor"))
        .expect("again");
    store.set_status_by(b, Status::Maybe, None).expect("maybe");
    store.restore_status(b, Status::Approved).expect("undo");
    store.set_status(a, Status::Irrelevant).expect("reject");
    assert_eq!(
        decisions(),
        vec![
            (a, "approve".to_string(), Some("editor".to_string())),
            (a, "reject".to_string(), None),
        ],
        "once per change, on the primary"
    );
}

#[test]
fn an_editors_decision_is_recorded_on_the_storys_primary_item_sqlite() {
    let (dir, open) = sqlite_file();
    let path = dir.path().join("kuaibao.db");
    let mut store = open();
    an_editors_decision_is_recorded_on_the_storys_primary_item(&mut store, || {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.prepare("SELECT item_id, action, editor FROM decisions ORDER BY id")
            .expect("prepare")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    });
}

#[test]
fn an_editors_decision_is_recorded_on_the_storys_primary_item_postgres() {
    let Some((db, open)) = postgres_db("store_items::decisions") else {
        return;
    };
    let mut store = open();
    an_editors_decision_is_recorded_on_the_storys_primary_item(&mut store, || {
        let mut client = postgres::Client::connect(&db.url, postgres::NoTls).expect("client");
        client
            .query(
                "SELECT item_id, action, editor FROM decisions ORDER BY id",
                &[],
            )
            .expect("query")
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect()
    });
}

/// PostgreSQL has no `PRAGMA integrity_check`; its check is of kuaibao's
/// own invariants, and says what is broken.
#[test]
fn the_postgres_integrity_check_names_an_item_left_without_a_story() {
    let Some((db, open)) = postgres_db("store_items::integrity") else {
        return;
    };
    let mut store = open();
    sync(&mut store);
    save(&mut store, &original(), Status::Candidate);
    assert_eq!(store.integrity_check().expect("check"), "ok");
    let mut client = postgres::Client::connect(&db.url, postgres::NoTls).expect("client");
    client.execute("DELETE FROM stories", &[]).expect("break");
    assert_eq!(
        store.integrity_check().expect("check"),
        "1 items in no story"
    );
}

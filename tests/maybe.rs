//! 待定 (maybe): an item whose relevance lies between `[relevance] maybe`
//! and the threshold is neither a candidate nor irrelevant. It is listed on
//! its own (`review list --status maybe`), never published — not even in
//! auto mode, not in an issue — until an editor approves it, and an
//! editor's decision on it is training data like any other. (The desk's
//! group of 待定 stories is specified in `tests/desk.rs`.)

use crate::common;

use common::{Outlet, Reply, TestConfig, run_kuaibao as run};
use kuaibao::classify::{DecidedItem, DecisionLog};
use kuaibao::dedup::DedupConfig;
use kuaibao::model::NewItem;
use kuaibao::store::{Status, Store};

const LONGYAN: (&str, &str, &str) = (
    "/x/longyan.html",
    "龙岩市举办2025年农民工专场招聘会",
    "6月16日，龙岩市人力资源和社会保障局在新罗区举办农民工专场招聘会，组织120家企业提供就业岗位3600余个，涵盖制造业、物流和家政服务等行业。现场设立政策咨询台，为求职者解答社会保险、劳动合同和职业技能培训补贴等问题，当天达成就业意向800余人。",
);

/// Serves `/x/list.html` listing `articles` (path, title, body) and
/// returns a sources file for it.
fn serve(outlet: &Outlet, articles: &[(&str, &str, &str)]) -> String {
    let mut list = String::from("<ul class=\"list\">");
    for (path, title, body) in articles {
        outlet.set(
            path,
            Reply::html(&format!(
                "<html><head><meta charset=\"utf-8\"></head><body><h1>{title}</h1><div class=\"info\">2025-06-18　来源：中国劳动保障报</div><div class=\"body\"><p>{body}</p></div></body></html>"
            )),
        );
        list.push_str(&format!(
            "<li><a href=\"{path}\">{title}</a><span>2025-06-18</span></li>"
        ));
    }
    list.push_str("</ul>");
    outlet.set("/x/list.html", Reply::html(&list));
    format!(
        "[[source]]\nid = \"x\"\nname = \"中国劳动保障报\"\nurl = \"{}\"\nkind = \"html\"\n[source.list]\nitem = \"ul.list li\"\nlink = \"a@href\"\ntitle = \"a\"\ndate = \"span\"\n[source.article]\ncontent = \"div.body\"\ntitle = \"h1\"\norigin = \"div.info\"\n",
        outlet.url("/x/list.html"),
    )
}

/// The built-in sections file with its `[relevance]` bounds replaced:
/// `threshold = 1` (no item reaches it) and `maybe = 0` (every item
/// reaches that), so every item is 待定; `publish` goes too (it may not
/// be under the threshold).
fn sections_where_every_item_is_maybe() -> String {
    let mut out = String::new();
    let mut in_relevance = false;
    for line in kuaibao::config::DEFAULT_SECTIONS_TOML.lines() {
        let key = line.trim();
        if key.starts_with('[') {
            in_relevance = key == "[relevance]";
        }
        let bound = ["threshold", "maybe", "publish"].iter().any(|b| {
            key.strip_prefix(b)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        });
        if in_relevance && bound {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if key == "[relevance]" {
            out.push_str("threshold = 1.0\nmaybe = 0.0\n");
        }
    }
    out
}

/// A test configuration whose main file names `sections.toml` holding
/// `sections`.
fn config_with_sections(sources: &str, extra_main: &str, sections: &str) -> TestConfig {
    let tc = TestConfig::new(sources, extra_main);
    std::fs::write(tc.dir.path().join("sections.toml"), sections).expect("write sections");
    let main = std::fs::read_to_string(tc.path()).expect("read main");
    std::fs::write(tc.path(), format!("sections = \"sections.toml\"\n{main}")).expect("write main");
    tc
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn succeeded(o: &std::process::Output) -> bool {
    if !o.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&o.stderr));
    }
    o.status.success()
}

#[tokio::test(flavor = "multi_thread")]
async fn in_auto_mode_a_maybe_item_waits_for_an_editor_and_is_published_only_once_approved() {
    let outlet = Outlet::start().await;
    let sources = serve(&outlet, &[LONGYAN]);
    let tc = config_with_sections(
        &sources,
        "[review]\nmode = \"auto\"",
        &sections_where_every_item_is_maybe(),
    );
    let poll = run(tc.path(), &["poll"]).await;
    assert!(succeeded(&poll));
    let table = stdout(&poll);
    assert!(table.contains("1 (1 maybe)"), "{table}");
    assert!(
        table.contains("1 maybe, awaiting an editor: kuaibao review list --status maybe"),
        "{table}"
    );

    // Listed as 待定, not among the candidates (which say that it waits).
    let maybe: serde_json::Value = serde_json::from_slice(
        &run(
            tc.path(),
            &["review", "list", "--status", "maybe", "--json"],
        )
        .await
        .stdout,
    )
    .expect("json");
    let maybe = maybe.as_array().expect("array");
    assert_eq!(maybe.len(), 1, "{maybe:?}");
    assert_eq!(maybe[0]["title"], LONGYAN.1);
    assert_eq!(maybe[0]["status"], "maybe");
    let (id, story) = (
        maybe[0]["id"].as_i64().expect("id"),
        maybe[0]["story_id"].as_i64().expect("story"),
    );
    let candidates: serde_json::Value =
        serde_json::from_slice(&run(tc.path(), &["review", "list", "--json"]).await.stdout)
            .expect("json");
    assert_eq!(candidates, serde_json::json!([]));
    let list = stdout(&run(tc.path(), &["review", "list"]).await);
    assert!(
        list.contains("1 items are 待定 (maybe)") && list.contains("--status maybe"),
        "{list}"
    );
    let status = stdout(&run(tc.path(), &["status"]).await);
    assert!(status.contains("1 maybe"), "{status}");

    // Auto mode publishes candidates: not this one, in no feed, not on the
    // index page, and no issue takes it.
    assert!(succeeded(&run(tc.path(), &["publish"]).await));
    let published = |file: &str| std::fs::read_to_string(tc.out().join(file)).unwrap_or_default();
    for file in ["feeds/all.xml", "feeds/regional.xml", "index.html"] {
        assert!(
            !published(file).contains("龙岩"),
            "{file}: {}",
            published(file)
        );
    }
    assert!(succeeded(
        &run(
            tc.path(),
            &["issue", "new", "202506", "--date", "2025-06-30"]
        )
        .await
    ));
    let add = run(
        tc.path(),
        &["issue", "edit", "202506", "--add", &story.to_string()],
    )
    .await;
    assert!(!add.status.success());
    assert!(
        String::from_utf8_lossy(&add.stderr).contains("is maybe, not approved"),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );

    // An editor approves it: it is published, and may go into the issue.
    let approve = run(tc.path(), &["review", "approve", &id.to_string()]).await;
    assert!(succeeded(&approve));
    assert_eq!(stdout(&approve).trim(), format!("{id}: maybe → approved"));
    assert!(succeeded(&run(tc.path(), &["publish"]).await));
    assert!(
        published("feeds/all.xml").contains(LONGYAN.1),
        "{}",
        published("feeds/all.xml")
    );
    assert!(published("index.html").contains(LONGYAN.1));
    assert!(succeeded(
        &run(
            tc.path(),
            &["issue", "edit", "202506", "--add", &story.to_string()]
        )
        .await
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn review_reject_and_move_work_on_a_maybe_item_from_the_command_line() {
    let outlet = Outlet::start().await;
    let sources = serve(&outlet, &[LONGYAN]);
    let tc = config_with_sections(&sources, "", &sections_where_every_item_is_maybe());
    assert!(succeeded(&run(tc.path(), &["poll"]).await));

    // A move files it and is a decision; the story stays 待定.
    let moved = run(tc.path(), &["review", "move", "1", "focus"]).await;
    assert!(succeeded(&moved));
    let show: serde_json::Value = serde_json::from_slice(
        &run(tc.path(), &["review", "show", "1", "--json"])
            .await
            .stdout,
    )
    .expect("json");
    assert_eq!(
        (show["section"].as_str(), show["status"].as_str()),
        (Some("focus"), Some("maybe"))
    );
    let rejected = run(tc.path(), &["review", "reject", "1"]).await;
    assert!(succeeded(&rejected));
    assert_eq!(stdout(&rejected).trim(), "1: maybe → rejected");
    let left: serde_json::Value = serde_json::from_slice(
        &run(
            tc.path(),
            &["review", "list", "--status", "maybe", "--json"],
        )
        .await
        .stdout,
    )
    .expect("json");
    assert_eq!(left, serde_json::json!([]));

    let audit: serde_json::Value =
        serde_json::from_slice(&run(tc.path(), &["audit", "--json"]).await.stdout).expect("json");
    let entries: Vec<(&str, Option<&str>, Option<&str>)> = audit
        .as_array()
        .expect("array")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default(),
                e["before"].as_str(),
                e["after"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        vec![
            ("reject", Some("maybe"), Some("rejected")),
            ("move", Some("regional"), Some("focus")),
        ]
    );
    let store = Store::open(&tc.dir.path().join("kuaibao.db")).expect("store");
    assert_eq!(store.decision_count().expect("count"), 2);
}

fn item(n: usize, title: &str, text: &str, section: &str) -> NewItem {
    let url = format!("https://x.example/{n}.html");
    NewItem {
        source_id: "x".into(),
        guid: None,
        url: url.clone(),
        canonical_url: url.clone(),
        title: title.into(),
        content_html: kuaibao::normalize::sanitize_html(
            &format!("<p>{text}</p>"),
            &url::Url::parse(&url).expect("url"),
        ),
        content_text: text.into(),
        content_hash: kuaibao::normalize::content_hash(text).unwrap_or_default(),
        origin: "x".into(),
        section: Some(section.into()),
        region: None,
        published: None,
        bulletin_title: None,
        relevance: Some(0.35),
        explanation: None,
    }
}

fn store_as(store: &mut Store, item: &NewItem, status: Status) -> i64 {
    kuaibao::poll::store_item(store, item, status, &DedupConfig::default())
        .expect("stored")
        .id()
}

fn decided<'a>(items: &'a [DecidedItem], title: &str) -> &'a DecidedItem {
    items
        .iter()
        .find(|i| i.title == title)
        .unwrap_or_else(|| panic!("{title} is not among the decided items"))
}

#[test]
fn an_editors_decision_on_a_maybe_item_teaches_the_model_like_any_other() {
    let mut store = Store::open_in_memory().expect("store");
    let festival = store_as(
        &mut store,
        &item(
            1,
            "某地举办美食节",
            "美食节汇集各地特色小吃，吸引市民游客品尝，现场招聘岗位若干。",
            "focus",
        ),
        Status::Maybe,
    );
    let germany = store_as(
        &mut store,
        &item(
            2,
            "德国调整法定最低工资标准",
            "德国联邦政府宣布，法定最低工资将于明年一月起上调，约六百万劳动者将因此受益。",
            "abroad",
        ),
        Status::Maybe,
    );
    let moved = store_as(
        &mut store,
        &item(
            3,
            "日本延长企业雇用义务年龄",
            "日本政府修订法律，要求企业为希望继续工作的员工提供就业机会直至七十岁。",
            "focus",
        ),
        Status::Maybe,
    );
    let untouched = store_as(
        &mut store,
        &item(
            4,
            "某市开展职业技能竞赛",
            "某市举办职业技能竞赛，来自各行业的选手同台竞技。",
            "regional",
        ),
        Status::Maybe,
    );
    assert!(store.decided_items().expect("decided").is_empty());

    kuaibao::app::review(&mut store, &[festival], Status::Rejected, "alice").expect("reject");
    kuaibao::app::review(&mut store, &[germany], Status::Approved, "alice").expect("approve");
    kuaibao::app::move_to_section(&mut store, moved, "abroad", "alice").expect("move");
    assert_eq!(store.decision_count().expect("count"), 3);

    let items = store.decided_items().expect("decided");
    assert_eq!(items.len(), 3, "the untouched 待定 item teaches nothing");
    let festival = decided(&items, "某地举办美食节");
    assert!(festival.rejected, "rejected: off-topic");
    let germany = decided(&items, "德国调整法定最低工资标准");
    assert!(!germany.rejected);
    assert_eq!(germany.section.as_deref(), Some("abroad"));
    let filed = decided(&items, "日本延长企业雇用义务年龄");
    assert!(!filed.rejected);
    assert_eq!(filed.section.as_deref(), Some("abroad"));
    assert_eq!(
        store.review_item(moved).expect("item").status,
        Status::Maybe,
        "a move files a 待定 story; approving it is another decision"
    );
    assert_eq!(
        store.review_item(untouched).expect("item").status,
        Status::Maybe
    );

    let model =
        kuaibao::classify::current_model(&mut store, &kuaibao::classify::Rules::default(), &|_| {
            None
        })
        .expect("model")
        .expect("a model from the decisions");
    assert_eq!(model.decisions(), 3);
}

/// The text of a 人社部 notice, carried by a general outlet and by the
/// ministry (with `（完）`): two copies of one story.
const NOTICE: &str = "人力资源社会保障部印发通知，开展专业技术人才管理服务改革试点工作。通知明确，利用2年时间，开展博士后工作、职称和职业资格、继续教育、专家工作等6个方面24项改革工作试点。";

/// Stores the general outlet's copy as `first`, then the ministry's as
/// `second`; returns the story's status and how many items it holds.
fn copies(first: Status, second: Status) -> (Status, i64) {
    let mut store = Store::open_in_memory().expect("store");
    let mut general = item(1, "人才改革试点", NOTICE, "focus");
    general.source_id = "general".into();
    general.content_hash = "a".into();
    let id = store_as(&mut store, &general, first);
    let mut official = item(
        2,
        "人社部开展人才管理服务改革试点",
        &format!("{NOTICE}（完）"),
        "focus",
    );
    official.source_id = "mohrss".into();
    official.content_hash = "b".into();
    store_as(&mut store, &official, second);
    let item = store.review_item(id).expect("item");
    (item.status, item.story_items)
}

#[test]
fn a_relevant_copy_makes_a_maybe_story_a_candidate() {
    assert_eq!(
        copies(Status::Maybe, Status::Candidate),
        (Status::Candidate, 2)
    );
}

#[test]
fn a_maybe_copy_makes_an_irrelevant_story_maybe_and_leaves_a_candidate_story_a_candidate() {
    assert_eq!(
        copies(Status::Irrelevant, Status::Maybe),
        (Status::Maybe, 2)
    );
    assert_eq!(
        copies(Status::Candidate, Status::Maybe),
        (Status::Candidate, 2)
    );
    assert_eq!(
        copies(Status::Maybe, Status::Irrelevant),
        (Status::Maybe, 2)
    );
}

#[test]
fn a_maybe_item_whose_text_changes_is_judged_again_unless_an_editor_decided_it() {
    let mut store = Store::open_in_memory().expect("store");
    let first = item(
        1,
        "人社部发布通知",
        "人社部发布通知，部署有关工作。",
        "focus",
    );
    let id = store_as(&mut store, &first, Status::Maybe);
    // The outlet completes the article; the classifier now finds it relevant.
    let completed = item(1, "人社部发布通知", NOTICE, "focus");
    store_as(&mut store, &completed, Status::Candidate);
    assert_eq!(
        store.review_item(id).expect("item").status,
        Status::Candidate
    );

    // Once an editor decided, new text does not undo the decision.
    let heat = "江西省发布高温津贴通知。";
    let decided = store_as(
        &mut store,
        &item(2, "江西发布高温津贴通知", heat, "regional"),
        Status::Maybe,
    );
    store
        .set_status_by(decided, Status::Rejected, Some("alice"))
        .expect("reject");
    store_as(
        &mut store,
        &item(
            2,
            "江西发布高温津贴通知",
            &format!("{heat}通知明确了发放标准、发放时间和适用范围。"),
            "regional",
        ),
        Status::Candidate,
    );
    assert_eq!(
        store.review_item(decided).expect("item").status,
        Status::Rejected
    );
}

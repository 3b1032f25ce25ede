//! Classification while polling: relevance decides candidate or irrelevant,
//! the section comes from the content, regional items get `地区：` titles,
//! each item keeps its explanation, and editors' decisions train the model.

use crate::common;

use common::{Outlet, Reply, TestConfig, run_kuaibao as run};
use kuaibao::model::NewItem;
use kuaibao::store::{Status, Store};

/// An article page with `来源` in its info line.
fn page(title: &str, origin: &str, body: &str) -> Reply {
    Reply::html(&format!(
        "<html><head><meta charset=\"utf-8\"></head><body><h1>{title}</h1><div class=\"info\">2025-06-18　来源：{origin}</div><div class=\"body\"><p>{body}</p></div></body></html>"
    ))
}

/// Serves `/x/list.html` listing `articles` (path, title, origin, body) and
/// returns a sources file for it.
fn serve(
    outlet: &Outlet,
    name: &str,
    section: Option<&str>,
    articles: &[(&str, &str, &str, &str)],
) -> String {
    let mut list = String::from("<ul class=\"list\">");
    for (path, title, origin, body) in articles {
        outlet.set(path, page(title, origin, body));
        list.push_str(&format!(
            "<li><a href=\"{path}\">{title}</a><span>2025-06-18</span></li>"
        ));
    }
    list.push_str("</ul>");
    outlet.set("/x/list.html", Reply::html(&list));
    format!(
        "[[source]]\nid = \"x\"\nname = \"{name}\"\nurl = \"{}\"\nkind = \"html\"\n{}[source.list]\nitem = \"ul.list li\"\nlink = \"a@href\"\ntitle = \"a\"\ndate = \"span\"\n[source.article]\ncontent = \"div.body\"\ntitle = \"h1\"\norigin = \"div.info\"\n",
        outlet.url("/x/list.html"),
        section
            .map(|s| format!("section = \"{s}\"\n"))
            .unwrap_or_default()
    )
}

const LONGYAN: (&str, &str, &str, &str) = (
    "/x/longyan.html",
    "龙岩市举办2025年农民工专场招聘会",
    "中国劳动保障报",
    "6月16日，龙岩市人力资源和社会保障局在新罗区举办农民工专场招聘会，组织120家企业提供就业岗位3600余个，涵盖制造业、物流和家政服务等行业。现场设立政策咨询台，为求职者解答社会保险、劳动合同和职业技能培训补贴等问题，当天达成就业意向800余人。",
);

const FOOTBALL: (&str, &str, &str, &str) = (
    "/x/football.html",
    "中超联赛第十五轮：上海申花客场两球取胜",
    "中国新闻网",
    "中新网6月18日电 北京时间18日晚，中超联赛第十五轮一场焦点战在成都凤凰山体育公园进行，上海申花凭借下半场的两粒进球客场2比0战胜对手，继续领跑积分榜。赛后主教练表示，球队在高温下展现了良好的体能和斗志。",
);

#[tokio::test(flavor = "multi_thread")]
async fn off_topic_news_is_stored_irrelevant_and_never_published_even_in_auto_mode() {
    let outlet = Outlet::start().await;
    let sources = serve(
        &outlet,
        "中国劳动保障报",
        Some("focus"),
        &[LONGYAN, FOOTBALL],
    );
    let tc = TestConfig::new(&sources, "[review]\nmode = \"auto\"");
    let poll = run(tc.path(), &["poll"]).await;
    let table = String::from_utf8_lossy(&poll.stdout);
    assert!(table.contains("2 (1 off-topic)"), "{table}");

    assert!(run(tc.path(), &["publish"]).await.status.success());
    let feed = std::fs::read_to_string(tc.out().join("feeds/all.xml")).expect("feed");
    assert!(!feed.contains("申花"), "{feed}");
    // Filed by its content, not the outlet's `focus`, under its bulletin title.
    let regional = std::fs::read_to_string(tc.out().join("feeds/regional.xml")).expect("feed");
    assert!(
        regional.contains("<title>福建：龙岩市举办2025年农民工专场招聘会</title>"),
        "{regional}"
    );

    let irrelevant = run(
        tc.path(),
        &["review", "list", "--status", "irrelevant", "--json"],
    )
    .await;
    let items: serde_json::Value = serde_json::from_slice(&irrelevant.stdout).expect("json");
    let items = items.as_array().expect("array");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["title"], FOOTBALL.1);
    assert!(items[0]["relevance"].as_f64().unwrap() < 0.5);
}

#[tokio::test(flavor = "multi_thread")]
async fn review_show_explains_the_classification() {
    let outlet = Outlet::start().await;
    let sources = serve(&outlet, "中国劳动保障报", None, &[LONGYAN]);
    let tc = TestConfig::new(&sources, "");
    assert!(run(tc.path(), &["poll"]).await.status.success());
    let list = run(tc.path(), &["review", "list"]).await;
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(
        list.contains("WHY") && list.contains("福建：龙岩市"),
        "{list}"
    );
    let show = run(tc.path(), &["review", "show", "1"]).await;
    let show = String::from_utf8_lossy(&show.stdout);
    assert!(
        show.contains("original title") && show.contains("龙岩市举办2025年农民工专场招聘会"),
        "{show}"
    );
    assert!(show.contains("section        regional"), "{show}");
    assert!(show.contains("福建"), "the reasons name the place: {show}");
    assert!(show.contains("scores") && show.contains("why:"), "{show}");
    let missing = run(tc.path(), &["review", "show", "99"]).await;
    assert_eq!(missing.status.code(), Some(1));
}

fn item(n: usize, title: &str, text: &str) -> NewItem {
    let url = format!("https://x.example/{n}.html");
    NewItem {
        source_id: "x".into(),
        guid: None,
        url: url.clone(),
        canonical_url: url.clone(),
        title: title.into(),
        content_html: kuaibao::normalize::sanitize_html(
            &format!("<p>{text}</p>"),
            &url::Url::parse(&url).unwrap(),
        ),
        content_text: text.into(),
        content_hash: kuaibao::normalize::content_hash(text).unwrap_or_default(),
        origin: "x".into(),
        section: Some("focus".into()),
        region: None,
        published: None,
        bulletin_title: None,
        relevance: Some(0.9),
        explanation: None,
    }
}

#[test]
fn approvals_and_rejections_are_recorded_and_the_model_retrains_from_them() {
    let rules = kuaibao::classify::Rules::default();
    let mut store = Store::open_in_memory().unwrap();
    assert!(
        kuaibao::classify::current_model(&mut store, &rules, &|_| None)
            .unwrap()
            .is_none(),
        "no decisions, no model"
    );
    let a = kuaibao::poll::store_item(
        &mut store,
        &item(
            1,
            "人社部部署稳岗扩岗工作",
            "人社部部署稳岗扩岗专项行动，支持企业吸纳高校毕业生就业。",
        ),
        Status::Candidate,
        &kuaibao::dedup::DedupConfig::default(),
    )
    .unwrap()
    .id();
    let b = kuaibao::poll::store_item(
        &mut store,
        &item(
            2,
            "某地举办美食节",
            "美食节汇集各地特色小吃，吸引市民游客品尝。",
        ),
        Status::Candidate,
        &kuaibao::dedup::DedupConfig::default(),
    )
    .unwrap()
    .id();
    store
        .set_status_by(a, Status::Approved, Some("alice"))
        .unwrap();
    store
        .set_status_by(b, Status::Rejected, Some("alice"))
        .unwrap();
    assert_eq!(store.decision_count().unwrap(), 2);
    let model = kuaibao::classify::current_model(&mut store, &rules, &|_| None)
        .unwrap()
        .expect("a model");
    assert_eq!(model.decisions(), 2);
    // Two decisions train a model but earn it no trust: cross-validation
    // needs ten, and until then the rules decide alone.
    assert_eq!(model.trust(), 0.0);
    let scores = model.scores(&kuaibao::classify::model::features(
        &kuaibao::classify::ClassifyInput {
            title: "美食节".into(),
            content: "特色小吃".into(),
            ..Default::default()
        },
    ));
    assert_eq!(scores.correction, [0.0; kuaibao::classify::model::CLASSES]);

    // A reversal teaches the item's final state, not both.
    store
        .set_status_by(b, Status::Approved, Some("bob"))
        .unwrap();
    let model = kuaibao::classify::current_model(&mut store, &rules, &|_| None)
        .unwrap()
        .expect("a model");
    assert_eq!(model.decisions(), 2);
    // Kept in the database: another process gets it without retraining.
    let stored = store.model_trained_on().unwrap();
    assert_eq!(stored, Some(3), "trained on decisions up to the third");
}

#[test]
fn a_relevant_copy_makes_an_irrelevant_story_a_candidate() {
    let mut store = Store::open_in_memory().unwrap();
    let text = "人力资源社会保障部印发通知，开展专业技术人才管理服务改革试点工作。通知明确，利用2年时间，开展博士后工作、职称和职业资格、继续教育、专家工作等6个方面24项改革工作试点。";
    let mut general = item(1, "人才改革试点", text);
    general.source_id = "general".into();
    general.content_hash = "a".into();
    kuaibao::poll::store_item(
        &mut store,
        &general,
        Status::Irrelevant,
        &kuaibao::dedup::DedupConfig::default(),
    )
    .unwrap();
    let mut official = item(
        2,
        "人社部开展人才管理服务改革试点",
        &format!("{text}（完）"),
    );
    official.source_id = "mohrss".into();
    official.content_hash = "b".into();
    kuaibao::poll::store_item(
        &mut store,
        &official,
        Status::Candidate,
        &kuaibao::dedup::DedupConfig::default(),
    )
    .unwrap();
    let candidates = store.review_items(Some(Status::Candidate), 10).unwrap();
    assert_eq!(candidates.len(), 1);
    assert_eq!(candidates[0].story_items, 2);
    assert!(
        store
            .review_items(Some(Status::Irrelevant), 10)
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn review_move_and_title_from_the_command_line_are_decisions_and_audited() {
    let outlet = Outlet::start().await;
    let sources = serve(&outlet, "中国劳动保障报", None, &[LONGYAN]);
    let tc = TestConfig::new(&sources, "");
    assert!(run(tc.path(), &["poll"]).await.status.success());

    let moved = run(tc.path(), &["review", "move", "1", "focus"]).await;
    assert!(
        moved.status.success(),
        "{}",
        String::from_utf8_lossy(&moved.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&moved.stdout).trim(),
        "1: regional → focus"
    );
    let unknown = run(tc.path(), &["review", "move", "1", "sports"]).await;
    assert_eq!(unknown.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("focus, regional, opinion, abroad"));

    let show: serde_json::Value = serde_json::from_slice(
        &run(tc.path(), &["review", "show", "1", "--json"])
            .await
            .stdout,
    )
    .expect("json");
    assert_eq!(show["section"], "focus");
    assert!(
        show["bulletin_title"].is_null(),
        "out of 各地动态, no 地区： title: {show}"
    );

    assert!(
        run(
            tc.path(),
            &["review", "title", "1", "龙岩：农民工专场招聘会"]
        )
        .await
        .status
        .success()
    );
    assert!(
        run(tc.path(), &["review", "approve", "1"])
            .await
            .status
            .success()
    );
    let audit: serde_json::Value =
        serde_json::from_slice(&run(tc.path(), &["audit", "--json"]).await.stdout).expect("json");
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["approve", "title", "move"]);
    assert!(audit[0]["user_name"].as_str().unwrap().starts_with("cli:"));

    // The move and the approval are training data; the feed has the title.
    let store = Store::open(&tc.dir.path().join("kuaibao.db")).unwrap();
    assert_eq!(store.decision_count().unwrap(), 2);
    drop(store);
    assert!(run(tc.path(), &["publish"]).await.status.success());
    let focus = std::fs::read_to_string(tc.out().join("feeds/focus.xml")).expect("feed");
    assert!(
        focus.contains("<title>龙岩：农民工专场招聘会</title>"),
        "{focus}"
    );
}

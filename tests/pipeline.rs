//! The whole pipeline against outlets served on 127.0.0.1: poll stores,
//! publish writes feeds that parse back.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Outlet, Reply, TestConfig, check_atom};
use kuaibao::app;
use kuaibao::poll::{PollOptions, PollStatus, SourceReport};
use kuaibao::store::{Status, Store, StoreCounts};

const ARTICLE_1: &str = "近日，人力资源社会保障部印发通知，开展专业技术人才管理服务改革试点工作。";
const ARTICLE_1B: &str =
    "通知明确，利用2年时间，开展博士后工作、职称和职业资格、继续教育等6个方面24项改革试点。";
const ARTICLE_2: &str =
    "就业是民生之本。今年我国高校毕业生规模再创新高，人社部门推出一系列政策组合拳。";

fn mohrss_list(items: &[(&str, &str, &str)]) -> String {
    let mut html = String::from(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>部内要闻</title></head><body>
        <div class="serviceMainListConType">"#,
    );
    for (href, title, date) in items {
        html.push_str(&format!(
            r#"<div class="serviceMainListTabCon"><div class="serviceMainListTxt"><span class="serviceMainListTxtLink"><a href="{href}" title="{title}">{title}</a></span></div>
            <div class="organGeneralNewListTxtConTime_a"><span class="organMenuTxtLink">{date}</span></div></div>"#
        ));
    }
    html.push_str("</div></body></html>");
    html
}

fn mohrss_article(title: &str, date: &str, origin: &str, paragraphs: &[&str]) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
    format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="PubDate" content="{date} 09:30"><title>{title}</title></head><body>
        <div class="nav">首页 &gt; 部内要闻</div>
        <div class="insMainConTitle_b">{title}</div>
        <div class="insMainConTitle_c">发布日期：{date}&#12288;&#12288;来源：{origin}&#12288;&#12288;【字体：大 中 小】</div>
        <div id="insMainConTxt"><div class="TRS_Editor">{body}</div></div>
        <div class="shuzi">打印本页 关闭窗口</div></body></html>"#
    )
}

const MOHRSS_SOURCE: &str = r##"
[[source]]
id = "mohrss"
name = "人力资源社会保障部"
url = "{base}/mohrss/list/"
kind = "html"
section = "focus"

[source.list]
item  = "div.serviceMainListConType > div.serviceMainListTabCon"
link  = "span.serviceMainListTxtLink a@href"
title = "span.serviceMainListTxtLink a@title"
date  = "span.organMenuTxtLink"

[source.article]
content = "#insMainConTxt .TRS_Editor"
title   = ".insMainConTitle_b"
date    = ".insMainConTitle_c"
origin  = ".insMainConTitle_c"
"##;

/// The 人社部 list's two articles: address, title, date.
const MOHRSS_ENTRIES: &[(&str, &str, &str)] = &[
    (
        "./202506/t20250618_1.html",
        "人社部组织开展专业技术人才管理服务改革试点工作",
        "2025-06-18",
    ),
    (
        "./202506/t20250619_2.html",
        "政策“组合拳”加大力度稳岗促就业",
        "2025-06-19",
    ),
];

fn serve_mohrss(outlet: &Outlet) {
    outlet.set(
        "/mohrss/list/",
        Reply::html(&mohrss_list(MOHRSS_ENTRIES)).with_etag("\"list-v1\""),
    );
    outlet.set(
        "/mohrss/list/202506/t20250618_1.html",
        Reply::html(&mohrss_article(
            "人社部组织开展专业技术人才管理服务改革试点工作",
            "2025-06-18",
            "人力资源社会保障部",
            &[ARTICLE_1, ARTICLE_1B],
        )),
    );
    outlet.set(
        "/mohrss/list/202506/t20250619_2.html",
        Reply::html(&mohrss_article(
            "政策“组合拳”加大力度稳岗促就业",
            "2025-06-19",
            "新华社",
            &[ARTICLE_2],
        )),
    );
}

struct Run {
    config: Arc<kuaibao::config::Config>,
    store: Arc<Mutex<Store>>,
}

impl Run {
    fn new(tc: &TestConfig) -> Run {
        let config = Arc::new(tc.load());
        let store = Arc::new(Mutex::new(app::open_store(&config).expect("store")));
        Run { config, store }
    }

    async fn poll(&self, force: bool) -> Vec<SourceReport> {
        let opts = PollOptions {
            only: vec![],
            force,
        };
        app::poll(self.config.clone(), self.store.clone(), &opts, |_| {})
            .await
            .expect("poll pass")
    }

    fn publish(&self, out: &std::path::Path) {
        let store = self.store.lock().expect("lock");
        app::publish(&self.config, &store, out).expect("publish");
    }

    fn items(&self, status: Option<Status>) -> Vec<kuaibao::store::ReviewItem> {
        self.store
            .lock()
            .expect("lock")
            .review_items(status, 1000)
            .expect("items")
    }

    fn counts(&self) -> StoreCounts {
        self.store.lock().expect("lock").counts().expect("counts")
    }

    /// The text of the first item stored.
    fn only_text(&self) -> String {
        let store = self.store.lock().expect("lock");
        let items = store.review_items(None, 100).expect("items");
        let first = items.last().expect("an item");
        store.item_text(first.id).expect("text")
    }
}

fn sources(template: &str, outlet: &Outlet) -> String {
    template.replace("{base}", &outlet.base)
}

fn report<'a>(reports: &'a [SourceReport], id: &str) -> &'a SourceReport {
    reports
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no report for {id}"))
}

#[tokio::test]
async fn html_list_items_are_stored_with_full_text_origin_and_date_and_published() {
    let outlet = Outlet::start().await;
    serve_mohrss(&outlet);
    let tc = TestConfig::new(
        &sources(MOHRSS_SOURCE, &outlet),
        "[review]\nmode = \"auto\"",
    );
    let run = Run::new(&tc);
    let reports = run.poll(false).await;
    let r = report(&reports, "mohrss");
    assert_eq!(
        (r.status, r.found, r.new, r.failed),
        (PollStatus::Ok, 2, 2, 0),
        "{r:?}"
    );

    let items = run.items(None);
    let carried = items
        .iter()
        .find(|i| i.title.contains("组合拳"))
        .expect("second article");
    assert_eq!(
        carried.origin, "新华社",
        "人社部 page carrying a 新华社 article keeps 新华社 as origin"
    );
    assert!(
        carried
            .published
            .as_deref()
            .is_some_and(|p| p.starts_with("2025-06-19")),
        "{carried:?}"
    );
    let own = items
        .iter()
        .find(|i| i.title.contains("试点"))
        .expect("first article");
    assert_eq!(own.origin, "人力资源社会保障部");
    assert_eq!(own.section.as_deref(), Some("focus"));

    run.publish(&tc.out());
    let feed = check_atom(&tc.out().join("feeds/all.xml"));
    assert_eq!(feed.entries().len(), 2);
    let entry = &feed.entries()[0];
    assert_eq!(
        entry.title().as_str(),
        "政策“组合拳”加大力度稳岗促就业",
        "newest first"
    );
    let content = entry.content().and_then(|c| c.value()).expect("content");
    assert!(content.contains("就业是民生之本"), "{content}");
    assert!(
        !content.contains("打印本页"),
        "page chrome is not content: {content}"
    );
    assert_eq!(entry.source().map(|s| s.title().as_str()), Some("新华社"));
    assert!(entry.categories().iter().any(|c| c.term() == "focus"));
    let focus = check_atom(&tc.out().join("feeds/focus.xml"));
    assert_eq!(focus.entries().len(), 2);
    let regional = check_atom(&tc.out().join("feeds/regional.xml"));
    assert!(regional.entries().is_empty());
    assert!(tc.out().join("feeds.opml").exists() && tc.out().join("index.html").exists());
}

#[tokio::test]
async fn entries_are_dated_by_their_articles_and_the_feed_by_its_last_change() {
    let outlet = Outlet::start().await;
    serve_mohrss(&outlet);
    let tc = TestConfig::new(
        &sources(MOHRSS_SOURCE, &outlet),
        "[review]\nmode = \"auto\"",
    );
    let run = Run::new(&tc);
    let before = chrono::Utc::now() - chrono::TimeDelta::seconds(2);
    run.poll(false).await;
    run.publish(&tc.out());

    let feed = check_atom(&tc.out().join("feeds/all.xml"));
    let updated: Vec<String> = feed
        .entries()
        .iter()
        .map(|e| e.updated().to_rfc3339())
        .collect();
    // One poll stored both, yet each entry carries its own article's date.
    assert_eq!(
        updated,
        ["2025-06-19T00:00:00+08:00", "2025-06-18T00:00:00+08:00"],
        "entries' updated are the articles' dates, newest first"
    );
    assert!(
        *feed.updated() >= before,
        "the feed's updated is when its content last changed: {}",
        feed.updated()
    );
}

#[tokio::test]
async fn second_poll_sends_the_etag_and_a_304_is_success_with_nothing_new() {
    let outlet = Outlet::start().await;
    serve_mohrss(&outlet);
    let tc = TestConfig::new(&sources(MOHRSS_SOURCE, &outlet), "");
    let run = Run::new(&tc);
    run.poll(false).await;
    let reports = run.poll(true).await;
    let r = report(&reports, "mohrss");
    assert_eq!(r.status, PollStatus::NotModified, "{r:?}");
    assert_eq!(r.new, 0);
    let requests = outlet.requests("/mohrss/list/");
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1]
            .get("if-none-match")
            .and_then(|v| v.to_str().ok()),
        Some("\"list-v1\"")
    );
    assert_eq!(
        outlet
            .requests("/mohrss/list/202506/t20250618_1.html")
            .len(),
        1,
        "articles fetched once"
    );
    let states = run
        .store
        .lock()
        .expect("lock")
        .source_states(&["mohrss"])
        .expect("states");
    assert_eq!(states[0].consecutive_failures, 0);
    assert!(states[0].last_error.is_none());
}

#[tokio::test]
async fn last_modified_round_trip_answers_304() {
    let outlet = Outlet::start().await;
    serve_mohrss(&outlet);
    let lm = "Wed, 18 Jun 2025 01:30:00 GMT";
    outlet.set(
        "/mohrss/list/",
        Reply::html(&mohrss_list(&MOHRSS_ENTRIES[..1])).with_last_modified(lm),
    );
    let tc = TestConfig::new(&sources(MOHRSS_SOURCE, &outlet), "");
    let run = Run::new(&tc);
    run.poll(false).await;
    let reports = run.poll(true).await;
    assert_eq!(report(&reports, "mohrss").status, PollStatus::NotModified);
    let requests = outlet.requests("/mohrss/list/");
    assert_eq!(
        requests[1]
            .get("if-modified-since")
            .and_then(|v| v.to_str().ok()),
        Some(lm)
    );
}

#[tokio::test]
async fn repolling_an_unchanged_outlet_changes_nothing_published() {
    let outlet = Outlet::start().await;
    serve_mohrss(&outlet);
    // No validators: the list is downloaded and read again in full.
    outlet.set("/mohrss/list/", Reply::html(&mohrss_list(MOHRSS_ENTRIES)));
    let tc = TestConfig::new(
        &sources(MOHRSS_SOURCE, &outlet),
        "[review]\nmode = \"auto\"",
    );
    let run = Run::new(&tc);
    run.poll(false).await;
    run.publish(&tc.out());
    let first = std::fs::read(tc.out().join("feeds/all.xml")).expect("feed");
    let reports = run.poll(true).await;
    let r = report(&reports, "mohrss");
    assert_eq!(
        (r.status, r.new, r.unchanged),
        (PollStatus::Ok, 0, 2),
        "{r:?}"
    );
    run.publish(&tc.out());
    let second = std::fs::read(tc.out().join("feeds/all.xml")).expect("feed");
    assert_eq!(
        first, second,
        "an unchanged store publishes identical bytes"
    );
    assert_eq!(run.counts().items, 2);
}

/// A running poller keeps what it read from a list page and does not
/// parse the same bytes again; a list that changes by one entry is read
/// afresh and its new item found.
#[tokio::test]
async fn a_running_poller_reads_a_list_again_only_when_its_bytes_change() {
    let outlet = Outlet::start().await;
    serve_mohrss(&outlet);
    // No validators: every poll downloads the whole list.
    outlet.set("/mohrss/list/", Reply::html(&mohrss_list(MOHRSS_ENTRIES)));
    let tc = TestConfig::new(&sources(MOHRSS_SOURCE, &outlet), "");
    let run = Run::new(&tc);
    let fetcher = Arc::new(kuaibao::fetch::Fetcher::new(&run.config.poll).expect("fetcher"));
    let poller = kuaibao::poll::Poller::new(run.config.clone(), fetcher, run.store.clone());
    let source = run.config.source("mohrss").expect("source").clone();
    let first = poller.poll_source(&source).await;
    assert_eq!((first.status, first.new), (PollStatus::Ok, 2), "{first:?}");
    for _ in 0..3 {
        let again = poller.poll_source(&source).await;
        assert_eq!(
            (again.status, again.found, again.new, again.unchanged),
            (PollStatus::Ok, 2, 0, 2),
            "{again:?}"
        );
    }
    let mut more = MOHRSS_ENTRIES.to_vec();
    more.insert(
        0,
        (
            "./202506/t20250620_3.html",
            "人社部召开新闻发布会介绍上半年人力资源和社会保障工作进展",
            "2025-06-20",
        ),
    );
    outlet.set("/mohrss/list/", Reply::html(&mohrss_list(&more)));
    outlet.set(
        "/mohrss/list/202506/t20250620_3.html",
        Reply::html(&mohrss_article(
            "人社部召开新闻发布会介绍上半年人力资源和社会保障工作进展",
            "2025-06-20",
            "人力资源社会保障部",
            &[ARTICLE_1, ARTICLE_2],
        )),
    );
    let changed = poller.poll_source(&source).await;
    assert_eq!(
        (
            changed.status,
            changed.found,
            changed.new,
            changed.unchanged
        ),
        (PollStatus::Ok, 3, 1, 2),
        "{changed:?}"
    );
    assert_eq!(run.counts().items, 3);
}

#[tokio::test]
async fn gbk_pages_without_charset_in_content_type_are_decoded_correctly() {
    let outlet = Outlet::start().await;
    let gbk = |s: &str| encoding_rs::GBK.encode(s).0.into_owned();
    let list = r#"<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"><title>各地动态</title></head>
        <body><ul class="infolist"><li><a href="/gbk/art/t20250617_9.html">黑龙江：加大金融助企稳岗扩岗力度</a><span>2025-06-17</span></li></ul></body></html>"#;
    let article = r#"<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"><title>黑龙江</title></head>
        <body><h1>黑龙江：加大金融助企稳岗扩岗力度</h1><div class="info">发布时间：2025-06-17 10:12　来源：黑龙江省人力资源和社会保障厅</div>
        <div id="UCAP-CONTENT"><p>近日，黑龙江省人力资源和社会保障厅、中国人民银行黑龙江省分行印发通知，更好发挥金融对稳就业、扩就业的支持和引导作用。</p><p>一是扩大支持范围。</p></div></body></html>"#;
    outlet.set("/gbk/list.html", Reply::new("text/html", gbk(list)));
    outlet.set(
        "/gbk/art/t20250617_9.html",
        Reply::new("text/html", gbk(article)),
    );
    let sources = format!(
        r##"[[source]]
id = "hlj"
name = "某省人社厅"
url = "{}/gbk/list.html"
kind = "html"
section = "regional"
region = "黑龙江"
[source.list]
item = "ul.infolist li"
link = "a@href"
title = "a"
date = "span"
[source.article]
content = "#UCAP-CONTENT"
origin = "div.info"
"##,
        outlet.base
    );
    let tc = TestConfig::new(&sources, "[review]\nmode = \"auto\"");
    let run = Run::new(&tc);
    let reports = run.poll(false).await;
    assert_eq!(report(&reports, "hlj").new, 1, "{reports:?}");
    let items = run.items(None);
    assert_eq!(items[0].title, "黑龙江：加大金融助企稳岗扩岗力度");
    assert_eq!(items[0].origin, "黑龙江省人力资源和社会保障厅");
    let text = run.only_text();
    assert!(
        text.contains("更好发挥金融对稳就业、扩就业的支持和引导作用"),
        "{text}"
    );
    run.publish(&tc.out());
    let feed = std::fs::read_to_string(tc.out().join("feeds/regional.xml")).expect("utf-8 feed");
    assert!(feed.contains("黑龙江：加大金融助企稳岗扩岗力度"));
}

const RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>光明网评论</title><link>https://guancha.gmw.cn/</link><description>评论</description>
<item><title>期待更多举措，打破“年龄门槛”</title><link>https://guancha.gmw.cn/2025-06/10/content_1.htm</link>
<guid isPermaLink="false">gmw-1</guid><pubDate>Tue, 10 Jun 2025 08:00:00 +0800</pubDate>
<description>有媒体报道称，已有部分企业在招聘时放宽年龄限制。</description>
<content:encoded><![CDATA[<p>有媒体报道称，已有部分企业在招聘时放宽年龄限制，企业受访人士表示“更看重大龄求职者的经验和能力”。</p><script>track()</script><p><img src="/pic/1.jpg" onerror="steal()">年龄门槛，是围绕年龄界限所产生的职业瓶颈和社会焦虑现象。</p><p>打破就业中的年龄门槛，需要完善劳动者权益保障，让大龄劳动者平等就业。用人单位在招聘中设置不合理的年龄限制，既浪费了人力资源，也加剧了中年求职者的就业焦虑。</p><p>期待相关部门出台更多举措，清理招聘中的年龄歧视，为劳动者提供公平的就业环境。</p><p><a href="javascript:alert(1)">分享</a></p>]]></content:encoded>
</item></channel></rss>"#;

#[tokio::test]
async fn rss_with_full_content_needs_no_page_fetch_and_is_sanitized() {
    let outlet = Outlet::start().await;
    outlet.set("/gmw/rss.xml", Reply::new("application/rss+xml", RSS));
    let sources = format!(
        "[[source]]\nid = \"gmw\"\nname = \"光明网\"\nurl = \"{}/gmw/rss.xml\"\nkind = \"feed\"\nsection = \"opinion\"\n",
        outlet.base
    );
    let tc = TestConfig::new(&sources, "[review]\nmode = \"auto\"");
    let run = Run::new(&tc);
    let reports = run.poll(false).await;
    assert_eq!(report(&reports, "gmw").new, 1, "{reports:?}");
    run.publish(&tc.out());
    let feed = check_atom(&tc.out().join("feeds/opinion.xml"));
    let content = feed.entries()[0]
        .content()
        .and_then(|c| c.value())
        .expect("content")
        .to_string();
    assert!(
        content.contains("更看重大龄求职者的经验和能力"),
        "{content}"
    );
    assert!(
        !content.contains("<script") && !content.contains("track()"),
        "{content}"
    );
    assert!(
        !content.contains("onerror") && !content.contains("javascript:"),
        "{content}"
    );
    assert!(
        content.contains("https://guancha.gmw.cn/pic/1.jpg"),
        "relative image made absolute: {content}"
    );
    let raw = std::fs::read_to_string(tc.out().join("feeds/all.xml")).expect("feed");
    assert!(
        !raw.contains("<script") && !raw.contains("&lt;script"),
        "no script in any form"
    );
}

#[tokio::test]
async fn atom_summary_only_entries_get_their_full_text_from_the_page() {
    let outlet = Outlet::start().await;
    let atom = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>中国医疗保险</title><id>urn:cnhi</id><updated>2025-06-12T08:00:00+08:00</updated>
<entry><title>以“共识”破局医保改革，从理论到实践的中国路径</title><id>urn:cnhi:1</id><updated>2025-06-12T08:00:00+08:00</updated>
<link href="{}/cnhi/a/1.html"/><summary>长期以来，药品价格究竟保持何种价差算是公平合理。</summary></entry></feed>"#,
        outlet.base
    );
    let page = r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>以“共识”破局医保改革 - 中国医疗保险</title></head><body>
<header><nav><a href="/">首页</a> <a href="/news">新闻</a> <a href="/about">关于我们</a></nav></header>
<div class="main"><h1>以“共识”破局医保改革，从理论到实践的中国路径</h1><div class="info">2025-06-12 来源：中国医疗保险</div>
<div class="article-content"><p>长期以来，药品价格究竟保持何种价差算是公平合理，各地一直存在不同看法并有不同处理方式，为此，业界呼唤一套合理的定价机制出炉。</p>
<p>今年以来，在国家医疗保障局的指导下，河北、浙江、广东、贵州、新疆五省医疗保障局联合发起的规则共识受到业界广泛关注，其不仅是对既往地方实践的系统总结。</p>
<p>医保共识作为推动医疗保障制度改革与高质量发展的核心机制，旨在实现公平正义、多元协同、效率提升和可持续发展的价值目标。</p></div></div>
<aside><h3>热门文章</h3><ul><li><a href="/x">其他文章一</a></li><li><a href="/y">其他文章二</a></li></ul></aside>
<footer>版权所有 中国医疗保险杂志社</footer></body></html>"#;
    outlet.set("/cnhi/atom.xml", Reply::new("application/atom+xml", atom));
    outlet.set("/cnhi/a/1.html", Reply::html(page));
    let sources = format!(
        "[[source]]\nid = \"cnhi\"\nname = \"中国医疗保险\"\nurl = \"{}/cnhi/atom.xml\"\nkind = \"feed\"\nsection = \"opinion\"\n",
        outlet.base
    );
    let tc = TestConfig::new(&sources, "[review]\nmode = \"auto\"");
    let run = Run::new(&tc);
    let reports = run.poll(false).await;
    assert_eq!(report(&reports, "cnhi").new, 1, "{reports:?}");
    assert_eq!(outlet.requests("/cnhi/a/1.html").len(), 1);
    let text = run.only_text();
    assert!(
        text.contains("可持续发展的价值目标"),
        "full text from the page: {text}"
    );
    assert!(
        !text.contains("热门文章") && !text.contains("版权所有"),
        "no page chrome: {text}"
    );
}

#[tokio::test]
async fn json_list_items_are_read_through_dotted_paths() {
    let outlet = Outlet::start().await;
    let list = format!(
        r#"{{"status":0,"data":{{"list":[{{"Title":"英国政府严打非法务工产业链","LinkUrl":"{}/cn/2025/06-09/1.shtml","PubTime":"2025-06-09 10:21:00","Abstract":"英国内政部8日消息称"}}]}}}}"#,
        outlet.base
    );
    let page = r#"<html><head><meta charset="utf-8"></head><body><div class="left-t">2025年06月09日 10:21　来源：中国新闻网</div>
<div class="left_zw"><p>英国内政部8日消息称，自工党上台以来，英国各地加大移民执法力度，展开针对非法务工产业链的专项打击行动。</p></div></body></html>"#;
    outlet.set("/cn/list.json", Reply::new("application/json", list));
    outlet.set("/cn/2025/06-09/1.shtml", Reply::html(page));
    let sources = format!(
        r#"[[source]]
id = "chinanews"
name = "中国新闻网"
url = "{}/cn/list.json"
kind = "json"
section = "abroad"
[source.json]
items = "data.list"
title = "Title"
link = "LinkUrl"
date = "PubTime"
summary = "Abstract"
[source.article]
content = "div.left_zw"
origin = "div.left-t"
"#,
        outlet.base
    );
    let tc = TestConfig::new(&sources, "[review]\nmode = \"auto\"");
    let run = Run::new(&tc);
    let reports = run.poll(false).await;
    assert_eq!(report(&reports, "chinanews").new, 1, "{reports:?}");
    let items = run.items(None);
    assert_eq!(items[0].origin, "中国新闻网");
    assert!(
        items[0]
            .published
            .as_deref()
            .is_some_and(|p| p.starts_with("2025-06-09T10:21")),
        "{:?}",
        items[0]
    );
}

#[tokio::test]
async fn the_same_text_under_two_urls_is_one_item_that_keeps_both_pages() {
    let outlet = Outlet::start().await;
    serve_mohrss(&outlet);
    outlet.set(
        "/mohrss/list/",
        Reply::html(&mohrss_list(&[
            (
                "./202506/t20250618_1.html",
                "人社部组织开展专业技术人才管理服务改革试点工作",
                "2025-06-18",
            ),
            (
                "/mirror/t20250618_1.html?from=rss",
                "人社部开展专业技术人才管理服务改革试点",
                "2025-06-18",
            ),
        ])),
    );
    // The copy adds spacing and a different 来源 line, nothing else.
    outlet.set(
        "/mirror/t20250618_1.html?from=rss",
        Reply::html(&mohrss_article(
            "人社部开展专业技术人才管理服务改革试点",
            "2025-06-18",
            "人力资源社会保障部",
            &[&ARTICLE_1.replace('，', ", "), ARTICLE_1B],
        )),
    );
    let tc = TestConfig::new(&sources(MOHRSS_SOURCE, &outlet), "");
    let run = Run::new(&tc);
    let reports = run.poll(false).await;
    let r = report(&reports, "mohrss");
    assert_eq!((r.new, r.unchanged, r.failed), (1, 1, 0), "{r:?}");
    assert_eq!(run.counts().items, 1);
    assert_eq!(run.counts().pages, 2, "both pages recorded");
    let items = run.items(None);
    assert_eq!(items[0].seen_on.len(), 2, "{:?}", items[0]);
}

#[tokio::test]
async fn manual_mode_publishes_nothing_until_an_editor_approves() {
    let outlet = Outlet::start().await;
    serve_mohrss(&outlet);
    let tc = TestConfig::new(&sources(MOHRSS_SOURCE, &outlet), "");
    let run = Run::new(&tc);
    run.poll(false).await;
    run.publish(&tc.out());
    assert!(
        check_atom(&tc.out().join("feeds/all.xml"))
            .entries()
            .is_empty()
    );
    let candidates = run.items(Some(Status::Candidate));
    assert_eq!(candidates.len(), 2);
    let id = candidates[0].id;
    app::review(
        &mut run.store.lock().expect("lock"),
        &[id],
        Status::Approved,
        "tester",
    )
    .expect("approve");
    app::review(
        &mut run.store.lock().expect("lock"),
        &[candidates[1].id],
        Status::Rejected,
        "tester",
    )
    .expect("reject");
    run.publish(&tc.out());
    let feed = check_atom(&tc.out().join("feeds/all.xml"));
    assert_eq!(feed.entries().len(), 1);
    assert_eq!(feed.entries()[0].title().as_str(), candidates[0].title);
}

#[tokio::test]
async fn approving_an_unknown_item_is_an_error_naming_it() {
    let tc = TestConfig::new("", "");
    let run = Run::new(&tc);
    let err = app::review(
        &mut run.store.lock().expect("lock"),
        &[42],
        Status::Approved,
        "tester",
    )
    .expect_err("no such item");
    assert!(err.to_string().contains("42"), "{err}");
    assert!(!err.is_setup_error());
}

/// Polls one html source whose list URL answers `reply`; returns its report.
async fn poll_failing(reply: Reply, extra_main: &str) -> (SourceReport, Run, TestConfig) {
    let outlet = Outlet::start().await;
    serve_mohrss(&outlet);
    outlet.set("/mohrss/list/", reply);
    let tc = TestConfig::new(&sources(MOHRSS_SOURCE, &outlet), "");
    for line in extra_main.lines() {
        let (key, value) = line.split_once('=').expect("key = value");
        tc.set_poll(key.trim(), value.trim());
    }
    let run = Run::new(&tc);
    let reports = run.poll(false).await;
    (report(&reports, "mohrss").clone(), run, tc)
}

fn assert_failed_with(r: &SourceReport, words: &[&str]) {
    assert_eq!(r.status, PollStatus::Failed, "{r:?}");
    let error = r.error.clone().unwrap_or_default().to_lowercase();
    assert!(
        words.iter().any(|w| error.contains(w)),
        "error {error:?} should mention one of {words:?}"
    );
}

#[tokio::test]
async fn anti_bot_challenge_page_is_a_failed_fetch_not_an_empty_list() {
    let challenge = r##"<html><head><meta charset="utf-8"></head><body><script>var WTKkN=431;var bOYDu=2210;var wyeCN=9984;document.cookie="__tst_status="+(WTKkN+bOYDu+wyeCN)+"#;";document.cookie="EO_Bot_Ssid=2953052160; path=/";location.reload();</script></body></html>"##;
    let mut reply = Reply::html(challenge);
    reply
        .headers
        .push(("set-cookie".into(), "EO_Bot_Ssid=2953052160; path=/".into()));
    let (r, run, _tc) = poll_failing(reply, "").await;
    assert_failed_with(&r, &["challenge"]);
    let states = run
        .store
        .lock()
        .expect("lock")
        .source_states(&["mohrss"])
        .expect("states");
    assert_eq!(states[0].consecutive_failures, 1);
    assert!(
        states[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("challenge"))
    );
}

#[tokio::test]
async fn a_redirect_loop_fails_the_source_cleanly() {
    let outlet = Outlet::start().await;
    outlet.set("/mohrss/list/", Reply::redirect("/loop/a"));
    outlet.set("/loop/a", Reply::redirect("/loop/b"));
    outlet.set("/loop/b", Reply::redirect("/loop/a"));
    let tc = TestConfig::new(&sources(MOHRSS_SOURCE, &outlet), "");
    let run = Run::new(&tc);
    let reports = run.poll(false).await;
    assert_failed_with(report(&reports, "mohrss"), &["redirect"]);
}

#[tokio::test]
async fn a_body_over_max_body_is_refused_and_reported() {
    let big = format!(
        "<html><body>{}</body></html>",
        "<p>填充内容</p>".repeat(20_000)
    );
    let (r, _run, _tc) = poll_failing(Reply::html(&big), "max_body = \"64KiB\"").await;
    assert_failed_with(&r, &["max_body", "larger", "too large", "exceeds"]);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let started = std::time::Instant::now();
    let (r, _run, _tc) = poll_failing(
        Reply::html("<html></html>").with_delay(Duration::from_secs(30)),
        "timeout = \"500ms\"",
    )
    .await;
    assert_failed_with(&r, &["timed out", "timeout"]);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn malformed_xml_fails_the_feed_with_a_reason() {
    let outlet = Outlet::start().await;
    outlet.set(
        "/bad.xml",
        Reply::new(
            "application/rss+xml",
            "<?xml version=\"1.0\"?><rss><channel><title>x</title><item><title>a</item></rss",
        ),
    );
    let sources = format!(
        "[[source]]\nid = \"bad\"\nname = \"坏源\"\nurl = \"{}/bad.xml\"\nkind = \"feed\"\n",
        outlet.base
    );
    let tc = TestConfig::new(&sources, "");
    let run = Run::new(&tc);
    let reports = run.poll(false).await;
    let r = report(&reports, "bad");
    assert_eq!(r.status, PollStatus::Failed, "{r:?}");
    assert!(r.error.as_deref().is_some_and(|e| !e.is_empty()));
}

#[tokio::test]
async fn malformed_html_is_still_read() {
    let outlet = Outlet::start().await;
    serve_mohrss(&outlet);
    let broken = mohrss_list(&[(
        "./202506/t20250618_1.html",
        "人社部组织开展专业技术人才管理服务改革试点工作",
        "2025-06-18",
    )])
    .replace("</span></div>", "")
    .replace("</body></html>", "<div><p>未闭合");
    let (r, _run, _tc) = poll_failing(Reply::html(&broken), "").await;
    assert_eq!((r.status, r.new), (PollStatus::Ok, 1), "{r:?}");
}

#[tokio::test]
async fn a_list_that_stops_yielding_items_is_flagged_as_broken() {
    let outlet = Outlet::start().await;
    serve_mohrss(&outlet);
    let tc = TestConfig::new(&sources(MOHRSS_SOURCE, &outlet), "");
    let run = Run::new(&tc);
    assert_eq!(report(&run.poll(false).await, "mohrss").new, 2);
    // The site is redesigned: the same news under other class names.
    outlet.set("/mohrss/list/", Reply::html("<html><body><ul class=\"newlist\"><li><a href=\"./x.html\">新版</a></li></ul></body></html>"));
    let reports = run.poll(true).await;
    assert_failed_with(report(&reports, "mohrss"), &["matched nothing", "no items"]);
}

#[tokio::test]
async fn an_article_that_fails_to_load_is_retried_on_the_next_pass() {
    let outlet = Outlet::start().await;
    serve_mohrss(&outlet);
    outlet.set("/mohrss/list/202506/t20250619_2.html", Reply::status(503));
    let tc = TestConfig::new(&sources(MOHRSS_SOURCE, &outlet), "");
    let run = Run::new(&tc);
    let r = run.poll(false).await[0].clone();
    assert_eq!(
        (r.status, r.new, r.failed),
        (PollStatus::Partial, 1, 1),
        "{r:?}"
    );
    // The outlet recovers; the list still answers with the same ETag, but
    // the validators were not kept, so the list is read again.
    serve_mohrss(&outlet);
    let r = run.poll(true).await[0].clone();
    assert_eq!((r.status, r.new, r.failed), (PollStatus::Ok, 1, 0), "{r:?}");
    assert_eq!(run.counts().items, 2);
}

#[tokio::test]
async fn sources_not_yet_due_are_skipped_unless_forced() {
    let outlet = Outlet::start().await;
    serve_mohrss(&outlet);
    let tc = TestConfig::new(&sources(MOHRSS_SOURCE, &outlet), "");
    let run = Run::new(&tc);
    run.poll(false).await;
    assert_eq!(
        report(&run.poll(false).await, "mohrss").status,
        PollStatus::NotDue
    );
    assert_eq!(outlet.requests("/mohrss/list/").len(), 1);
    run.poll(true).await;
    assert_eq!(outlet.requests("/mohrss/list/").len(), 2);
}

#[tokio::test]
async fn an_unreachable_source_fails_alone_while_the_others_are_polled() {
    let outlet = Outlet::start().await;
    serve_mohrss(&outlet);
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let mut text = sources(MOHRSS_SOURCE, &outlet);
    text.push_str(&format!("\n[[source]]\nid = \"dead\"\nname = \"关闭的网站\"\nurl = \"http://{dead}/rss\"\nkind = \"feed\"\n"));
    let tc = TestConfig::new(&text, "");
    let run = Run::new(&tc);
    let reports = run.poll(false).await;
    assert_eq!(report(&reports, "mohrss").new, 2);
    assert_eq!(report(&reports, "dead").status, PollStatus::Failed);
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed() {
    let outlet = Outlet::start().await;
    serve_mohrss(&outlet);
    let tc = TestConfig::new(&sources(MOHRSS_SOURCE, &outlet), "");
    let main = std::fs::read_to_string(tc.path())
        .expect("main")
        .replace("allow_private = true", "allow_private = false");
    std::fs::write(tc.path(), main).expect("write");
    let run = Run::new(&tc);
    let reports = run.poll(false).await;
    assert_failed_with(report(&reports, "mohrss"), &["private", "loopback"]);
    assert!(
        outlet.requests("/mohrss/list/").is_empty(),
        "no request was made"
    );
}

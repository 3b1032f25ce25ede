//! The extract stage against pages modelled on the real outlets
//! (`tests/fixtures/extract/`, built from what the sites serve in 2025).

use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeZone};
use kuaibao::config::{
    ArticleSelectors, EncodingChoice, FieldSelector, JsonPaths, ListSelectors, Source, SourceKind,
};
use kuaibao::extract::{ExtractError, Limits, extract_article, extract_list};
use kuaibao::model::{Page, Validators};
use url::Url;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/extract/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A page as fetch would hand it over: UTF-8 fixtures as is, others decoded.
fn page(url: &str, name: &str) -> Page {
    let bytes = fixture(name);
    let (text, encoding) = match std::str::from_utf8(&bytes) {
        Ok(t) => (t.to_string(), "UTF-8"),
        Err(_) => (
            encoding_rs::GB18030.decode(&bytes).0.into_owned(),
            "GB18030",
        ),
    };
    Page {
        url: Url::parse(url).unwrap(),
        status: 200,
        content_type: None,
        validators: Validators::default(),
        bytes,
        text,
        encoding,
    }
}

fn source(kind: SourceKind, url: &str) -> Source {
    Source {
        id: "test".into(),
        name: "测试来源".into(),
        url: Url::parse(url).unwrap(),
        kind,
        encoding: EncodingChoice::Auto,
        interval: Duration::from_secs(1800),
        region: None,
        section: None,
        enabled: true,
        list: None,
        json: None,
        article: None,
    }
}

fn sel(text: &str) -> FieldSelector {
    FieldSelector::parse(text).unwrap()
}

fn list(item: &str, link: &str, title: &str, date: Option<&str>) -> ListSelectors {
    ListSelectors {
        item: sel(item),
        link: sel(link),
        title: sel(title),
        date: date.map(sel),
        summary: None,
    }
}

fn json_paths(items: &str, title: &str, link: &str, date: Option<&str>) -> JsonPaths {
    JsonPaths {
        items: items.into(),
        title: title.into(),
        link: link.into(),
        date: date.map(Into::into),
        summary: None,
        content: None,
        guid: None,
    }
}

fn bj(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, mo, d, h, mi, s)
        .unwrap()
}

// ---- HTML lists ----------------------------------------------------------

const MOHRSS_LIST: &str =
    "https://www.mohrss.gov.cn/SYrlzyhshbzb/dongtaixinwen/buneiyaowen/index.html";

fn mohrss_list_source() -> Source {
    let mut s = source(SourceKind::Html, MOHRSS_LIST);
    s.list = Some(list(
        "div.serviceMainListConType > div.serviceMainListTabCon",
        "div.serviceMainListTxt span.serviceMainListTxtLink a",
        "div.serviceMainListTxt span.serviceMainListTxtLink a@title",
        Some("div.organGeneralNewListTxtConTime_a span.organMenuTxtLink"),
    ));
    s
}

#[test]
fn mohrss_list_yields_absolute_links_full_titles_and_dates() {
    let items = extract_list(
        &mohrss_list_source(),
        &page(MOHRSS_LIST, "mohrss_list.html"),
        &Limits::default(),
    )
    .unwrap()
    .items;
    let urls: Vec<&str> = items.iter().map(|i| i.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://www.mohrss.gov.cn/SYrlzyhshbzb/dongtaixinwen/buneiyaowen/202506/t20250620_543210.html",
            "https://www.mohrss.gov.cn/SYrlzyhshbzb/dongtaixinwen/buneiyaowen/202506/t20250618_543100.html",
            "https://www.mohrss.gov.cn/SYrlzyhshbzb/dongtaixinwen/buneiyaowen/202506/t20250617_543001.html",
        ],
        "javascript: links are skipped and repeated URLs kept once"
    );
    // The @title attribute carries the whole headline; the text is cut short.
    assert_eq!(
        items[0].title,
        "人社部组织开展专业技术人才管理服务改革试点工作"
    );
    assert_eq!(items[0].published, Some(bj(2025, 6, 20, 0, 0, 0)));
    assert_eq!(
        items[1].published,
        Some(bj(2025, 6, 18, 0, 0, 0)),
        "&nbsp; around the date"
    );
    assert_eq!(
        items[2].published,
        Some(bj(2025, 6, 17, 0, 0, 0)),
        "empty date falls back to the URL"
    );
    assert!(
        items
            .iter()
            .all(|i| i.guid.is_none() && i.content.is_none())
    );
}

#[test]
fn a_list_selector_that_matches_nothing_is_a_loud_error() {
    let mut s = mohrss_list_source();
    s.list.as_mut().unwrap().item = sel("ul.redesigned li");
    let err = extract_list(
        &s,
        &page(MOHRSS_LIST, "mohrss_list.html"),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, ExtractError::NothingMatched { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("ul.redesigned li"), "{err}");
}

#[test]
fn hanweb_datastore_records_are_listed_like_visible_items() {
    let url = "https://jshrss.jiangsu.gov.cn/col/col78532/index.html";
    let mut s = source(SourceKind::Html, url);
    s.list = Some(list(
        "div.default_pgContainer li",
        "a",
        "a@title",
        Some("span.bt-data-time"),
    ));
    let items = extract_list(&s, &page(url, "hanweb_list.html"), &Limits::default())
        .unwrap()
        .items;
    assert_eq!(items.len(), 3, "{items:#?}");
    assert_eq!(
        items[0].url.as_str(),
        "https://jshrss.jiangsu.gov.cn/art/2025/6/20/art_78532_11577001.html"
    );
    assert_eq!(items[0].title, "省人社厅召开全省就业工作推进会");
    assert_eq!(items[1].published, Some(bj(2025, 6, 19, 0, 0, 0)));
    // No date text: the Hanweb URL carries /art/YYYY/M/D/.
    assert_eq!(items[2].url.host_str(), Some("www.jiangsu.gov.cn"));
    assert_eq!(items[2].published, Some(bj(2025, 6, 18, 0, 0, 0)));
}

#[test]
fn malformed_html_with_unclosed_tags_still_yields_its_items() {
    let url = "http://rsj.example.gov.cn/col/col1/index.html";
    let mut s = source(SourceKind::Html, url);
    s.list = Some(list("div.list li", "a", "a", Some(".date")));
    let items = extract_list(&s, &page(url, "malformed_list.html"), &Limits::default())
        .unwrap()
        .items;
    let urls: Vec<&str> = items.iter().map(|i| i.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "http://rsj.example.gov.cn/col/art/2025/6/20/art_1_1.html",
            "http://rsj.example.gov.cn/col/art/2025/6/19/art_1_2.html",
            "http://rsj.example.gov.cn/col/art/2025/6/18/art_1_3.html",
        ]
    );
    assert!(items[0].title.starts_with("第一条"));
    assert_eq!(items[1].published, Some(bj(2025, 6, 19, 0, 0, 0)));
    assert_eq!(items[2].published, Some(bj(2025, 6, 18, 0, 0, 0)));
}

// ---- JSON lists -----------------------------------------------------------

#[test]
fn news_cn_nodeart_jsonp_is_unwrapped_and_read_by_paths() {
    let url = "http://qc.wa.news.cn/nodeart/list?nid=113352&pgnum=1&cnt=10&tp=1&orderby=1";
    let mut s = source(SourceKind::Json, url);
    let mut paths = json_paths("data.list", "Title", "LinkUrl", Some("PubTime"));
    paths.summary = Some("Abstract".into());
    paths.guid = Some("DocID".into());
    s.json = Some(paths);
    let items = extract_list(&s, &page(url, "newscn_nodeart.jsonp"), &Limits::default())
        .unwrap()
        .items;
    assert_eq!(items.len(), 2, "the item without a link is skipped");
    assert_eq!(
        items[0].title, "国务院常务会议部署稳就业 稳岗扩岗",
        "markup in titles is dropped"
    );
    assert_eq!(items[0].guid.as_deref(), Some("1131234567"));
    assert_eq!(items[0].published, Some(bj(2025, 6, 20, 21, 5, 12)));
    assert_eq!(
        items[0].summary.as_deref(),
        Some("国务院总理主持召开国务院常务会议，部署进一步稳就业。")
    );
    assert_eq!(items[1].summary, None, "an empty abstract is no summary");
}

#[test]
fn gov_cn_policy_json_is_a_top_level_array_with_relative_urls() {
    let url = "https://www.gov.cn/zhengce/zuixin/ZUIXINZHENGCE.json";
    let mut s = source(SourceKind::Json, url);
    s.json = Some(json_paths("", "TITLE", "URL", Some("DOCRELPUBTIME")));
    let items = extract_list(
        &s,
        &page(url, "govcn_zuixinzhengce.json"),
        &Limits::default(),
    )
    .unwrap()
    .items;
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[1].url.as_str(),
        "https://www.gov.cn/zhengce/zhengceku/202506/content_7028001.htm"
    );
    assert_eq!(items[0].published, Some(bj(2025, 6, 19, 0, 0, 0)));
}

#[test]
fn json_errors_say_what_is_wrong() {
    let url = "https://www.gov.cn/zhengce/zuixin/ZUIXINZHENGCE.json";
    let mut s = source(SourceKind::Json, url);
    s.json = Some(json_paths("data.list", "TITLE", "URL", None));
    let err = extract_list(
        &s,
        &page(url, "govcn_zuixinzhengce.json"),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ExtractError::PathNotFound { .. }), "{err}");

    s.json = Some(json_paths("0", "TITLE", "URL", None));
    let err = extract_list(
        &s,
        &page(url, "govcn_zuixinzhengce.json"),
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "JSON path `0` is an object, expected an array of items"
    );

    let mut broken = page(url, "govcn_zuixinzhengce.json");
    broken.text = broken.text.chars().take(40).collect();
    let err = extract_list(&s, &broken, &Limits::default()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("malformed JSON: line 2, column"),
        "{err}"
    );
}

// ---- Feeds ------------------------------------------------------------------

#[test]
fn rss2_items_carry_content_encoded_guid_author_and_decoded_titles() {
    let url = "https://guancha.gmw.cn/rss.xml";
    let items = extract_list(
        &source(SourceKind::Feed, url),
        &page(url, "rss2_content_encoded.xml"),
        &Limits::default(),
    )
    .unwrap()
    .items;
    assert_eq!(items.len(), 2);
    let a = &items[0];
    assert_eq!(a.title, "期待更多举措，打破“年龄门槛”");
    assert_eq!(
        a.url.as_str(),
        "https://guancha.gmw.cn/2025-06/20/content_38100001.htm"
    );
    assert_eq!(a.guid.as_deref(), Some("gmw-38100001"));
    assert_eq!(a.published, Some(bj(2025, 6, 20, 8, 30, 0)));
    assert_eq!(a.author.as_deref(), Some("王五"));
    assert!(a.content.as_deref().unwrap().contains("破除就业年龄歧视"));
    assert!(a.summary.as_deref().unwrap().contains("35岁门槛"));
    let b = &items[1];
    assert_eq!(b.guid, None, "no <guid>: no invented id");
    assert_eq!(
        b.published,
        Some(bj(2025, 6, 19, 16, 0, 0)),
        "bare pubDate is Beijing time"
    );
    assert_eq!(b.content, None, "a short description is only a summary");
}

#[test]
fn a_gbk_rss_feed_decoded_by_fetch_parses_without_double_decoding() {
    let url = "http://rsj.nanjing.gov.cn/rss.xml";
    let p = page(url, "gbk_rss.xml");
    assert_eq!(p.encoding, "GB18030", "the fixture really is GBK");
    let items = extract_list(&source(SourceKind::Feed, url), &p, &Limits::default())
        .unwrap()
        .items;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].title, "南京市发布2025年就业见习岗位募集计划");
    assert_eq!(items[0].published, Some(bj(2025, 6, 20, 10, 30, 0)));
}

#[test]
fn atom_entries_use_the_alternate_link_and_keep_their_id() {
    let url = "https://example.org/atom.xml";
    let items = extract_list(
        &source(SourceKind::Feed, url),
        &page(url, "atom.xml"),
        &Limits::default(),
    )
    .unwrap()
    .items;
    assert_eq!(items.len(), 1);
    let e = &items[0];
    assert_eq!(
        e.url.as_str(),
        "https://example.org/world/2025/06/20/uk.html"
    );
    assert_eq!(e.guid.as_deref(), Some("tag:example.org,2025:entry-1"));
    assert_eq!(e.title, "英国政府严打非法务工产业链");
    assert_eq!(
        e.published,
        Some(bj(2025, 6, 20, 16, 0, 0)),
        "updated stands in for published"
    );
    assert_eq!(e.author.as_deref(), Some("国际部"));
    assert_eq!(
        e.content.as_deref(),
        Some("<p>英国内政部宣布新一轮执法行动。</p>")
    );
}

#[test]
fn json_feed_items_are_read_like_any_feed() {
    let url = "https://example.org/feed.json";
    let items = extract_list(
        &source(SourceKind::Feed, url),
        &page(url, "jsonfeed.json"),
        &Limits::default(),
    )
    .unwrap()
    .items;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].guid.as_deref(), Some("2025-06-20-1"));
    assert_eq!(items[0].title, "学会召开2025年度理事会");
    assert_eq!(items[0].published, Some(bj(2025, 6, 20, 15, 0, 0)));
    assert!(
        items[0]
            .content
            .as_deref()
            .unwrap()
            .contains("年度工作报告")
    );
}

#[test]
fn malformed_xml_feed_is_an_error_that_says_feed() {
    let url = "https://example.org/bad.xml";
    let err = extract_list(
        &source(SourceKind::Feed, url),
        &page(url, "malformed.xml"),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, ExtractError::Malformed { what: "feed", .. }),
        "{err:?}"
    );
}

// ---- Articles ---------------------------------------------------------------

const MOHRSS_ARTICLE: &str =
    "https://www.mohrss.gov.cn/SYrlzyhshbzb/dongtaixinwen/buneiyaowen/202506/t20250620_543210.html";

#[test]
fn mohrss_article_with_selectors_yields_clean_body_title_date_and_origin() {
    let mut s = source(SourceKind::Html, MOHRSS_LIST);
    s.article = Some(ArticleSelectors {
        content: sel("#insMainConTxt .TRS_Editor"),
        title: Some(sel(".insMainConTitle_b")),
        date: Some(sel(".insMainConTitle_c")),
        origin: Some(sel(".insMainConTitle_c")),
        remove: vec![sel(".share-bar")],
    });
    let a = extract_article(
        &s,
        &page(MOHRSS_ARTICLE, "mohrss_article.html"),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(
        a.title.as_deref(),
        Some("人社部组织开展专业技术人才管理服务改革试点工作")
    );
    assert_eq!(a.published, Some(bj(2025, 6, 20, 0, 0, 0)));
    assert_eq!(a.origin.as_deref(), Some("新华社"));
    assert!(
        a.content_html
            .contains("开展专业技术人才管理服务改革试点工作")
    );
    assert!(a.content_html.contains("<img"));
    for gone in ["<script", "<style", "share-bar", "分享到"] {
        assert!(
            !a.content_html.contains(gone),
            "{gone} left in {}",
            a.content_html
        );
    }
}

#[test]
fn mohrss_article_without_selectors_uses_the_known_template() {
    let s = source(SourceKind::Html, MOHRSS_LIST);
    let a = extract_article(
        &s,
        &page(MOHRSS_ARTICLE, "mohrss_article.html"),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(
        a.title.as_deref(),
        Some("人社部组织开展专业技术人才管理服务改革试点工作")
    );
    assert_eq!(
        a.published,
        Some(bj(2025, 6, 20, 9, 30, 0)),
        "meta PubDate first"
    );
    assert_eq!(
        a.origin.as_deref(),
        Some("新华社"),
        "an empty ContentSource meta is skipped"
    );
    assert!(a.content_html.contains("通知明确"));
    assert!(!a.content_html.contains("<script"));
    assert!(!a.content_html.contains("打印本页"));
}

#[test]
fn a_content_selector_that_stopped_matching_falls_back_to_known_containers() {
    let mut s = source(SourceKind::Html, MOHRSS_LIST);
    s.article = Some(ArticleSelectors {
        content: sel("div.new-template-body"),
        title: None,
        date: None,
        origin: None,
        remove: vec![],
    });
    let a = extract_article(
        &s,
        &page(MOHRSS_ARTICLE, "mohrss_article.html"),
        &Limits::default(),
    )
    .unwrap();
    assert!(a.content_html.contains("通知明确"));
}

#[test]
fn gov_cn_article_reads_ucap_content_and_firstpublishedtime() {
    let url = "https://www.gov.cn/zhengce/content/202506/content_7028812.htm";
    let a = extract_article(
        &source(SourceKind::Json, url),
        &page(url, "govcn_article.html"),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(
        a.title.as_deref(),
        Some("国务院办公厅关于进一步做好高校毕业生等青年就业创业工作的通知")
    );
    assert_eq!(a.published, Some(bj(2025, 6, 19, 17, 5, 23)));
    assert_eq!(a.origin.as_deref(), Some("中国政府网"));
    assert!(a.content_html.contains("高校毕业生等青年就业关系民生福祉"));
    assert!(
        !a.content_html.contains("发文机关"),
        "the metadata table is not the body"
    );
}

#[test]
fn chinanews_legacy_article_reads_left_zw_and_the_left_t_info_line() {
    let url = "https://www.chinanews.com.cn/gn/2025/06-08/10428888.shtml";
    let a = extract_article(
        &source(SourceKind::Html, url),
        &page(url, "chinanews_article.html"),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(
        a.title.as_deref(),
        Some("多地出台举措稳岗扩岗 助力高校毕业生就业")
    );
    assert_eq!(a.published, Some(bj(2025, 6, 8, 10, 30, 0)));
    assert_eq!(a.origin.as_deref(), Some("中国新闻网"));
    assert!(a.content_html.contains("宁聚计划"));
    assert!(!a.content_html.contains("<script"));
}

#[test]
fn an_unknown_template_falls_back_to_readability() {
    let url = "https://www.example.gov.cn/news/20250620/1.html";
    let paragraph = "为深入实施就业优先战略，全面落实稳就业各项政策措施，我市人力资源和社会保障部门持续加大工作力度，推动各项惠企利民政策直达快享。";
    let html = format!(
        r#"<html><head><title>我市出台稳就业措施 - 示例市政府</title></head><body>
<div class="nav"><a href="/">首页</a><a href="/news/">新闻</a></div>
<div class="main"><h2>我市出台稳就业措施</h2><div class="info">发布时间：2025-06-20 08:00　信息来源：示例市人社局</div>
<div class="text">{}</div></div>
<div class="footer">版权所有</div></body></html>"#,
        format!("<p>{paragraph}</p>").repeat(6)
    );
    let p = Page {
        url: Url::parse(url).unwrap(),
        status: 200,
        content_type: None,
        validators: Validators::default(),
        bytes: html.clone().into_bytes(),
        text: html,
        encoding: "UTF-8",
    };
    let a = extract_article(&source(SourceKind::Html, url), &p, &Limits::default()).unwrap();
    assert!(
        a.content_html.contains("就业优先战略"),
        "{}",
        a.content_html
    );
    assert!(!a.content_html.contains("版权所有"));
    assert_eq!(a.published, Some(bj(2025, 6, 20, 8, 0, 0)));
    assert_eq!(a.origin.as_deref(), Some("示例市人社局"));
    assert_eq!(a.title.as_deref(), Some("我市出台稳就业措施"));
}

#[test]
fn a_page_without_any_text_is_no_content() {
    let url = "https://www.mohrss.gov.cn/x/t20250620_1.html";
    let html = "<html><head><script>var WTKkN=1;</script></head><body></body></html>".to_string();
    let p = Page {
        url: Url::parse(url).unwrap(),
        status: 200,
        content_type: None,
        validators: Validators::default(),
        bytes: html.clone().into_bytes(),
        text: html,
        encoding: "UTF-8",
    };
    let err = extract_article(&source(SourceKind::Html, url), &p, &Limits::default()).unwrap_err();
    assert!(matches!(err, ExtractError::NoContent { .. }), "{err:?}");
}

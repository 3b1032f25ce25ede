//! Commands layer (demo): the demo outlets' documents, built once at
//! start-up, as maud templates like every page kuaibao itself serves (the
//! samples' titles and text are escaped as they are spliced in).
//!
//! Each outlet imitates its real counterpart's markup (see the comments on
//! each builder): the class names, navigation, share and print boilerplate,
//! footers and encodings are what kuaibao meets in the wild, so the demo
//! exercises the same extraction paths a real poll does.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use url::Url;

use super::articles::{SampleArticle, other_articles, sample_articles};

/// One servable document.
pub(crate) struct Doc {
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub last_modified: DateTime<FixedOffset>,
}

/// Every document of every outlet, by absolute path.
pub(crate) struct Site {
    pub docs: HashMap<String, Doc>,
    /// Sample slug → path of the page that serves it.
    pub article_paths: HashMap<String, String>,
}

pub(crate) const MOHRSS_LIST: &str = "/mohrss/SYrlzyhshbzb/dongtaixinwen/buneiyaowen/";
pub(crate) const GBK_LIST: &str = "/gbk/gddt/";
pub(crate) const GMW_RSS: &str = "/gmw/guancha/rss.xml";
pub(crate) const CNHI_ATOM: &str = "/cnhi/atom.xml";
pub(crate) const CHINANEWS_JSON: &str = "/chinanews/nodeart/list";
/// The query the real nodeart endpoint wants; the demo ignores it.
pub(crate) const CHINANEWS_QUERY: &str = "nid=113352&pgnum=1&cnt=10";

const HTML_UTF8: &str = "text/html; charset=utf-8";
/// No charset on purpose: old GBK sites leave it to `<meta>`.
const HTML_NO_CHARSET: &str = "text/html";
const JSON_UTF8: &str = "application/json; charset=utf-8";

impl Site {
    pub(crate) fn build(base: &Url) -> Site {
        let articles = sample_articles();
        let of = |section: &str| -> Vec<&SampleArticle> {
            let mut v: Vec<&SampleArticle> =
                articles.iter().filter(|a| a.section == section).collect();
            // Lists show the newest first.
            v.sort_by(|a, b| b.date.cmp(&a.date));
            v
        };
        let mut site = Site {
            docs: HashMap::new(),
            article_paths: HashMap::new(),
        };
        site.mohrss(&of("focus"));
        site.gbk(&of("regional"));
        let opinion = of("opinion");
        for a in opinion {
            if a.origin == "光明网" {
                site.gmw(base, a);
            } else {
                site.cnhi(base, a);
            }
        }
        // A general outlet: the abroad articles, and the copies and
        // off-topic news it carries too, newest first.
        let others: Vec<SampleArticle> = other_articles().iter().map(|o| o.as_sample()).collect();
        let mut general = of("abroad");
        general.extend(others.iter());
        general.sort_by(|a, b| b.date.cmp(&a.date));
        site.chinanews(base, &general);
        site
    }

    fn add(
        &mut self,
        path: String,
        content_type: &'static str,
        body: Vec<u8>,
        at: DateTime<FixedOffset>,
    ) {
        self.docs.insert(
            path,
            Doc {
                body,
                content_type,
                last_modified: at,
            },
        );
    }

    fn add_article(
        &mut self,
        a: &SampleArticle,
        path: String,
        content_type: &'static str,
        body: Vec<u8>,
    ) {
        self.article_paths.insert(a.slug.clone(), path.clone());
        self.add(path, content_type, body, a.published());
    }

    /// 人社部 (TRS CMS, UTF-8): the 部内要闻 list and its article pages.
    fn mohrss(&mut self, items: &[&SampleArticle]) {
        let mut list = Vec::new();
        for (i, a) in items.iter().enumerate() {
            let href = format!(
                "./202506/t{}_{}.html",
                a.compact_date(),
                mohrss_doc_id(a, i)
            );
            let (y, m, d, _, _) = a.date_parts();
            list.push(html! {
                "\n            "
                div.serviceMainListTabCon {
                    "\n              "
                    div.serviceMainListTxt {
                        "\n                "
                        span.serviceMainListTxtLink { a href=(href) target="_blank" title=(a.original_title) { (a.original_title) } }
                        "\n              "
                    }
                    "\n              "
                    div.organGeneralNewListTxtConTime_a { span.organMenuTxtLink { (y) "-" (m) "-" (d) } }
                    "\n            "
                }
            });
            let page = mohrss_article(a);
            let path = format!("{MOHRSS_LIST}{}", &href[2..]);
            self.add_article(a, path, HTML_UTF8, page.into_bytes());
        }
        let html = html! {
            (DOCTYPE) "\n"
            html lang="zh-CN" {
                "\n"
                head {
                    "\n" meta charset="utf-8";
                    "\n" meta http-equiv="X-UA-Compatible" content="IE=edge";
                    "\n" meta name="SiteName" content="中华人民共和国人力资源和社会保障部";
                    "\n" meta name="ColumnName" content="部内要闻";
                    "\n" title { "部内要闻_中华人民共和国人力资源和社会保障部" }
                    "\n" link rel="stylesheet" href="/mohrss/images/css/common.css";
                    "\n"
                }
                "\n"
                body {
                    "\n" (mohrss_header()) "\n"
                    div.serviceMainCon {
                        "\n  "
                        div.organLocation { "当前位置：" a href="../../../" { "首页" } " > " a href="../../" { "动态新闻" } " > " a href="./" { "部内要闻" } }
                        "\n  "
                        div.serviceMainListCon {
                            "\n    "
                            div.serviceMainListTitle { span { "部内要闻" } }
                            "\n    "
                            div.serviceMainListConType { @for entry in &list { (entry) } "\n    " }
                            "\n    "
                            div.page {
                                "\n      "
                                script { (PreEscaped(MOHRSS_PAGER_SCRIPT)) }
                                "\n      "
                                span { "共1页" } " " span { "首页" } " " span { "上一页" } " " span { "下一页" } " " span { "尾页" }
                                "\n    "
                            }
                            "\n  "
                        }
                        "\n"
                    }
                    "\n" (mohrss_footer()) "\n"
                }
                "\n"
            }
            "\n"
        }
        .into_string();
        let at = newest(items);
        self.add(
            MOHRSS_LIST.to_string(),
            HTML_UTF8,
            html.clone().into_bytes(),
            at,
        );
        self.add(
            format!("{MOHRSS_LIST}index.html"),
            HTML_UTF8,
            html.into_bytes(),
            at,
        );
    }

    /// A GBK provincial-news channel (中国劳动保障新闻网-style 各地动态 on
    /// gov.cn's TRS templates): GBK bytes, charset only in `<meta>`.
    fn gbk(&mut self, items: &[&SampleArticle]) {
        let mut list = Vec::new();
        for (i, a) in items.iter().enumerate() {
            let href = format!("./202506/t{}_{}.html", a.compact_date(), 560_101 + i);
            let (y, m, d, _, _) = a.date_parts();
            list.push(html! {
                "\n        "
                li { a href=(href) target="_blank" title=(a.original_title) { (a.original_title) } span.date { (y) "-" (m) "-" (d) } }
            });
            let path = format!("{GBK_LIST}{}", &href[2..]);
            self.add_article(a, path, HTML_NO_CHARSET, gbk_bytes(&gbk_article(a)));
        }
        let html = html! {
            (PreEscaped(XHTML_DOCTYPE)) "\n"
            html xmlns="http://www.w3.org/1999/xhtml" {
                "\n"
                head {
                    "\n" meta http-equiv="Content-Type" content="text/html; charset=gb2312";
                    "\n" meta name="lanmu" content="各地动态";
                    "\n" title { "各地动态_中国劳动保障新闻网" }
                    "\n" link href="../css/style.css" rel="stylesheet" type="text/css";
                    "\n"
                }
                "\n"
                body {
                    "\n" (gbk_header()) "\n"
                    div.main {
                        "\n  "
                        div.position { "您现在的位置：" a href="../" { "首页" } " > " a href="./" { "各地动态" } }
                        "\n  "
                        div.list-main {
                            "\n    "
                            div.list-title { "各地动态" }
                            "\n    "
                            ul.infolist { @for entry in &list { (entry) } "\n    " }
                            "\n    "
                            div.pages { "共1页  " span { "首页" } " " span { "上一页" } " " span { "下一页" } " " span { "末页" } }
                            "\n  "
                        }
                        "\n  "
                        div.list-side {
                            "\n    "
                            div.side-title { "专题专栏" }
                            "\n    "
                            ul { li { a href="../zt/jycy/" { "稳就业 促发展" } } li { a href="../zt/sbk/" { "社会保障卡一卡通" } } li { a href="../zt/ggzy/" { "根治欠薪" } } }
                            "\n  "
                        }
                        "\n"
                    }
                    "\n" (gbk_footer()) "\n"
                }
                "\n"
            }
            "\n"
        }
        .into_string();
        let at = newest(items);
        let bytes = gbk_bytes(&html);
        self.add(GBK_LIST.to_string(), HTML_NO_CHARSET, bytes.clone(), at);
        self.add(format!("{GBK_LIST}index.html"), HTML_NO_CHARSET, bytes, at);
    }

    /// 光明网 观察 as RSS 2.0 with the full body in `content:encoded`; its
    /// article page is served too, so the feed's links resolve.
    fn gmw(&mut self, base: &Url, a: &SampleArticle) {
        let (y, m, d, _, _) = a.date_parts();
        let path = format!("/gmw/guancha/{y}-{m}/{d}/content_38049876.htm");
        let link = abs(base, &path);
        let date = a.published().to_rfc2822();
        // XML through the same templates: markup escaped, the body as the
        // escaped text of `content:encoded` (which a CDATA section holds on
        // the real site; feed parsers read the two alike).
        let rss = html! {
            rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom" {
                "\n  "
                channel {
                    "\n    " title { "光明网_观察" }
                    "\n    " link { (abs(base, "/gmw/guancha/")) }
                    "\n    " atom:link href=(abs(base, GMW_RSS)) rel="self" type="application/rss+xml" {}
                    "\n    " description { "光明网 时评 观察 评论" }
                    "\n    " language { "zh-cn" }
                    "\n    " lastBuildDate { (date) }
                    "\n    " ttl { "30" }
                    "\n    "
                    item {
                        "\n      " title { (a.original_title) }
                        "\n      " link { (link) }
                        "\n      " guid isPermaLink="true" { (link) }
                        "\n      " pubDate { (date) }
                        "\n      " category { "观察" }
                        "\n      " description { (a.paragraphs[0]) }
                        "\n      " content:encoded { (paragraphs_html(a, "").into_string()) }
                        "\n    "
                    }
                    "\n  "
                }
                "\n"
            }
            "\n"
        };
        self.add(
            GMW_RSS.to_string(),
            "application/rss+xml; charset=utf-8",
            xml_document(rss),
            a.published(),
        );
        self.add_article(a, path, HTML_UTF8, gmw_article(a).into_bytes());
    }

    /// 中国医疗保险 as Atom with only a summary: the pipeline has to fetch
    /// the page and find the body without site-specific selectors.
    fn cnhi(&mut self, base: &Url, a: &SampleArticle) {
        let (y, m, d, _, _) = a.date_parts();
        let path = format!("/cnhi/news/{y}{m}/{d}/10428.html");
        let link = abs(base, &path);
        let date = a.published().to_rfc3339();
        let me = abs(base, CNHI_ATOM);
        let atom = html! {
            feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-CN" {
                "\n  " title { "中国医疗保险" }
                "\n  " subtitle { "医保政策 理论 实践" }
                "\n  " id { (me) }
                "\n  " link rel="self" type="application/atom+xml" href=(me) {}
                "\n  " updated { (date) }
                "\n  " author { name { "中国医疗保险" } }
                "\n  "
                entry {
                    "\n    " title { (a.original_title) }
                    "\n    " id { (link) }
                    "\n    " link rel="alternate" type="text/html" href=(link) {}
                    "\n    " published { (date) }
                    "\n    " updated { (date) }
                    "\n    " summary type="text" { (a.paragraphs[0]) }
                    "\n  "
                }
                "\n"
            }
            "\n"
        };
        self.add(
            CNHI_ATOM.to_string(),
            "application/atom+xml; charset=utf-8",
            xml_document(atom),
            a.published(),
        );
        self.add_article(a, path, HTML_UTF8, cnhi_article(a).into_bytes());
    }

    /// 中国新闻网 国际 as a nodeart-style JSON list; pages on chinanews'
    /// legacy `div.left_zw` template.
    fn chinanews(&mut self, base: &Url, items: &[&SampleArticle]) {
        let mut list = Vec::new();
        for (i, a) in items.iter().enumerate() {
            let (y, m, d, _, _) = a.date_parts();
            let doc_id = 10_428_156 + i;
            let path = format!("/chinanews/gj/{y}/{m}-{d}/{doc_id}.shtml");
            list.push(serde_json::json!({
                "DocID": doc_id,
                "Title": a.original_title,
                "SubTitle": "",
                "LinkUrl": abs(base, &path).as_str(),
                "PubTime": format!("{}:00", a.date),
                "Abstract": a.paragraphs[0],
                "SourceName": a.origin,
                "Author": "",
                "keyword": "",
                "allPics": [],
                "imgarray": [],
            }));
            self.add_article(a, path, HTML_UTF8, chinanews_article(a).into_bytes());
        }
        let doc = serde_json::json!({
            "status": 0,
            "data": { "list": list },
            "totalnum": items.len(),
        });
        self.add(
            CHINANEWS_JSON.to_string(),
            JSON_UTF8,
            serde_json::to_vec(&doc).expect("JSON values serialize"),
            newest(items),
        );
    }
}

/// 人社部 document ids; the second focus article keeps the id the lead's
/// brief and docs quote (`t20250618_541234`).
fn mohrss_doc_id(a: &SampleArticle, i: usize) -> usize {
    match a.slug.as_str() {
        "jobs-policy-combo" => 541_234,
        _ => 541_102 + i,
    }
}

fn newest(items: &[&SampleArticle]) -> DateTime<FixedOffset> {
    items
        .iter()
        .map(|a| a.published())
        .max()
        .expect("every outlet carries at least one article")
}

fn abs(base: &Url, path: &str) -> Url {
    base.join(path.trim_start_matches('/'))
        .expect("demo paths are valid relative URLs")
}

/// A paragraph with no closing punctuation is one of the article's
/// subheadings; outlets set those in bold.
fn is_subheading(p: &str) -> bool {
    !p.ends_with(['。', '！', '？', '：', '；', '”', '）', ')'])
}

/// The body as `<p>` paragraphs, each opened with `indent` (chinanews and
/// many TRS pages indent with full-width spaces inside the text).
fn paragraphs_html(a: &SampleArticle, indent: &str) -> Markup {
    html! {
        @for p in &a.paragraphs {
            @if is_subheading(p) {
                p { strong { (p) } } "\n"
            } @else {
                p { (indent) (p) } "\n"
            }
        }
    }
}

/// An XML document: the declaration, then the feed's markup.
fn xml_document(feed: Markup) -> Vec<u8> {
    let mut doc = String::from(XML_DECLARATION);
    doc.push('\n');
    doc.push_str(&feed.into_string());
    doc.into_bytes()
}

/// GBK bytes; the templates only use characters GBK has, which the tests
/// check by decoding.
fn gbk_bytes(s: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(s);
    debug_assert!(!unmappable, "a demo GBK page has a character GBK lacks");
    bytes.into_owned()
}

// The outlets' own fixed markup that maud cannot spell (declarations) or
// that is script and style the real pages carry: compile-time constants,
// inserted as is like the desk's stylesheet, never data.
const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="utf-8"?>"#;
const XHTML_DOCTYPE: &str = r#"<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">"#;
const MOHRSS_PAGER_SCRIPT: &str = r#"var currentPage = 0; var countPage = 1; createPageHTML(countPage, currentPage, "index", "html");"#;
const TRS_EDITOR_STYLE: &str = "\n.TRS_Editor P{margin-top:0px;margin-bottom:12px;line-height:1.8;font-family:宋体;font-size:12pt;}.TRS_Editor DIV,.TRS_Editor TD,.TRS_Editor TH,.TRS_Editor SPAN,.TRS_Editor TBODY{font-family:宋体;font-size:12pt;}\n";

fn mohrss_header() -> Markup {
    html! {
        div.header {
            "\n  "
            div.headerTop { span.headerTopDate {} a href="/mohrss/SYrlzyhshbzb/wzdt/" { "网站地图" } " | " a href="/mohrss/SYrlzyhshbzb/zwgk/" { "政务公开" } " | " a href="https://wza.mohrss.gov.cn/" { "无障碍" } " | " a href="/mohrss/EnglishEdition/" { "English" } }
            "\n  "
            div.headerLogo { a href="/mohrss/" { img src="/mohrss/images/mohrss/logo.png" alt="中华人民共和国人力资源和社会保障部"; } }
            "\n  "
            div.headerSearch { form action="/was5/web/search" method="get" { input type="text" name="searchword" placeholder="请输入关键字"; input type="submit" value="搜索"; } }
            "\n  "
            ul.headerNav {
                "\n    "
                li { a href="/mohrss/" { "首页" } } li { a href="/mohrss/SYrlzyhshbzb/zwgk/" { "政务公开" } } li { a href="/mohrss/SYrlzyhshbzb/fwyd/" { "政务服务" } }
                "\n    "
                li { a href="/mohrss/SYrlzyhshbzb/hdjl/" { "互动交流" } } li { a href="/mohrss/SYrlzyhshbzb/dongtaixinwen/" { "动态新闻" } } li { a href="/mohrss/SYrlzyhshbzb/zhuantizhuanlan/" { "专题专栏" } }
                "\n  "
            }
            "\n"
        }
    }
}

fn mohrss_footer() -> Markup {
    html! {
        div.footer {
            "\n  "
            div.footerLink { a href="/mohrss/SYrlzyhshbzb/lxwm/" { "联系我们" } " | " a href="/mohrss/SYrlzyhshbzb/wzsm/" { "网站声明" } " | " a href="/mohrss/SYrlzyhshbzb/wzdt/" { "网站地图" } }
            "\n  " p { "版权所有：中华人民共和国人力资源和社会保障部　主办：人力资源社会保障部办公厅" }
            "\n  " p { "地址：北京市东城区和平里中街12号　邮编：100716" }
            "\n"
        }
    }
}

/// 人社部 article page: TRS's `TRS_Editor` wraps the body, with the style
/// block the editor leaves inside it.
fn mohrss_article(a: &SampleArticle) -> String {
    let (y, m, d, hh, mm) = a.date_parts();
    let (t, o) = (&a.original_title, &a.origin);
    html! {
        (DOCTYPE) "\n"
        html lang="zh-CN" {
            "\n"
            head {
                "\n" meta charset="utf-8";
                "\n" meta http-equiv="X-UA-Compatible" content="IE=edge";
                "\n" meta name="SiteName" content="中华人民共和国人力资源和社会保障部";
                "\n" meta name="ColumnName" content="部内要闻";
                "\n" meta name="ArticleTitle" content=(t);
                "\n" meta name="PubDate" content={ (y) "-" (m) "-" (d) " " (hh) ":" (mm) };
                "\n" meta name="ContentSource" content=(o);
                "\n" title { (t) "_部内要闻_中华人民共和国人力资源和社会保障部" }
                "\n"
            }
            "\n"
            body {
                "\n" (mohrss_header()) "\n"
                div.insMain {
                    "\n  "
                    div.organLocation { "当前位置：" a href="../../../../" { "首页" } " > " a href="../../../" { "动态新闻" } " > " a href="../" { "部内要闻" } }
                    "\n  "
                    div.insMainConTitle {
                        "\n    " div.insMainConTitle_b { (t) }
                        "\n    " div.insMainConTitle_c {
                            "发布日期：" (y) "-" (m) "-" (d) "　　来源：" (o) "　　【字体："
                            a href="javascript:doZoom(18)" { "大" } " " a href="javascript:doZoom(16)" { "中" } " " a href="javascript:doZoom(14)" { "小" } "】"
                        }
                        "\n  "
                    }
                    "\n  "
                    div #insMainConTxt .insMainConTxt {
                        "\n    "
                        div.TRS_Editor { style type="text/css" { (PreEscaped(TRS_EDITOR_STYLE)) } "\n" (paragraphs_html(a, "　　")) }
                        "\n  "
                    }
                    "\n  "
                    div.insMainConShare {
                        "\n    " span { "分享到：" } a.share_weixin href="javascript:;" { "微信" } " " a.share_weibo href="javascript:;" { "微博" }
                        "\n    " span.insMainConPrint { a href="javascript:window.print()" { "【打印本页】" } " " a href="javascript:window.close()" { "【关闭窗口】" } }
                        "\n  "
                    }
                    "\n  "
                    div.insMainConRelated { span { "相关链接：" } a href="../" { "部内要闻" } " " a href="../rsxw/" { "人事新闻" } }
                    "\n"
                }
                "\n" (mohrss_footer()) "\n"
            }
            "\n"
        }
        "\n"
    }
    .into_string()
}

/// The GBK site's header (the same relative links on the list and its
/// articles, as the real templates have).
fn gbk_header() -> Markup {
    let rel = |path: &str| path.to_string();
    html! {
        div.top {
            "\n  "
            div.top-bar { a href=(rel("../")) { "首页" } " | " a href=(rel("../rss/")) { "订阅" } " | " a href=(rel("../sitemap/")) { "网站地图" } " | 中国劳动保障新闻网主办" }
            "\n  "
            div.logo { a href=(rel("../")) { img src=(rel("../images/logo.gif")) alt="中国劳动保障新闻网"; } }
            "\n  "
            ul.nav {
                "\n    "
                li { a href=(rel("../")) { "首页" } } li { a href=(rel("../yw/")) { "要闻" } } li { a href=(rel("../zc/")) { "政策" } }
                "\n    "
                li { a href=(rel("./")) { "各地动态" } } li { a href=(rel("../jy/")) { "就业" } } li { a href=(rel("../sb/")) { "社保" } } li { a href=(rel("../ld/")) { "劳动关系" } }
                "\n  "
            }
            "\n"
        }
    }
}

fn gbk_footer() -> Markup {
    html! {
        div.footer {
            "\n  "
            p { a href="../about/" { "关于我们" } " | " a href="../contact/" { "联系方式" } " | " a href="../copyright/" { "版权声明" } }
            "\n  " p { "版权所有 中国劳动保障新闻网　未经授权禁止转载、摘编、复制或建立镜像" }
            "\n"
        }
    }
}

/// A gov.cn-style TRS article page, written in Unicode here and encoded to
/// GBK when stored.
fn gbk_article(a: &SampleArticle) -> String {
    let (y, m, d, hh, mm) = a.date_parts();
    let (t, o) = (&a.original_title, &a.origin);
    let stamp = format!("{y}-{m}-{d}-{hh}:{mm}:30");
    html! {
        (PreEscaped(XHTML_DOCTYPE)) "\n"
        html xmlns="http://www.w3.org/1999/xhtml" {
            "\n"
            head {
                "\n" meta http-equiv="Content-Type" content="text/html; charset=gb2312";
                "\n" meta name="firstpublishedtime" content=(stamp);
                "\n" meta name="lastmodifiedtime" content=(stamp);
                "\n" meta name="lanmu" content="各地动态";
                "\n" meta name="keywords" content="各地动态";
                "\n" title { (t) "_各地动态_中国劳动保障新闻网" }
                "\n" link href="../../css/style.css" rel="stylesheet" type="text/css";
                "\n"
            }
            "\n"
            body {
                "\n" (gbk_header()) "\n"
                div.main {
                    "\n  "
                    div.position { "您现在的位置：" a href="../../" { "首页" } " > " a href="../" { "各地动态" } " > 正文" }
                    "\n  "
                    div.article {
                        "\n    " h1.article-title { (t) }
                        "\n    " div.article-info {
                            span.time { "发布时间：" (y) "-" (m) "-" (d) " " (hh) ":" (mm) } "　"
                            span.source { "来源：" (o) } "　"
                            span.font { "【字号：" a href="javascript:;" { "大" } " " a href="javascript:;" { "中" } " " a href="javascript:;" { "小" } "】" }
                        }
                        "\n    "
                        div #UCAP-CONTENT .article-content {
                            "\n      "
                            div class="TRS_UEDITOR trs_paper_default trs_web" { "\n" (paragraphs_html(a, "")) "      " }
                            "\n    "
                        }
                        "\n    "
                        div.article-tools { a href="javascript:window.print();" { "【打印本页】" } " " a href="javascript:window.close();" { "【关闭窗口】" } " " span { "分享到：" } a href="javascript:;" { "微信" } " " a href="javascript:;" { "微博" } }
                        "\n    " div.editor { "【责任编辑：各地动态】" }
                        "\n  "
                    }
                    "\n"
                }
                "\n" (gbk_footer()) "\n"
            }
            "\n"
        }
        "\n"
    }
    .into_string()
}

/// 光明网's current article template (`.u-title`, `.u-mainText`).
fn gmw_article(a: &SampleArticle) -> String {
    let (y, m, d, hh, mm) = a.date_parts();
    let (t, o) = (&a.original_title, &a.origin);
    html! {
        (DOCTYPE) "\n"
        html {
            "\n"
            head {
                "\n" meta charset="utf-8";
                "\n" meta name="keywords" content="年龄门槛,就业";
                "\n" meta name="description" content=(a.paragraphs[0]);
                "\n" title { (t) "_光明网" }
                "\n"
            }
            "\n"
            body {
                "\n"
                div.g-header { div.m-channel-nav { a href="https://www.gmw.cn/" { "光明网首页" } " " a href="../../" { "观察" } " " a href="../../" { "时评" } " " a href="../../" { "光明论坛" } " " a href="../../" { "光明言论" } } }
                "\n"
                div.g-main {
                    "\n  "
                    div.m-breadcrumb { "当前位置：" a href="../../" { "观察" } " > 正文" }
                    "\n  "
                    div.m-title-box {
                        "\n    " h1.u-title { (t) }
                        "\n    " div.m-con-info { span.m-con-time { (y) "-" (m) "-" (d) " " (hh) ":" (mm) } " " span.m-con-source { "来源：" (o) } }
                        "\n  "
                    }
                    "\n  "
                    div.u-mainText #articleBox { "\n" (paragraphs_html(a, "")) "  " }
                    "\n  " div.m-zbj { "[责任编辑：光明网]" }
                    "\n  " div.m-share { "分享到：" a href="javascript:;" { "微信" } " " a href="javascript:;" { "微博" } " " a href="javascript:;" { "QQ空间" } }
                    "\n"
                }
                "\n" div.g-footer { "光明网版权所有" } "\n"
            }
            "\n"
        }
        "\n"
    }
    .into_string()
}

/// A plain news template with sidebars and link lists around the body and
/// no selectors configured: generic extraction has to find
/// `div.article-content` on its own.
fn cnhi_article(a: &SampleArticle) -> String {
    let (y, m, d, hh, mm) = a.date_parts();
    let (t, o) = (&a.original_title, &a.origin);
    html! {
        (DOCTYPE) "\n"
        html lang="zh-CN" {
            "\n"
            head {
                "\n" meta charset="utf-8";
                "\n" meta name="viewport" content="width=device-width, initial-scale=1";
                "\n" title { (t) " - 中国医疗保险" }
                "\n"
            }
            "\n"
            body {
                "\n"
                header.site-header {
                    "\n  " a.logo href="/cnhi/" { "中国医疗保险" }
                    "\n  " nav.main-nav { ul { li { a href="/cnhi/" { "首页" } } li { a href="/cnhi/news/" { "要闻" } } li { a href="/cnhi/policy/" { "政策" } } li { a href="/cnhi/theory/" { "理论" } } li { a href="/cnhi/local/" { "地方" } } li { a href="/cnhi/magazine/" { "杂志" } } } }
                    "\n"
                }
                "\n"
                div.container {
                    "\n  "
                    aside.sidebar-left {
                        "\n    " h3 { "栏目导航" }
                        "\n    " ul { li { a href="/cnhi/news/" { "医保要闻" } } li { a href="/cnhi/policy/" { "政策解读" } } li { a href="/cnhi/theory/" { "理论研究" } } li { a href="/cnhi/local/" { "地方动态" } } li { a href="/cnhi/intl/" { "国际视野" } } }
                        "\n  "
                    }
                    "\n  "
                    main.article {
                        "\n    " div.breadcrumb { a href="/cnhi/" { "首页" } " > " a href="/cnhi/theory/" { "理论研究" } " > 正文" }
                        "\n    " h1 { (t) }
                        "\n    " div.info { span.time { (y) "-" (m) "-" (d) " " (hh) ":" (mm) } " " span.source { "来源：" (o) } }
                        "\n    " div.share-bar { "分享：" a href="javascript:;" { "微信" } " " a href="javascript:;" { "微博" } " " a href="javascript:window.print()" { "打印" } }
                        "\n    " div.article-content { "\n" (paragraphs_html(a, "")) "    " }
                        "\n    "
                        div.article-footer {
                            "\n      " p.copyright-note { "本文版权归中国医疗保险所有，转载请注明出处。" }
                            "\n      " div.tags { "标签：" a href="/cnhi/tag/1/" { "医保改革" } " " a href="/cnhi/tag/2/" { "药品挂网" } " " a href="/cnhi/tag/3/" { "支付方式改革" } }
                            "\n    "
                        }
                        "\n  "
                    }
                    "\n  "
                    aside.sidebar-right {
                        "\n    " h3 { "热点推荐" }
                        "\n    " ul { li { a href="/cnhi/news/" { "医保要闻" } } li { a href="/cnhi/policy/" { "政策解读" } } li { a href="/cnhi/theory/" { "理论研究" } } }
                        "\n    " h3 { "关注我们" }
                        "\n    " p { "微信公众号：中国医疗保险" }
                        "\n  "
                    }
                    "\n"
                }
                "\n"
                footer.site-footer { p { a href="/cnhi/about/" { "关于我们" } " | " a href="/cnhi/contact/" { "联系我们" } " | " a href="/cnhi/join/" { "投稿须知" } } p { "中国医疗保险 版权所有" } }
                "\n"
            }
            "\n"
        }
        "\n"
    }
    .into_string()
}

/// 中国新闻网's legacy article template: `div.left-t` carries date and
/// source separated by a full-width space; paragraphs open with two.
fn chinanews_article(a: &SampleArticle) -> String {
    let (y, m, d, hh, mm) = a.date_parts();
    let (t, o) = (&a.original_title, &a.origin);
    html! {
        (DOCTYPE) "\n"
        html {
            "\n"
            head {
                "\n" meta charset="utf-8";
                "\n" meta name="keywords" content="英国,非法务工";
                "\n" meta name="description" content=(a.paragraphs[0]);
                "\n" title { (t) "-中新网" }
                "\n"
            }
            "\n"
            body {
                "\n"
                div #navbar { a href="/chinanews/" { "首页" } " " a href="/chinanews/china/" { "时政" } " " a href="/chinanews/world/" { "国际" } " " a href="/chinanews/society/" { "社会" } " " a href="/chinanews/finance/" { "财经" } " " a href="/chinanews/scroll-news/news1.html" { "滚动" } }
                "\n"
                div.con_left #cont_1_1_2 {
                    "\n  " div #nav { "当前位置：" a href="/chinanews/" { "首页" } "→" a href="/chinanews/world/" { "国际新闻" } }
                    "\n  " h1 style="display:block; text-align:center;" { (t) }
                    "\n  " div.left-time { div.left-t style="float:left;" { (y) "年" (m) "月" (d) "日 " (hh) ":" (mm) "　来源：" (o) "　" a href="javascript:;" { "参与互动" } } }
                    "\n  " div #function_code_page {}
                    "\n  "
                    div.left_zw style="position:relative" {
                        "\n" (paragraphs_html(a, "　　"))
                        div.adEditor { div.adInContent {} }
                        "\n  "
                    }
                    "\n  " div #function_code_page_bottom {}
                    "\n  " div.share { span { "分享到：" } a href="javascript:;" { "微信" } " " a href="javascript:;" { "微博" } }
                    "\n  " div.xgxw { h4 { "相关新闻" } ul { li { a href="/chinanews/world/" { "国际新闻" } } li { a href="/chinanews/scroll-news/news1.html" { "滚动新闻" } } } }
                    "\n"
                }
                "\n" div #bottom { "本网站所刊载信息，不代表中新社和中新网观点。刊用本网站稿件，务经书面授权。" } "\n"
            }
            "\n"
        }
        "\n"
    }
    .into_string()
}

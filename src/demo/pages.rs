//! The demo outlets' documents, built once at start-up.
//!
//! Each outlet imitates its real counterpart's markup (see the comments on
//! each builder): the class names, navigation, share and print boilerplate,
//! footers and encodings are what kuaibao meets in the wild, so the demo
//! exercises the same extraction paths a real poll does.

use crate::normalize::escape_html as esc;
use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};
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
        let mut list = String::new();
        for (i, a) in items.iter().enumerate() {
            let href = format!(
                "./202506/t{}_{}.html",
                a.compact_date(),
                mohrss_doc_id(a, i)
            );
            let (y, m, d, _, _) = a.date_parts();
            list.push_str(&format!(
                r#"
            <div class="serviceMainListTabCon">
              <div class="serviceMainListTxt">
                <span class="serviceMainListTxtLink"><a href="{href}" target="_blank" title="{t}">{t}</a></span>
              </div>
              <div class="organGeneralNewListTxtConTime_a"><span class="organMenuTxtLink">{y}-{m}-{d}</span></div>
            </div>"#,
                t = esc(&a.original_title),
            ));
            let page = mohrss_article(a);
            let path = format!("{MOHRSS_LIST}{}", &href[2..]);
            self.add_article(a, path, HTML_UTF8, page.into_bytes());
        }
        let html = format!(
            r#"<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<meta name="SiteName" content="中华人民共和国人力资源和社会保障部">
<meta name="ColumnName" content="部内要闻">
<title>部内要闻_中华人民共和国人力资源和社会保障部</title>
<link rel="stylesheet" href="/mohrss/images/css/common.css">
</head>
<body>
{header}
<div class="serviceMainCon">
  <div class="organLocation">当前位置：<a href="../../../">首页</a> &gt; <a href="../../">动态新闻</a> &gt; <a href="./">部内要闻</a></div>
  <div class="serviceMainListCon">
    <div class="serviceMainListTitle"><span>部内要闻</span></div>
    <div class="serviceMainListConType">{list}
    </div>
    <div class="page">
      <script>var currentPage = 0; var countPage = 1; createPageHTML(countPage, currentPage, "index", "html");</script>
      <span>共1页</span> <span>首页</span> <span>上一页</span> <span>下一页</span> <span>尾页</span>
    </div>
  </div>
</div>
{footer}
</body>
</html>
"#,
            header = MOHRSS_HEADER,
            footer = MOHRSS_FOOTER,
        );
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
        let mut list = String::new();
        for (i, a) in items.iter().enumerate() {
            let href = format!("./202506/t{}_{}.html", a.compact_date(), 560_101 + i);
            let (y, m, d, _, _) = a.date_parts();
            list.push_str(&format!(
                "\n        <li><a href=\"{href}\" target=\"_blank\" title=\"{t}\">{t}</a><span class=\"date\">{y}-{m}-{d}</span></li>",
                t = esc(&a.original_title),
            ));
            let path = format!("{GBK_LIST}{}", &href[2..]);
            self.add_article(a, path, HTML_NO_CHARSET, gbk_bytes(&gbk_article(a)));
        }
        let html = format!(
            r#"<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<meta name="lanmu" content="各地动态">
<title>各地动态_中国劳动保障新闻网</title>
<link href="../css/style.css" rel="stylesheet" type="text/css">
</head>
<body>
{header}
<div class="main">
  <div class="position">您现在的位置：<a href="../">首页</a> &gt; <a href="./">各地动态</a></div>
  <div class="list-main">
    <div class="list-title">各地动态</div>
    <ul class="infolist">{list}
    </ul>
    <div class="pages">共1页&nbsp;&nbsp;<span>首页</span>&nbsp;<span>上一页</span>&nbsp;<span>下一页</span>&nbsp;<span>末页</span></div>
  </div>
  <div class="list-side">
    <div class="side-title">专题专栏</div>
    <ul><li><a href="../zt/jycy/">稳就业 促发展</a></li><li><a href="../zt/sbk/">社会保障卡一卡通</a></li><li><a href="../zt/ggzy/">根治欠薪</a></li></ul>
  </div>
</div>
{footer}
</body>
</html>
"#,
            header = GBK_HEADER,
            footer = GBK_FOOTER,
        );
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
        let item = format!(
            r#"    <item>
      <title>{t}</title>
      <link>{link}</link>
      <guid isPermaLink="true">{link}</guid>
      <pubDate>{date}</pubDate>
      <category>观察</category>
      <description>{summary}</description>
      <content:encoded><![CDATA[{body}]]></content:encoded>
    </item>
"#,
            t = esc(&a.original_title),
            link = esc(link.as_str()),
            date = a.published().to_rfc2822(),
            summary = esc(&a.paragraphs[0]),
            body = paragraphs_html(a, ""),
        );
        let rss = format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>光明网_观察</title>
    <link>{home}</link>
    <atom:link href="{me}" rel="self" type="application/rss+xml"/>
    <description>光明网 时评 观察 评论</description>
    <language>zh-cn</language>
    <lastBuildDate>{date}</lastBuildDate>
    <ttl>30</ttl>
{item}  </channel>
</rss>
"#,
            home = esc(abs(base, "/gmw/guancha/").as_str()),
            me = esc(abs(base, GMW_RSS).as_str()),
            date = a.published().to_rfc2822(),
        );
        self.add(
            GMW_RSS.to_string(),
            "application/rss+xml; charset=utf-8",
            rss.into_bytes(),
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
        let atom = format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-CN">
  <title>中国医疗保险</title>
  <subtitle>医保政策 理论 实践</subtitle>
  <id>{feed_id}</id>
  <link rel="self" type="application/atom+xml" href="{me}"/>
  <updated>{date}</updated>
  <author><name>中国医疗保险</name></author>
  <entry>
    <title>{t}</title>
    <id>{link}</id>
    <link rel="alternate" type="text/html" href="{link}"/>
    <published>{date}</published>
    <updated>{date}</updated>
    <summary type="text">{summary}</summary>
  </entry>
</feed>
"#,
            feed_id = esc(abs(base, CNHI_ATOM).as_str()),
            me = esc(abs(base, CNHI_ATOM).as_str()),
            date = a.published().to_rfc3339(),
            t = esc(&a.original_title),
            link = esc(link.as_str()),
            summary = esc(&a.paragraphs[0]),
        );
        self.add(
            CNHI_ATOM.to_string(),
            "application/atom+xml; charset=utf-8",
            atom.into_bytes(),
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
fn paragraphs_html(a: &SampleArticle, indent: &str) -> String {
    let mut out = String::new();
    for p in &a.paragraphs {
        if is_subheading(p) {
            out.push_str(&format!("<p><strong>{}</strong></p>\n", esc(p)));
        } else {
            out.push_str(&format!("<p>{indent}{}</p>\n", esc(p)));
        }
    }
    out
}

/// GBK bytes; the templates only use characters GBK has, which the tests
/// check by decoding.
fn gbk_bytes(s: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(s);
    debug_assert!(!unmappable, "a demo GBK page has a character GBK lacks");
    bytes.into_owned()
}

const MOHRSS_HEADER: &str = r#"<div class="header">
  <div class="headerTop"><span class="headerTopDate"></span><a href="/mohrss/SYrlzyhshbzb/wzdt/">网站地图</a> | <a href="/mohrss/SYrlzyhshbzb/zwgk/">政务公开</a> | <a href="https://wza.mohrss.gov.cn/">无障碍</a> | <a href="/mohrss/EnglishEdition/">English</a></div>
  <div class="headerLogo"><a href="/mohrss/"><img src="/mohrss/images/mohrss/logo.png" alt="中华人民共和国人力资源和社会保障部"></a></div>
  <div class="headerSearch"><form action="/was5/web/search" method="get"><input type="text" name="searchword" placeholder="请输入关键字"><input type="submit" value="搜索"></form></div>
  <ul class="headerNav">
    <li><a href="/mohrss/">首页</a></li><li><a href="/mohrss/SYrlzyhshbzb/zwgk/">政务公开</a></li><li><a href="/mohrss/SYrlzyhshbzb/fwyd/">政务服务</a></li>
    <li><a href="/mohrss/SYrlzyhshbzb/hdjl/">互动交流</a></li><li><a href="/mohrss/SYrlzyhshbzb/dongtaixinwen/">动态新闻</a></li><li><a href="/mohrss/SYrlzyhshbzb/zhuantizhuanlan/">专题专栏</a></li>
  </ul>
</div>"#;

const MOHRSS_FOOTER: &str = r#"<div class="footer">
  <div class="footerLink"><a href="/mohrss/SYrlzyhshbzb/lxwm/">联系我们</a> | <a href="/mohrss/SYrlzyhshbzb/wzsm/">网站声明</a> | <a href="/mohrss/SYrlzyhshbzb/wzdt/">网站地图</a></div>
  <p>版权所有：中华人民共和国人力资源和社会保障部　主办：人力资源社会保障部办公厅</p>
  <p>地址：北京市东城区和平里中街12号　邮编：100716</p>
</div>"#;

/// 人社部 article page: TRS's `TRS_Editor` wraps the body, with the style
/// block the editor leaves inside it.
fn mohrss_article(a: &SampleArticle) -> String {
    let (y, m, d, hh, mm) = a.date_parts();
    format!(
        r#"<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<meta name="SiteName" content="中华人民共和国人力资源和社会保障部">
<meta name="ColumnName" content="部内要闻">
<meta name="ArticleTitle" content="{t}">
<meta name="PubDate" content="{y}-{m}-{d} {hh}:{mm}">
<meta name="ContentSource" content="{o}">
<title>{t}_部内要闻_中华人民共和国人力资源和社会保障部</title>
</head>
<body>
{header}
<div class="insMain">
  <div class="organLocation">当前位置：<a href="../../../../">首页</a> &gt; <a href="../../../">动态新闻</a> &gt; <a href="../">部内要闻</a></div>
  <div class="insMainConTitle">
    <div class="insMainConTitle_b">{t}</div>
    <div class="insMainConTitle_c">发布日期：{y}-{m}-{d}　　来源：{o}　　【字体：<a href="javascript:doZoom(18)">大</a> <a href="javascript:doZoom(16)">中</a> <a href="javascript:doZoom(14)">小</a>】</div>
  </div>
  <div id="insMainConTxt" class="insMainConTxt">
    <div class="TRS_Editor"><style type="text/css">
.TRS_Editor P{{margin-top:0px;margin-bottom:12px;line-height:1.8;font-family:宋体;font-size:12pt;}}.TRS_Editor DIV,.TRS_Editor TD,.TRS_Editor TH,.TRS_Editor SPAN,.TRS_Editor TBODY{{font-family:宋体;font-size:12pt;}}
</style>
{body}</div>
  </div>
  <div class="insMainConShare">
    <span>分享到：</span><a class="share_weixin" href="javascript:;">微信</a> <a class="share_weibo" href="javascript:;">微博</a>
    <span class="insMainConPrint"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></span>
  </div>
  <div class="insMainConRelated"><span>相关链接：</span><a href="../">部内要闻</a> <a href="../rsxw/">人事新闻</a></div>
</div>
{footer}
</body>
</html>
"#,
        t = esc(&a.original_title),
        o = esc(&a.origin),
        body = paragraphs_html(a, "　　"),
        header = MOHRSS_HEADER,
        footer = MOHRSS_FOOTER,
    )
}

const GBK_HEADER: &str = r#"<div class="top">
  <div class="top-bar"><a href="../">首页</a> | <a href="../rss/">订阅</a> | <a href="../sitemap/">网站地图</a> | 中国劳动保障新闻网主办</div>
  <div class="logo"><a href="../"><img src="../images/logo.gif" alt="中国劳动保障新闻网"></a></div>
  <ul class="nav">
    <li><a href="../">首页</a></li><li><a href="../yw/">要闻</a></li><li><a href="../zc/">政策</a></li>
    <li><a href="./">各地动态</a></li><li><a href="../jy/">就业</a></li><li><a href="../sb/">社保</a></li><li><a href="../ld/">劳动关系</a></li>
  </ul>
</div>"#;

const GBK_FOOTER: &str = r#"<div class="footer">
  <p><a href="../about/">关于我们</a> | <a href="../contact/">联系方式</a> | <a href="../copyright/">版权声明</a></p>
  <p>版权所有 中国劳动保障新闻网　未经授权禁止转载、摘编、复制或建立镜像</p>
</div>"#;

/// A gov.cn-style TRS article page, written in Unicode here and encoded to
/// GBK when stored.
fn gbk_article(a: &SampleArticle) -> String {
    let (y, m, d, hh, mm) = a.date_parts();
    format!(
        r#"<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<meta name="firstpublishedtime" content="{y}-{m}-{d}-{hh}:{mm}:30">
<meta name="lastmodifiedtime" content="{y}-{m}-{d}-{hh}:{mm}:30">
<meta name="lanmu" content="各地动态">
<meta name="keywords" content="各地动态">
<title>{t}_各地动态_中国劳动保障新闻网</title>
<link href="../../css/style.css" rel="stylesheet" type="text/css">
</head>
<body>
{header}
<div class="main">
  <div class="position">您现在的位置：<a href="../../">首页</a> &gt; <a href="../">各地动态</a> &gt; 正文</div>
  <div class="article">
    <h1 class="article-title">{t}</h1>
    <div class="article-info"><span class="time">发布时间：{y}-{m}-{d} {hh}:{mm}</span>　<span class="source">来源：{o}</span>　<span class="font">【字号：<a href="javascript:;">大</a> <a href="javascript:;">中</a> <a href="javascript:;">小</a>】</span></div>
    <div id="UCAP-CONTENT" class="article-content">
      <div class="TRS_UEDITOR trs_paper_default trs_web">
{body}      </div>
    </div>
    <div class="article-tools"><a href="javascript:window.print();">【打印本页】</a> <a href="javascript:window.close();">【关闭窗口】</a> <span>分享到：</span><a href="javascript:;">微信</a> <a href="javascript:;">微博</a></div>
    <div class="editor">【责任编辑：各地动态】</div>
  </div>
</div>
{footer}
</body>
</html>
"#,
        t = esc(&a.original_title),
        o = esc(&a.origin),
        body = paragraphs_html(a, ""),
        header = GBK_HEADER,
        footer = GBK_FOOTER,
    )
}

/// 光明网's current article template (`.u-title`, `.u-mainText`).
fn gmw_article(a: &SampleArticle) -> String {
    let (y, m, d, hh, mm) = a.date_parts();
    format!(
        r#"<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="keywords" content="年龄门槛,就业">
<meta name="description" content="{summary}">
<title>{t}_光明网</title>
</head>
<body>
<div class="g-header"><div class="m-channel-nav"><a href="https://www.gmw.cn/">光明网首页</a> <a href="../../">观察</a> <a href="../../">时评</a> <a href="../../">光明论坛</a> <a href="../../">光明言论</a></div></div>
<div class="g-main">
  <div class="m-breadcrumb">当前位置：<a href="../../">观察</a> &gt; 正文</div>
  <div class="m-title-box">
    <h1 class="u-title">{t}</h1>
    <div class="m-con-info"><span class="m-con-time">{y}-{m}-{d} {hh}:{mm}</span> <span class="m-con-source">来源：{o}</span></div>
  </div>
  <div class="u-mainText" id="articleBox">
{body}  </div>
  <div class="m-zbj">[责任编辑：光明网]</div>
  <div class="m-share">分享到：<a href="javascript:;">微信</a> <a href="javascript:;">微博</a> <a href="javascript:;">QQ空间</a></div>
</div>
<div class="g-footer">光明网版权所有</div>
</body>
</html>
"#,
        t = esc(&a.original_title),
        o = esc(&a.origin),
        summary = esc(&a.paragraphs[0]),
        body = paragraphs_html(a, ""),
    )
}

/// A plain news template with sidebars and link lists around the body and
/// no selectors configured: generic extraction has to find
/// `div.article-content` on its own.
fn cnhi_article(a: &SampleArticle) -> String {
    let (y, m, d, hh, mm) = a.date_parts();
    format!(
        r#"<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t} - 中国医疗保险</title>
</head>
<body>
<header class="site-header">
  <a class="logo" href="/cnhi/">中国医疗保险</a>
  <nav class="main-nav"><ul><li><a href="/cnhi/">首页</a></li><li><a href="/cnhi/news/">要闻</a></li><li><a href="/cnhi/policy/">政策</a></li><li><a href="/cnhi/theory/">理论</a></li><li><a href="/cnhi/local/">地方</a></li><li><a href="/cnhi/magazine/">杂志</a></li></ul></nav>
</header>
<div class="container">
  <aside class="sidebar-left">
    <h3>栏目导航</h3>
    <ul><li><a href="/cnhi/news/">医保要闻</a></li><li><a href="/cnhi/policy/">政策解读</a></li><li><a href="/cnhi/theory/">理论研究</a></li><li><a href="/cnhi/local/">地方动态</a></li><li><a href="/cnhi/intl/">国际视野</a></li></ul>
  </aside>
  <main class="article">
    <div class="breadcrumb"><a href="/cnhi/">首页</a> &gt; <a href="/cnhi/theory/">理论研究</a> &gt; 正文</div>
    <h1>{t}</h1>
    <div class="info"><span class="time">{y}-{m}-{d} {hh}:{mm}</span> <span class="source">来源：{o}</span></div>
    <div class="share-bar">分享：<a href="javascript:;">微信</a> <a href="javascript:;">微博</a> <a href="javascript:window.print()">打印</a></div>
    <div class="article-content">
{body}    </div>
    <div class="article-footer">
      <p class="copyright-note">本文版权归中国医疗保险所有，转载请注明出处。</p>
      <div class="tags">标签：<a href="/cnhi/tag/1/">医保改革</a> <a href="/cnhi/tag/2/">药品挂网</a> <a href="/cnhi/tag/3/">支付方式改革</a></div>
    </div>
  </main>
  <aside class="sidebar-right">
    <h3>热点推荐</h3>
    <ul><li><a href="/cnhi/news/">医保要闻</a></li><li><a href="/cnhi/policy/">政策解读</a></li><li><a href="/cnhi/theory/">理论研究</a></li></ul>
    <h3>关注我们</h3>
    <p>微信公众号：中国医疗保险</p>
  </aside>
</div>
<footer class="site-footer"><p><a href="/cnhi/about/">关于我们</a> | <a href="/cnhi/contact/">联系我们</a> | <a href="/cnhi/join/">投稿须知</a></p><p>中国医疗保险 版权所有</p></footer>
</body>
</html>
"#,
        t = esc(&a.original_title),
        o = esc(&a.origin),
        body = paragraphs_html(a, ""),
    )
}

/// 中国新闻网's legacy article template: `div.left-t` carries date and
/// source separated by a full-width space; paragraphs open with two.
fn chinanews_article(a: &SampleArticle) -> String {
    let (y, m, d, hh, mm) = a.date_parts();
    format!(
        r#"<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="keywords" content="英国,非法务工">
<meta name="description" content="{summary}">
<title>{t}-中新网</title>
</head>
<body>
<div id="navbar"><a href="/chinanews/">首页</a> <a href="/chinanews/china/">时政</a> <a href="/chinanews/world/">国际</a> <a href="/chinanews/society/">社会</a> <a href="/chinanews/finance/">财经</a> <a href="/chinanews/scroll-news/news1.html">滚动</a></div>
<div class="con_left" id="cont_1_1_2">
  <div id="nav">当前位置：<a href="/chinanews/">首页</a>→<a href="/chinanews/world/">国际新闻</a></div>
  <h1 style="display:block; text-align:center;">{t}</h1>
  <div class="left-time"><div class="left-t" style="float:left;">{y}年{m}月{d}日 {hh}:{mm}　来源：{o}　<a href="javascript:;">参与互动</a></div></div>
  <div id="function_code_page"></div>
  <div class="left_zw" style="position:relative">
{body}<div class="adEditor"><div class="adInContent"><!--画中画广告start--><!--画中画广告end--></div></div>
  </div>
  <div id="function_code_page_bottom"></div>
  <div class="share"><span>分享到：</span><a href="javascript:;">微信</a> <a href="javascript:;">微博</a></div>
  <div class="xgxw"><h4>相关新闻</h4><ul><li><a href="/chinanews/world/">国际新闻</a></li><li><a href="/chinanews/scroll-news/news1.html">滚动新闻</a></li></ul></div>
</div>
<div id="bottom">本网站所刊载信息，不代表中新社和中新网观点。刊用本网站稿件，务经书面授权。</div>
</body>
</html>
"#,
        t = esc(&a.original_title),
        o = esc(&a.origin),
        summary = esc(&a.paragraphs[0]),
        body = paragraphs_html(a, "　　"),
    )
}

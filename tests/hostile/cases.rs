//! The hostile outlets of issue 10, one `[[source]]` per case, each served
//! on its own port (kuaibao limits requests per host and port, so cases on
//! one server would queue behind each other and measure each other), plus
//! the one ordinary outlet every run carries.
//!
//! Bodies are generated once per run into `Bytes` and shared by every
//! request; pages that exist by the thousand (articles of a 200,000-entry
//! feed) are generated per request from their path instead.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use bytes::Bytes;

use super::servers::{Hits, Served, Site, Tarpit};
use crate::common::{Outlet, Reply};

/// `poll.max_new_items` of the run: no case may store more.
pub const MAX_NEW_ITEMS: usize = 50;

/// Ordinary HR news that the classifier files as in scope (checked with
/// `kuaibao classify show`), one distinct story each.
pub const NEWS: [&str; 5] = [
    "某省人力资源和社会保障厅印发通知，进一步做好高校毕业生等青年就业创业工作。",
    "某市医疗保障局启动医保异地就医直接结算扩面行动，参保职工和城乡居民异地就医可直接结算医疗保险费用。",
    "某县总工会联合人社部门举办农民工欠薪维权法律咨询活动，现场解答劳动争议和工资支付问题。",
    "某市人社局开展职业技能提升行动，为失业人员和农民工提供免费技能培训并发放培训补贴。",
    "某区劳动人事争议仲裁院推行速裁机制，劳动争议案件平均审理周期缩短至三十天。",
];

/// What a case must end in, beyond what every case must (a recorded poll
/// in bounded time, at most [`MAX_NEW_ITEMS`] new items, errors of one line).
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// Nothing more: kuaibao may store the item or refuse it.
    Bounded,
    /// A budget must bite, and the source's status text must name one of
    /// these configuration keys.
    Budget(&'static [&'static str]),
    /// At least this many items of the source are stored.
    Stores(i64),
}

/// Size or element budgets of one page.
pub const SIZE_KEYS: &[&str] = &["poll.max_article", "poll.max_elements", "poll.max_body"];
/// Budgets of one list or feed.
pub const FLOOD_KEYS: &[&str] = &["poll.max_new_items", "poll.max_list_entries"];
pub const FOREIGN_KEYS: &[&str] = &["poll.max_foreign_requests"];
/// What ends a source whose article host never answers.
pub const STALL_KEYS: &[&str] = &[
    "poll.source_deadline",
    "poll.max_foreign_requests",
    "poll.timeout",
];
pub const ELEMENT_KEYS: &[&str] = &["poll.max_elements"];

/// One hostile case, served and ready to poll.
pub struct Case {
    pub n: u32,
    pub id: String,
    pub what: &'static str,
    pub expect: Expect,
    /// The `[[source]]` table.
    pub source: String,
    /// Requests (tarpit: connections) the case's servers saw.
    pub hits: Hits,
}

/// The numbers of every case, in order.
pub const ALL: std::ops::RangeInclusive<u32> = 1..=17;

/// Serves case `n` on fresh ports and returns it.
pub async fn serve(n: u32) -> Case {
    let hits: Hits = Arc::new(AtomicUsize::new(0));
    let id = format!("c{n:02}");
    let (what, expect, source) = match n {
        1 => deep_html_article(&id, &hits, 20_000).await,
        2 => deep_full_text_feed(&id, &hits).await,
        3 => deep_generic_article(&id, &hits).await,
        4 => {
            let (_, e, s) = deep_html_article(&id, &hits, 50_000).await;
            ("article nested 50,000 levels (selectors)", e, s)
        }
        5 => huge_article(&id, &hits).await,
        6 => full_text_flood(&id, &hits).await,
        7 => foreign_flood(&id, &hits).await,
        8 => tarpit_feed(&id, &hits).await,
        9 => sibling_article(&id, &hits).await,
        10 => tiny_entry_flood(&id, &hits).await,
        11 => one_line_article(&id, &hits).await,
        12 => redirect_chains(&id, &hits).await,
        13 => tarpit_list(&id, &hits).await,
        14 => charset_switch(&id, &hits).await,
        15 => invalid_utf8_feed(&id, &hits).await,
        16 => one_character_paragraphs(&id, &hits).await,
        17 => elements_under_size_limit(&id, &hits).await,
        _ => panic!("no hostile case {n} (cases are {ALL:?})"),
    };
    Case {
        n,
        id,
        what,
        expect,
        source,
        hits,
    }
}

/// The ordinary outlet: an HTML list of five articles, served by
/// tests/common's `Outlet`. Returns its `[[source]]` table.
pub fn serve_normal(outlet: &Outlet, id: &str) -> String {
    let links: Vec<(String, String)> = NEWS
        .iter()
        .enumerate()
        .map(|(i, news)| {
            let title = format!("正常来源第{i}条消息");
            outlet.set(
                &format!("/{id}/a/{i}.html"),
                Reply::html(&article_page(&title, &format!("<p>{news}</p>"))),
            );
            (format!("/{id}/a/{i}.html"), title)
        })
        .collect();
    outlet.set(&format!("/{id}/list.html"), Reply::html(&list_page(&links)));
    html_source(id, &outlet.url(&format!("/{id}/list.html")))
}

// ---- the cases -------------------------------------------------------------

type Made = (&'static str, Expect, String);

async fn deep_html_article(id: &str, hits: &Hits, depth: usize) -> Made {
    let title = "深层嵌套的通知";
    let body = nested("div", depth, &format!("<p>{}</p>", long_news(0)));
    let site = pages(
        hits,
        vec![
            ("/list.html", Served::html(list_page(&[one_link(title)]))),
            ("/a/1.html", Served::html(article_page(title, &body))),
        ],
    )
    .await;
    (
        "article nested 20,000 <div>s around real text (selectors)",
        Expect::Bounded,
        html_source(id, &site.url("/list.html")),
    )
}

async fn deep_full_text_feed(id: &str, hits: &Hits) -> Made {
    let content = nested("div", 20_000, &format!("<p>{}</p>", long_news(1)));
    let item = format!(
        "<item><title>深层嵌套的全文条目</title><link>/a/1.html</link><guid>{id}-1</guid>\
         <pubDate>Tue, 10 Jun 2025 08:00:00 +0800</pubDate>\
         <content:encoded><![CDATA[{content}]]></content:encoded></item>"
    );
    let site = pages(hits, vec![("/feed.xml", Served::rss(rss(&item)))]).await;
    (
        "RSS content:encoded of 20,000 nested <div>s (full text)",
        Expect::Bounded,
        feed_source(id, &site.url("/feed.xml")),
    )
}

async fn deep_generic_article(id: &str, hits: &Hits) -> Made {
    let title = "通用提取的深层嵌套页面";
    // No class a known template uses: readability has to find the body.
    let inner = format!("<p>{}</p><p>{}</p><p>{}</p>", NEWS[2], NEWS[3], NEWS[4]);
    let page = format!(
        r#"<html><head><meta charset="utf-8"><title>{title}</title></head><body><h1>{title}</h1><div id="main">{}</div></body></html>"#,
        nested("div", 20_000, &inner)
    );
    let entry = format!(
        "<entry><title>{title}</title><id>urn:{id}:1</id><updated>2025-06-10T08:00:00Z</updated>\
         <link href=\"/a/1.html\"/><summary>摘要</summary></entry>"
    );
    let feed = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>测试</title><id>urn:{id}</id><updated>2025-06-10T08:00:00Z</updated>{entry}</feed>"#
    );
    let site = pages(
        hits,
        vec![
            ("/feed.xml", Served::atom(feed)),
            ("/a/1.html", Served::html(page)),
        ],
    )
    .await;
    (
        "summary-only Atom; article of 20,000 nested <div>s (generic)",
        Expect::Bounded,
        feed_source(id, &site.url("/feed.xml")),
    )
}

async fn huge_article(id: &str, hits: &Hits) -> Made {
    let title = "八兆字节的通知";
    let body = format!("<p>{}</p>{}", NEWS[0], "<p>好</p>".repeat(800_000));
    let site = pages(
        hits,
        vec![
            ("/list.html", Served::html(list_page(&[one_link(title)]))),
            ("/a/1.html", Served::html(article_page(title, &body))),
        ],
    )
    .await;
    (
        "8 MB article of 800,000 <p>",
        Expect::Budget(SIZE_KEYS),
        html_source(id, &site.url("/list.html")),
    )
}

async fn full_text_flood(id: &str, hits: &Hits) -> Made {
    let mut items = String::with_capacity(7 << 20);
    for i in 0..40_000u64 {
        // Random text: every item is a story of its own, as a flood of
        // real news would be, not copies dedup folds into one.
        items.push_str(&format!(
            "<item><title>通知{i}</title><link>/a/{i}</link><content:encoded>{}</content:encoded></item>",
            gibberish(i, 16)
        ));
    }
    let site = pages(hits, vec![("/feed.xml", Served::rss(rss(&items)))]).await;
    (
        "6 MB RSS of 40,000 full-text items",
        Expect::Budget(FLOOD_KEYS),
        feed_source(id, &site.url("/feed.xml")),
    )
}

async fn foreign_flood(id: &str, hits: &Hits) -> Made {
    // Other addresses, not just other ports: a host is foreign by any
    // reading of "host".
    let mut hosts = Vec::new();
    for h in 1..=16 {
        let site = Site::start(&format!("127.0.1.{h}"), hits.clone(), |path| {
            let i: u64 = path
                .strip_prefix("/a/")?
                .strip_suffix(".html")?
                .parse()
                .ok()?;
            Some(Served::html(generated_article(i)))
        })
        .await;
        hosts.push(site.base);
    }
    let mut items = String::with_capacity(5 << 20);
    for i in 0..40_000u64 {
        items.push_str(&format!(
            "<item><title>外站通知{i}</title><link>{}/a/{i}.html</link><description>摘要</description></item>",
            hosts[i as usize % hosts.len()]
        ));
    }
    let site = pages(hits, vec![("/feed.xml", Served::rss(rss(&items)))]).await;
    (
        "summary-only RSS, 40,000 links to 16 other hosts",
        Expect::Budget(FOREIGN_KEYS),
        feed_source(id, &site.url("/feed.xml")),
    )
}

async fn tarpit_feed(id: &str, hits: &Hits) -> Made {
    let tarpit = Tarpit::start("127.0.0.2", hits.clone()).await;
    let mut items = String::new();
    for i in 0..2_000 {
        items.push_str(&format!(
            "<item><title>无响应通知{i}</title><link>{}/a/{i}.html</link><description>摘要</description></item>",
            tarpit.base
        ));
    }
    let site = pages(hits, vec![("/feed.xml", Served::rss(rss(&items)))]).await;
    (
        "RSS of 2,000 links to a tarpit (127.0.0.2)",
        Expect::Budget(STALL_KEYS),
        feed_source(id, &site.url("/feed.xml")),
    )
}

async fn sibling_article(id: &str, hits: &Hits) -> Made {
    let title = "百万元素的通知";
    let body = format!("<p>{}</p>{}", NEWS[1], "<p>".repeat(1_000_000));
    let site = pages(
        hits,
        vec![
            ("/list.html", Served::html(list_page(&[one_link(title)]))),
            ("/a/1.html", Served::html(article_page(title, &body))),
        ],
    )
    .await;
    (
        "article of 1,000,000 sibling <p> (3 MB)",
        Expect::Budget(SIZE_KEYS),
        html_source(id, &site.url("/list.html")),
    )
}

async fn tiny_entry_flood(id: &str, hits: &Hits) -> Made {
    let mut items = String::with_capacity(8 << 20);
    for i in 0..200_000 {
        items.push_str(&format!("<item><link>/a/{i}</link></item>"));
    }
    let feed = Bytes::from(rss(&items));
    let site = Site::start("127.0.0.1", hits.clone(), move |path| {
        if path == "/feed.xml" {
            return Some(Served::rss(feed.clone()));
        }
        let i: u64 = path.strip_prefix("/a/")?.parse().ok()?;
        Some(Served::html(generated_article(i)))
    })
    .await;
    (
        "RSS of 200,000 tiny entries (7 MB), articles answer",
        Expect::Budget(FLOOD_KEYS),
        feed_source(id, &site.url("/feed.xml")),
    )
}

async fn one_line_article(id: &str, hits: &Hits) -> Made {
    let title = "一行八兆的通知";
    let empty = article_page(title, "<p></p>");
    // Just under poll.max_body (8 MiB), so today's body limit lets it
    // through and only the article budget can stop it.
    let target = (8 << 20) - 1024 - empty.len();
    let sentences = NEWS.concat();
    let mut text = sentences.repeat(target / sentences.len() + 1);
    let mut cut = target;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    let page = article_page(title, &format!("<p>{text}</p>"));
    assert!(!page.contains('\n') && page.len() < 8 << 20);
    let site = pages(
        hits,
        vec![
            ("/list.html", Served::html(list_page(&[one_link(title)]))),
            ("/a/1.html", Served::html(page)),
        ],
    )
    .await;
    (
        "article of one 8 MiB line, no newline",
        Expect::Budget(SIZE_KEYS),
        html_source(id, &site.url("/list.html")),
    )
}

async fn redirect_chains(id: &str, hits: &Hits) -> Made {
    let mut items = String::new();
    for i in 0..200 {
        items.push_str(&format!(
            "<item><title>跳转通知{i}</title><link>/r/{i}/0</link><description>摘要</description></item>"
        ));
    }
    let feed = Bytes::from(rss(&items));
    let site = Site::start("127.0.0.1", hits.clone(), move |path| {
        if path == "/feed.xml" {
            return Some(Served::rss(feed.clone()));
        }
        if let Some(i) = path.strip_prefix("/a/") {
            return Some(Served::html(generated_article(i.parse().ok()?)));
        }
        let (i, hop) = path.strip_prefix("/r/")?.split_once('/')?;
        let hop: u32 = hop.parse().ok()?;
        // Five redirects: /r/i/0 → … → /r/i/4 → /a/i.
        Some(Served::redirect(if hop < 4 {
            format!("/r/{i}/{}", hop + 1)
        } else {
            format!("/a/{i}")
        }))
    })
    .await;
    (
        "RSS of 200 links, each redirected 5 times",
        Expect::Bounded,
        feed_source(id, &site.url("/feed.xml")),
    )
}

async fn tarpit_list(id: &str, hits: &Hits) -> Made {
    let tarpit = Tarpit::start("127.0.0.2", hits.clone()).await;
    let links: Vec<(String, String)> = (0..400)
        .map(|i| {
            (
                format!("{}/a/{i}.html", tarpit.base),
                format!("无响应列表第{i}条"),
            )
        })
        .collect();
    let site = pages(hits, vec![("/list.html", Served::html(list_page(&links)))]).await;
    (
        "HTML list of 400 links to a tarpit (127.0.0.2)",
        Expect::Budget(STALL_KEYS),
        html_source(id, &site.url("/list.html")),
    )
}

async fn charset_switch(id: &str, hits: &Hits) -> Made {
    let title = "中途换编码的通知";
    let half = NEWS.concat().repeat(100);
    let mut page = format!(
        r#"<html><head><meta charset="utf-8"><title>{title}</title></head><body><h1>{title}</h1><div class="info">发布日期：2025-06-10　来源：测试厅</div><div class="body"><p>{half}</p>"#
    )
    .into_bytes();
    let second = format!("<p>{half}</p></div></body></html>");
    let (gbk, _, _) = encoding_rs::GBK.encode(&second);
    page.extend_from_slice(&gbk);
    let site = pages(
        hits,
        vec![
            ("/list.html", Served::html(list_page(&[one_link(title)]))),
            // No charset in the header: the <meta> says UTF-8, half the
            // bytes are GBK.
            ("/a/1.html", Served::new("text/html", page)),
        ],
    )
    .await;
    (
        "article: <meta charset=utf-8>, second half GBK bytes",
        Expect::Bounded,
        html_source(id, &site.url("/list.html")),
    )
}

async fn invalid_utf8_feed(id: &str, hits: &Hits) -> Made {
    // A lone 0xFF, a bad continuation, a stray continuation byte and a
    // truncated three-byte sequence.
    let broken: [&[u8]; 4] = [b"\xff\xfe", b"\xc3\x28", b"\x80", b"\xe4\xb8"];
    let mut items = Vec::new();
    for (i, bad) in broken.iter().enumerate() {
        items.extend_from_slice(format!("<item><title>坏字节{i}").as_bytes());
        items.extend_from_slice(bad);
        items.extend_from_slice(
            format!(
                "</title><link>/a/{i}.html</link><guid>{id}-{i}</guid><content:encoded>{}",
                NEWS[i]
            )
            .as_bytes(),
        );
        items.extend_from_slice(bad);
        items.extend_from_slice(format!("编号{i}。</content:encoded></item>").as_bytes());
    }
    let mut feed = rss("").into_bytes();
    let at = feed
        .windows(b"</channel>".len())
        .position(|w| w == b"</channel>")
        .expect("channel end");
    feed.splice(at..at, items);
    let site = pages(hits, vec![("/feed.xml", Served::rss(feed))]).await;
    (
        "RSS declared UTF-8 with invalid UTF-8 bytes",
        Expect::Bounded,
        feed_source(id, &site.url("/feed.xml")),
    )
}

async fn one_character_paragraphs(id: &str, hits: &Hits) -> Made {
    let title = "十个单字段落";
    let site = pages(
        hits,
        vec![
            ("/list.html", Served::html(list_page(&[one_link(title)]))),
            (
                "/a/1.html",
                Served::html(article_page(title, &"<p>好</p>".repeat(10))),
            ),
        ],
    )
    .await;
    (
        "article of ten <p>好</p> (no story bands)",
        Expect::Stores(1),
        html_source(id, &site.url("/list.html")),
    )
}

async fn elements_under_size_limit(id: &str, hits: &Hits) -> Made {
    let title = "六十五万元素的通知";
    // 1.95 MB: under poll.max_article, so only the element budget can
    // refuse it (case 9's million elements cannot fit under 2 MiB).
    let body = format!("<p>{}</p>{}", NEWS[2], "<p>".repeat(650_000));
    let page = article_page(title, &body);
    assert!(page.len() < 2 << 20);
    let site = pages(
        hits,
        vec![
            ("/list.html", Served::html(list_page(&[one_link(title)]))),
            ("/a/1.html", Served::html(page)),
        ],
    )
    .await;
    (
        "article of 650,000 <p> in 1.95 MB (under max_article)",
        Expect::Budget(ELEMENT_KEYS),
        html_source(id, &site.url("/list.html")),
    )
}

// ---- building blocks -------------------------------------------------------

/// A site on 127.0.0.1 serving fixed pages.
async fn pages(hits: &Hits, pages: Vec<(&str, Served)>) -> Site {
    let pages: HashMap<String, Served> =
        pages.into_iter().map(|(p, s)| (p.to_string(), s)).collect();
    Site::start("127.0.0.1", hits.clone(), move |path| {
        pages.get(path).cloned()
    })
    .await
}

/// `content` inside `depth` nested `<tag>` elements.
fn nested(tag: &str, depth: usize, content: &str) -> String {
    format!(
        "{}{content}{}",
        format!("<{tag}>").repeat(depth),
        format!("</{tag}>").repeat(depth)
    )
}

/// Three sentences: enough text for readability (100 characters).
fn long_news(first: usize) -> String {
    (0..3).map(|k| NEWS[(first + k) % NEWS.len()]).collect()
}

/// An article page in the layout [`html_source`]'s selectors read; one
/// line, no newline.
pub fn article_page(title: &str, body: &str) -> String {
    format!(
        r#"<html><head><meta charset="utf-8"><title>{title}</title></head><body><h1>{title}</h1><div class="info">发布日期：2025-06-10　来源：测试厅</div><div class="body">{body}</div></body></html>"#
    )
}

/// The article page of generated item `i`: a story of its own.
fn generated_article(i: u64) -> String {
    article_page(
        &format!("第{i}号通知"),
        &format!(
            "<p>{}{}</p>",
            NEWS[i as usize % NEWS.len()],
            gibberish(i, 40)
        ),
    )
}

/// An HTML list page of (href, title) links.
pub fn list_page(links: &[(String, String)]) -> String {
    let mut list =
        String::from("<html><head><meta charset=\"utf-8\"></head><body><ul class=\"list\">");
    for (href, title) in links {
        list.push_str(&format!(
            "<li><a href=\"{href}\">{title}</a><span>2025-06-10</span></li>"
        ));
    }
    list.push_str("</ul></body></html>");
    list
}

fn one_link(title: &str) -> (String, String) {
    ("/a/1.html".to_string(), title.to_string())
}

/// An RSS 2.0 document around `items`.
fn rss(items: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>测试</title><link>http://example.org/</link><description>测试</description>{items}</channel></rss>"#
    )
}

/// `chars` pseudo-random CJK characters, the same for the same seed.
fn gibberish(seed: u64, chars: usize) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..chars)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from_u32(0x4E00 + (x % 0x5000) as u32).expect("a CJK character")
        })
        .collect()
}

/// An HTML list source read with selectors, articles too.
pub fn html_source(id: &str, list_url: &str) -> String {
    format!(
        "[[source]]\nid = \"{id}\"\nname = \"{id}\"\nurl = \"{list_url}\"\nkind = \"html\"\nsection = \"regional\"\n\
         [source.list]\nitem = \"ul.list li\"\nlink = \"a@href\"\ntitle = \"a\"\ndate = \"span\"\n\
         [source.article]\ncontent = \"div.body\"\norigin = \"div.info\"\n\n"
    )
}

/// A feed source; articles, when fetched, go through the generic path.
fn feed_source(id: &str, url: &str) -> String {
    format!(
        "[[source]]\nid = \"{id}\"\nname = \"{id}\"\nurl = \"{url}\"\nkind = \"feed\"\nsection = \"regional\"\n\n"
    )
}

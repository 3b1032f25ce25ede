//! Synthetic outlets for the benchmarks: N sources, each on its own
//! loopback address (127.0.1.x) like separate outlets. Even-numbered ones
//! are HTML lists whose articles are fetched one by one; odd ones are RSS
//! feeds carrying full text ([`start_html`]: every one an HTML list, the
//! workload of issue 15's first-poll figure). Bodies are ~1,500 characters of Chinese text
//! drawn deterministically from a pool of common characters, so every
//! article is distinct and realistic in length.
//!
//! With `rotate_every`, each list shows a window of items that slides by
//! `new_per_rotation` items every period: the outlet keeps publishing, as
//! the daemon benchmark needs.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, Response};

const POOL: &str = "就业社会保障人力资源养老医疗失业工伤保险政策通知部门企业职工劳动者技能培训岗位服务工资农民工人才职称改革试点工作推进落实加强完善制度管理省市县区地方国家中央推动发展提升保障服务平台数据信息系统建设机制协同创新经济市场稳定增长支持资金补贴贷款银行规模重点群体高校毕业生青年";

pub fn synthetic_text(seed: u64, chars: usize) -> String {
    let pool: Vec<char> = POOL.chars().collect();
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut out = String::new();
    for i in 0..chars {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push(pool[(x % pool.len() as u64) as usize]);
        if i % 37 == 36 {
            out.push('，');
        }
        if i % 150 == 149 {
            out.push_str("。</p><p>");
        }
    }
    out
}

/// One synthetic outlet.
pub struct Outlet {
    pub index: usize,
    pub items: usize,
    /// An HTML list whatever its index.
    pub html_only: bool,
    /// Sends an ETag with every page and answers a matching
    /// If-None-Match with 304 (off: every request gets the full body).
    pub validators: bool,
    pub rotate_every: Option<Duration>,
    pub new_per_rotation: usize,
    started: Instant,
}

impl Outlet {
    pub fn new(
        index: usize,
        items: usize,
        rotate_every: Option<Duration>,
        new_per_rotation: usize,
    ) -> Outlet {
        Outlet {
            index,
            items,
            html_only: false,
            validators: false,
            rotate_every,
            new_per_rotation,
            started: Instant::now(),
        }
    }

    pub fn is_html(&self) -> bool {
        self.html_only || self.index.is_multiple_of(2)
    }

    /// The ids of the items the list shows now, newest first.
    fn window(&self) -> std::ops::Range<usize> {
        let shift = match self.rotate_every {
            Some(period) => {
                (self.started.elapsed().as_secs_f64() / period.as_secs_f64()) as usize
                    * self.new_per_rotation
            }
            None => 0,
        };
        shift..shift + self.items
    }

    fn article(&self, n: usize) -> String {
        let i = self.index;
        let day = n % 28 + 1;
        let body = synthetic_text((i * 100_000 + n) as u64, 1500);
        format!(
            "<html><head><meta charset=\"utf-8\"></head><body><div class=\"nav\">首页</div><h1>第{i}源第{n}篇</h1><div class=\"info\">发布日期：2025-06-{day:02} 来源：第{i}省人社厅</div><div class=\"TRS_Editor\"><p>{body}</p></div><div class=\"foot\">版权所有</div></body></html>"
        )
    }

    fn list(&self) -> String {
        let i = self.index;
        let mut list =
            String::from("<html><head><meta charset=\"utf-8\"></head><body><ul class=\"list\">");
        for n in self.window().rev() {
            let day = n % 28 + 1;
            list.push_str(&format!(
                "<li><a href=\"/art/t202506{day:02}_{i}_{n}.html\">第{i}源第{n}篇 人社政策动态</a><span class=\"date\">2025-06-{day:02}</span></li>"
            ));
        }
        list.push_str("</ul></body></html>");
        list
    }

    fn feed(&self) -> String {
        let i = self.index;
        let mut rss = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel><title>synthetic</title><link>http://example.org/</link><description>d</description>",
        );
        for n in self.window().rev() {
            let body = synthetic_text((i * 100_000 + n) as u64, 1500);
            rss.push_str(&format!(
                "<item><title>第{i}源第{n}条评论</title><link>http://example.org/{i}/c/{n}.html</link><guid>s{i}-{n}</guid><pubDate>Tue, 10 Jun 2025 08:{:02}:00 +0800</pubDate><content:encoded><![CDATA[<p>{body}</p>]]></content:encoded></item>",
                n % 60
            ));
        }
        rss.push_str("</channel></rss>");
        rss
    }

    pub fn answer(&self, path: &str) -> Option<(&'static str, String)> {
        if path == "/list.html" && self.is_html() {
            return Some(("text/html; charset=utf-8", self.list()));
        }
        if path == "/feed.xml" && !self.is_html() {
            return Some(("application/rss+xml", self.feed()));
        }
        let n = path
            .strip_prefix("/art/")?
            .strip_suffix(".html")?
            .rsplit('_')
            .next()?
            .parse()
            .ok()?;
        Some(("text/html; charset=utf-8", self.article(n)))
    }

    /// The `[[source]]` table for this outlet served at `addr`.
    pub fn source_toml(&self, addr: SocketAddr, interval: &str) -> String {
        let i = self.index;
        if self.is_html() {
            format!(
                "[[source]]\nid = \"s{i}\"\nname = \"第{i}省人社厅\"\nurl = \"http://{addr}/list.html\"\nkind = \"html\"\nsection = \"regional\"\ninterval = \"{interval}\"\n[source.list]\nitem = \"ul.list li\"\nlink = \"a@href\"\ntitle = \"a\"\ndate = \"span.date\"\n[source.article]\ncontent = \".TRS_Editor\"\norigin = \".info\"\n\n"
            )
        } else {
            format!(
                "[[source]]\nid = \"s{i}\"\nname = \"评论{i}\"\nurl = \"http://{addr}/feed.xml\"\nkind = \"feed\"\nsection = \"opinion\"\ninterval = \"{interval}\"\n\n"
            )
        }
    }
}

/// Serves `outlet` on its own loopback address; returns where.
pub async fn serve(outlet: Arc<Outlet>) -> SocketAddr {
    let i = outlet.index;
    let ip = [127, 0, 1 + (i / 250) as u8, (i % 250 + 1) as u8];
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((ip, 0)))
        .await
        .expect("bind a loopback address");
    let local = listener.local_addr().expect("local addr");
    let app = axum::Router::new().fallback(move |req: Request<Body>| {
        let outlet = outlet.clone();
        async move {
            match outlet.answer(req.uri().path()) {
                Some((ctype, body)) if outlet.validators => {
                    let etag = format!("\"{:016x}\"", kuaibao::text::fnv1a(body.as_bytes()));
                    let matches = req
                        .headers()
                        .get("if-none-match")
                        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
                    let builder = Response::builder().header("etag", &etag);
                    if matches {
                        builder.status(304).body(Body::empty()).unwrap_or_default()
                    } else {
                        builder
                            .header("content-type", ctype)
                            .body(Body::from(body))
                            .unwrap_or_default()
                    }
                }
                found => reply(found),
            }
        }
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    local
}

/// A found document with its type, or 404.
pub fn reply(found: Option<(&str, String)>) -> Response<Body> {
    match found {
        Some((ctype, body)) => Response::builder()
            .header("content-type", ctype)
            .body(Body::from(body))
            .unwrap_or_default(),
        None => Response::builder()
            .status(404)
            .body(Body::empty())
            .unwrap_or_default(),
    }
}

/// Starts `n` outlets; returns the sources file for them.
pub async fn start(
    n: usize,
    items: usize,
    rotate_every: Option<Duration>,
    new_per_rotation: usize,
    interval: &str,
) -> String {
    start_outlets(n, items, rotate_every, new_per_rotation, interval, false).await
}

/// Starts `n` outlets that are all HTML lists (each list plus `items`
/// article pages: `n × (items + 1)` requests on a first poll).
pub async fn start_html(n: usize, items: usize, interval: &str) -> String {
    start_outlets(n, items, None, 0, interval, true).await
}

async fn start_outlets(
    n: usize,
    items: usize,
    rotate_every: Option<Duration>,
    new_per_rotation: usize,
    interval: &str,
    html_only: bool,
) -> String {
    let mut sources = String::new();
    for index in 0..n {
        let mut outlet = Outlet::new(index, items, rotate_every, new_per_rotation);
        outlet.html_only = html_only;
        let outlet = Arc::new(outlet);
        let addr = serve(outlet.clone()).await;
        sources.push_str(&outlet.source_toml(addr, interval));
    }
    sources
}

/// Resource use of this process or its reaped children, from getrusage.
pub enum Who {
    Self_,
    Children,
}

fn rusage(who: Who) -> libc::rusage {
    let who = match who {
        Who::Self_ => libc::RUSAGE_SELF,
        Who::Children => libc::RUSAGE_CHILDREN,
    };
    // SAFETY: getrusage only writes the struct we hand it.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut usage);
        usage
    }
}

/// User + system CPU milliseconds so far.
pub fn cpu_ms(who: Who) -> f64 {
    let u = rusage(who);
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
    ms(u.ru_utime) + ms(u.ru_stime)
}

/// Peak resident memory in KiB (of the largest child, for `Children`).
pub fn peak_rss_kib(who: Who) -> i64 {
    rusage(who).ru_maxrss
}

/// The number after `name` on the command line, else `default`.
pub fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `kuaibao` binary a benchmark runs: this build's, or another build
/// named by `KUAIBAO_BENCH_BIN` (an older commit, for a before/after on
/// one machine).
pub fn kuaibao_bin() -> String {
    std::env::var("KUAIBAO_BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_kuaibao").to_string())
}

//! Poll + publish wall time and peak memory, measured on the real binary.
//!
//! `cargo bench --bench pipeline` serves outlets in this process on
//! 127.0.0.x and runs `kuaibao poll --force` then `kuaibao publish` as child
//! processes against them, reporting wall time and the children's peak
//! resident memory (getrusage RUSAGE_CHILDREN). Two workloads:
//!
//! - the demo outlets (the articles of the sample bulletin);
//! - N synthetic sources (default 200) of M items each (default 20), each on
//!   its own loopback address like separate outlets: half HTML lists whose
//!   20 articles are fetched one by one, half RSS feeds carrying full text.
//!   Article bodies are ~1,500 characters of Chinese text drawn
//!   deterministically from a pool of common characters.
//!
//! Options: `--sources N --items M`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, Response};

const POOL: &str = "就业社会保障人力资源养老医疗失业工伤保险政策通知部门企业职工劳动者技能培训岗位服务工资农民工人才职称改革试点工作推进落实加强完善制度管理省市县区地方国家中央推动发展提升保障服务平台数据信息系统建设机制协同创新经济市场稳定增长支持资金补贴贷款银行规模重点群体高校毕业生青年";

fn synthetic_text(seed: u64, chars: usize) -> String {
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

struct Site {
    pages: HashMap<String, (String, String)>,
}

async fn serve(addr: SocketAddr, site: Arc<Site>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .expect("bind loopback address");
    let local = listener.local_addr().expect("local addr");
    let app = axum::Router::new().fallback(move |req: Request<Body>| {
        let site = site.clone();
        async move {
            match site.pages.get(req.uri().path()) {
                Some((ctype, body)) => Response::builder()
                    .header("content-type", ctype.as_str())
                    .body(Body::from(body.clone()))
                    .unwrap_or_default(),
                None => Response::builder()
                    .status(404)
                    .body(Body::empty())
                    .unwrap_or_default(),
            }
        }
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    local
}

fn synthetic_site(index: usize, items: usize, base: &str) -> Site {
    let mut pages = HashMap::new();
    if index.is_multiple_of(2) {
        let mut list =
            String::from("<html><head><meta charset=\"utf-8\"></head><body><ul class=\"list\">");
        for n in 0..items {
            let path = format!("/art/2025/06/t202506{:02}_{index}_{n}.html", n % 28 + 1);
            list.push_str(&format!(
                "<li><a href=\"{path}\">第{index}源第{n}篇 人社政策动态</a><span class=\"date\">2025-06-{:02}</span></li>",
                n % 28 + 1
            ));
            let body = synthetic_text((index * 1000 + n) as u64, 1500);
            pages.insert(
                path,
                (
                    "text/html; charset=utf-8".to_string(),
                    format!(
                        "<html><head><meta charset=\"utf-8\"></head><body><div class=\"nav\">首页</div><h1>第{index}源第{n}篇</h1><div class=\"info\">发布日期：2025-06-{:02} 来源：第{index}省人社厅</div><div class=\"TRS_Editor\"><p>{body}</p></div><div class=\"foot\">版权所有</div></body></html>",
                        n % 28 + 1
                    ),
                ),
            );
        }
        list.push_str("</ul></body></html>");
        pages.insert(
            "/list.html".into(),
            ("text/html; charset=utf-8".into(), list),
        );
    } else {
        let mut rss = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel><title>synthetic</title><link>http://example.org/</link><description>d</description>",
        );
        for n in 0..items {
            let body = synthetic_text((index * 1000 + n) as u64, 1500);
            rss.push_str(&format!(
                "<item><title>第{index}源第{n}条评论</title><link>{base}/c/{n}.html</link><guid>s{index}-{n}</guid><pubDate>Tue, 10 Jun 2025 08:{:02}:00 +0800</pubDate><content:encoded><![CDATA[<p>{body}</p>]]></content:encoded></item>",
                n % 60
            ));
        }
        rss.push_str("</channel></rss>");
        pages.insert("/feed.xml".into(), ("application/rss+xml".into(), rss));
    }
    Site { pages }
}

fn sources_toml(sites: &[(usize, SocketAddr)]) -> String {
    let mut out = String::new();
    for (index, addr) in sites {
        if index.is_multiple_of(2) {
            out.push_str(&format!(
                "[[source]]\nid = \"s{index}\"\nname = \"第{index}省人社厅\"\nurl = \"http://{addr}/list.html\"\nkind = \"html\"\nsection = \"regional\"\n[source.list]\nitem = \"ul.list li\"\nlink = \"a@href\"\ntitle = \"a\"\ndate = \"span.date\"\n[source.article]\ncontent = \".TRS_Editor\"\norigin = \".info\"\n\n"
            ));
        } else {
            out.push_str(&format!(
                "[[source]]\nid = \"s{index}\"\nname = \"评论{index}\"\nurl = \"http://{addr}/feed.xml\"\nkind = \"feed\"\nsection = \"opinion\"\n\n"
            ));
        }
    }
    out
}

struct Measured {
    wall_ms: u128,
    items: String,
}

fn run(bin: &str, config: &Path, args: &[&str]) -> Measured {
    let started = Instant::now();
    let out = Command::new(bin)
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("run kuaibao");
    let wall_ms = started.elapsed().as_millis();
    assert!(
        out.status.success(),
        "kuaibao {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let items = stdout.lines().last().unwrap_or_default().to_string();
    Measured { wall_ms, items }
}

fn peak_rss_kib_of_children() -> i64 {
    // SAFETY: getrusage only writes the struct we hand it.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage.ru_maxrss
    }
}

fn workload(name: &str, sources: &str) {
    let bin = env!("CARGO_BIN_EXE_kuaibao");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("sources.toml"), sources).expect("write sources");
    std::fs::write(
        dir.path().join("kuaibao.toml"),
        "sources = \"sources.toml\"\n[poll]\nallow_private = true\n[review]\nmode = \"auto\"\n",
    )
    .expect("write config");
    let config = dir.path().join("kuaibao.toml");
    let out = dir.path().join("public");
    let out_arg = out.to_string_lossy().to_string();
    let started = Instant::now();
    let poll = run(bin, &config, &["poll", "--force"]);
    let publish = run(bin, &config, &["publish", "--out", &out_arg]);
    let total = started.elapsed().as_millis();
    println!(
        "{name}: poll {} ms, publish {} ms, total {} ms; peak RSS of any child so far {:.1} MiB\n  poll: {}\n  publish: {}",
        poll.wall_ms,
        publish.wall_ms,
        total,
        peak_rss_kib_of_children() as f64 / 1024.0,
        poll.items,
        publish.items
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let n_sources = arg("--sources", 200);
    let n_items = arg("--items", 20);
    let rt = tokio::runtime::Runtime::new().expect("runtime");

    let outlets = rt
        .block_on(kuaibao::demo::start_outlets(SocketAddr::from((
            [127, 0, 0, 1],
            0,
        ))))
        .expect("demo outlets");
    workload("demo outlets", &outlets.sources_toml());

    let mut sites = Vec::new();
    for index in 0..n_sources {
        let ip = [127, 0, 1 + (index / 250) as u8, (index % 250 + 1) as u8];
        let addr = SocketAddr::from((ip, 0));
        let base = format!("http://{}", SocketAddr::from((ip, 0)));
        let site = Arc::new(synthetic_site(index, n_items, &base));
        let bound = rt.block_on(serve(addr, site));
        sites.push((index, bound));
    }
    workload(
        &format!("{n_sources} synthetic sources × {n_items} items"),
        &sources_toml(&sites),
    );
}

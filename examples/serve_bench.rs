//! Benchmark fixture for the serving side of publish (`benches/serve.sh`):
//! a store of synthetic published items (realistic Chinese articles), the
//! `kuaibao serve` router in front of it, and the exact `all.xml` bytes
//! written out so nginx can serve the same document statically.
//!
//! Usage: `serve_bench <workdir> [items]`. Prints `port=<port>`,
//! `etag=<etag>` and `file=<path>` lines, then serves until killed.

use std::sync::{Arc, Mutex};

use chrono::{Duration, TimeZone};
use kuaibao::config::Config;
use kuaibao::metrics::Metrics;
use kuaibao::model::NewItem;
use kuaibao::serve::{self, ServeState};
use kuaibao::store::{Status, Store};
use kuaibao::time::beijing;

/// The allocator of the `kuaibao` binary (src/main.rs), which this stands in for.
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const PARAGRAPH: &str = "为深入贯彻落实党中央、国务院关于稳就业的决策部署，人力资源社会保障部会同有关部门近日印发通知，\
要求各地进一步加大就业服务力度，聚焦高校毕业生、农民工、退役军人等重点群体，持续开展公共就业服务进校园、\
进社区活动，落实一次性扩岗补助、社会保险补贴等政策，推动政策直达快享、免申即享。通知强调，要健全就业困难\
人员帮扶机制，开发公益性岗位托底安置，确保零就业家庭动态清零。";

fn body(n: usize) -> String {
    // ~1,500 characters, as a typical bulletin article.
    let mut html = String::new();
    for i in 0..7 {
        html.push_str(&format!("<p>（{n}-{i}）{PARAGRAPH}</p>\n"));
    }
    html
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("usage: serve_bench <workdir> [items]"));
    let items: usize = args.next().map_or(100, |s| s.parse().expect("items"));
    std::fs::create_dir_all(&dir).expect("workdir");
    let main = dir.join("kuaibao.toml");
    std::fs::write(
        &main,
        "title = \"南京人力资源和社会保障学会信息快报\"\nbase_url = \"http://127.0.0.1/\"\n\
         sources = \"sources.toml\"\n\n[review]\nmode = \"auto\"\n\n[publish]\nentries = 100\n",
    )
    .expect("config");
    std::fs::write(
        dir.join("sources.toml"),
        "[[source]]\nid = \"mohrss\"\nname = \"人力资源社会保障部\"\n\
         url = \"https://www.mohrss.gov.cn/\"\nkind = \"feed\"\n",
    )
    .expect("sources");
    let _ = std::fs::remove_file(dir.join("kuaibao.db"));
    let config = Arc::new(Config::load(&main).expect("config loads"));
    let mut store = Store::open(&config.storage.database).expect("store");
    store.sync_sources(&config.sources).expect("sources");
    let start = beijing()
        .with_ymd_and_hms(2025, 9, 1, 9, 0, 0)
        .single()
        .expect("date");
    let sections = ["focus", "regional", "opinion", "abroad"];
    for n in 0..items {
        let html = body(n);
        let item = NewItem {
            source_id: "mohrss".into(),
            guid: None,
            url: format!("https://www.mohrss.gov.cn/xw/{n}.html"),
            canonical_url: format!("http://mohrss.gov.cn/xw/{n}.html"),
            title: format!("人力资源社会保障部印发通知部署做好重点群体就业工作（{n}）"),
            content_html: kuaibao::normalize::sanitize_html(
                &html,
                &url::Url::parse("https://www.mohrss.gov.cn/xw/").expect("url"),
            ),
            content_text: html,
            content_hash: format!("bench-{n}"),
            origin: "人力资源社会保障部".into(),
            section: Some(sections[n % sections.len()].into()),
            region: None,
            published: Some((start + Duration::hours(n as i64 * 7)).fixed_offset()),
            bulletin_title: None,
            relevance: None,
            explanation: None,
        };
        kuaibao::poll::store_item(
            &mut store,
            &item,
            Status::Candidate,
            &kuaibao::dedup::DedupConfig::default(),
        )
        .expect("store item");
    }
    let store = Arc::new(Mutex::new(store));
    let state = ServeState::new(config, store, Arc::new(Metrics::new()));
    let t = std::time::Instant::now();
    state.refresh().expect("render");
    eprintln!("rendered and compressed in {:?}", t.elapsed());
    let snapshot = state.cache().snapshot();
    let doc = snapshot.get("/feeds/all.xml").expect("all.xml");
    let static_dir = dir.join("static").join("feeds");
    std::fs::create_dir_all(&static_dir).expect("static dir");
    let file = static_dir.join("all.xml");
    std::fs::write(&file, &doc.identity.body).expect("write all.xml");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    println!("port={}", listener.local_addr().expect("addr").port());
    println!("etag={}", doc.identity.etag.to_str().expect("ascii etag"));
    println!("bytes={}", doc.identity.body.len());
    println!("file={}", file.display());
    // The daemon's own accept loop and limits, so the figures are what
    // `kuaibao serve` does; the switch is never thrown (killed instead).
    let (_never, running) = tokio::sync::watch::channel(false);
    let limits =
        serve::HttpLimits::from_config(&state.config().server, std::time::Duration::from_secs(3));
    serve::serve_http(
        listener,
        serve::routes(state.clone()),
        limits,
        state.metrics().clone(),
        running,
    )
    .await;
}

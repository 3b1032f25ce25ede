//! `kuaibao demo`: the embedded default a newcomer runs first. Every article
//! of the sample bulletin comes out once, with its full text and 来源.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kuaibao::demo::sample_articles;

/// Text with every kind of whitespace removed, to compare bodies whatever
/// their paragraphing.
fn squeeze(text: &str) -> String {
    text.chars()
        .filter(|c| !kuaibao::text::is_space(*c))
        .collect()
}

fn entry_text(entry: &atom_syndication::Entry) -> String {
    let html = entry.content().and_then(|c| c.value()).unwrap_or_default();
    kuaibao::normalize::html_to_text(html)
}

#[test]
fn demo_once_publishes_every_sample_article_once_with_full_text_and_origin() {
    let out = tempfile::tempdir().expect("tempdir");
    let run = Command::new(env!("CARGO_BIN_EXE_kuaibao"))
        .args([
            "--config",
            "/nonexistent/kuaibao.toml",
            "demo",
            "--once",
            "--out",
        ])
        .arg(out.path())
        .output()
        .expect("run demo");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        !stdout.contains("failed ") && !stdout.contains("partial"),
        "{stdout}"
    );

    let all = common::check_atom(&out.path().join("feeds/all.xml"));
    let articles = sample_articles();
    assert_eq!(
        all.entries().len(),
        articles.len(),
        "one entry per article, none twice"
    );
    for article in &articles {
        let matching: Vec<_> = all
            .entries()
            .iter()
            .filter(|e| squeeze(&entry_text(e)).contains(&squeeze(&article.paragraphs[0])))
            .collect();
        assert_eq!(matching.len(), 1, "{} appears once", article.slug);
        let entry = matching[0];
        let text = squeeze(&entry_text(entry));
        for p in &article.paragraphs {
            assert!(
                text.contains(&squeeze(p)),
                "{}: paragraph missing: {p}",
                article.slug
            );
        }
        let origin = entry.source().map(|s| s.title().as_str().to_string());
        assert_eq!(
            origin.as_deref(),
            Some(article.origin.as_str()),
            "{} 来源",
            article.slug
        );
        let section = entry
            .categories()
            .iter()
            .map(|c| c.term().to_string())
            .next();
        assert_eq!(
            section.as_deref(),
            Some(article.section.as_str()),
            "{} section",
            article.slug
        );
        assert_eq!(
            squeeze(entry.title().as_str()),
            squeeze(&article.title),
            "{}: the bulletin's title",
            article.slug
        );
        let section_feed =
            common::check_atom(&out.path().join(format!("feeds/{}.xml", article.section)));
        assert!(section_feed.entries().iter().any(|e| e.id() == entry.id()));
    }
    // 中国新闻网 also carries the 人社部 talent story, retitled and abridged:
    // one entry, 人社部's own text, 中国新闻网 as a rel="via" outlet.
    let talent = all
        .entries()
        .iter()
        .find(|e| {
            e.links()
                .iter()
                .any(|l| l.href().contains("/mohrss/") && l.rel() == "alternate")
                && entry_text(e).contains("专业技术人才管理服务改革试点")
        })
        .expect("the talent story's entry");
    let via: Vec<_> = talent.links().iter().filter(|l| l.rel() == "via").collect();
    assert_eq!(via.len(), 1, "{:?}", talent.links());
    assert_eq!(via[0].title(), Some("中国新闻网"));
    assert!(via[0].href().contains("/chinanews/"));
    assert!(
        !all.entries()
            .iter()
            .any(|e| e.title().as_str().contains("人社部部署开展")),
        "the copy is not an entry of its own"
    );

    // 中国新闻网 also carries sports, weather, markets and culture: none is
    // published.
    let off_topic: Vec<_> = kuaibao::demo::other_articles()
        .into_iter()
        .filter(|o| o.kind == kuaibao::demo::OtherKind::OffTopic)
        .collect();
    assert!(off_topic.len() >= 4);
    for o in &off_topic {
        assert!(
            !all.entries()
                .iter()
                .any(|e| squeeze(&entry_text(e)).contains(&squeeze(&o.paragraphs[1]))),
            "{} is off-topic and not published",
            o.slug
        );
    }
    // `N (M off-topic)`, or `N (K maybe, M off-topic)` when some sample
    // articles are 待定.
    let n = off_topic.len();
    assert!(
        stdout.contains(&format!("({n} off-topic)"))
            || stdout.contains(&format!(", {n} off-topic)")),
        "{stdout}"
    );
    assert!(
        stdout.contains("one story, 2 outlets, one entry: 人社部组织开展专业技术人才管理服务改革试点工作 (人力资源社会保障部、中国新闻网)"),
        "{stdout}"
    );

    let opml = std::fs::read_to_string(out.path().join("feeds.opml")).expect("opml");
    assert_eq!(opml.matches("xmlUrl=").count(), 5, "{opml}");
    let index = std::fs::read_to_string(out.path().join("index.html")).expect("index");
    assert!(
        index.contains("黑龙江省人力资源和社会保障厅") || index.contains("黑龙江"),
        "index lists the GBK site's items"
    );
}

#[test]
fn demo_serves_its_feeds_over_http_until_interrupted() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kuaibao"))
        .args([
            "--config",
            "/nonexistent/kuaibao.toml",
            "demo",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn demo");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let started = Instant::now();
    let mut credentials = None;
    let base = loop {
        let line = lines
            .next()
            .expect("demo prints the serving line")
            .expect("line");
        if line.starts_with("the editors' desk:") {
            let words: Vec<&str> = line.split_whitespace().collect();
            let after = |w: &str| {
                let at = words.iter().position(|x| *x == w).expect(w);
                words[at + 1].trim_end_matches(',').to_string()
            };
            credentials = Some((after("user"), after("password")));
        }
        if let Some(rest) = line
            .split(" on ")
            .nth(1)
            .filter(|_| line.starts_with("serving"))
        {
            break rest.split_whitespace().next().expect("url").to_string();
        }
        assert!(started.elapsed() < Duration::from_secs(30));
    };
    let addr = base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
    write!(
        stream,
        "GET /feeds/all.xml HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "{}",
        &response[..response.len().min(200)]
    );
    assert!(response.contains("<feed") && response.contains(&format!("{base}feeds/all.xml")));

    // The real daemon: the desk is there, and the printed account opens it.
    let (user, password) = credentials.expect("demo prints the desk's account");
    let form = format!("name={user}&password={password}&next=%2Fdesk%2F");
    let login = http(
        &addr,
        &format!(
            "POST /desk/login HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        ),
    );
    assert!(login.starts_with("HTTP/1.1 303"), "{login}");
    let cookie = login
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie");
    let desk = http(
        &addr,
        &format!(
            "GET /desk/ HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(
        desk.starts_with("HTTP/1.1 200"),
        "{}",
        &desk[..desk.len().min(300)]
    );
    // SIGINT, as Ctrl-C would send.
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(Instant::now() < deadline, "demo stops on Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One raw HTTP/1.1 exchange; the whole response as text.
fn http(addr: &str, request: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream.write_all(request.as_bytes()).expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    response
}

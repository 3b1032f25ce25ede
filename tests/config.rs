//! The configuration contract: defaults, and errors that name file, line and
//! key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kuaibao::config::{Config, ConfigError, EncodingChoice, ReviewMode, SourceKind};

const ONE_SOURCE: &str = r#"
[[source]]
id   = "mohrss-bnyw"
name = "人力资源社会保障部"
url  = "https://www.mohrss.gov.cn/SYrlzyhshbzb/dongtaixinwen/buneiyaowen/"
kind = "html"

[source.list]
item  = "div.serviceMainListConType > div.serviceMainListTabCon"
link  = "span.serviceMainListTxtLink a@href"
title = "span.serviceMainListTxtLink a@title"
date  = "span.organMenuTxtLink"
"#;

/// Writes a main file and a sources file into a fresh directory.
fn write(main: &str, sources: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("kuaibao.toml"), main).expect("write main");
    std::fs::write(dir.path().join("sources.toml"), sources).expect("write sources");
    let path = dir.path().join("kuaibao.toml");
    (dir, path)
}

fn load(main: &str, sources: &str) -> Result<Config, ConfigError> {
    let (_dir, path) = write(main, sources);
    Config::load(&path)
}

fn error(main: &str, sources: &str) -> String {
    match load(main, sources) {
        Ok(_) => panic!("expected the config to be refused"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn only_sources_is_required_and_every_other_key_has_its_documented_default() {
    let (dir, path) = write(r#"sources = "sources.toml""#, ONE_SOURCE);
    let config = Config::load(&path).expect("valid");
    assert_eq!(config.title, "南京人力资源和社会保障学会信息快报");
    assert_eq!(config.base_url.as_str(), "http://127.0.0.1:8080/");
    assert_eq!(config.storage.database, dir.path().join("kuaibao.db"));
    assert_eq!(config.poll.interval, Duration::from_secs(30 * 60));
    assert_eq!(config.poll.timeout, Duration::from_secs(20));
    assert_eq!(config.poll.max_body, 8 * 1024 * 1024);
    assert_eq!(config.poll.concurrency, 8);
    assert_eq!(config.poll.per_host, 1);
    assert!(!config.poll.allow_private);
    assert_eq!(config.poll.max_redirects, 5);
    assert_eq!(config.review.mode, ReviewMode::Manual);
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.publish.entries, 100);
    let ids: Vec<&str> = config.sections.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["focus", "regional", "opinion", "abroad"]);
    let source = &config.sources[0];
    assert_eq!(source.kind, SourceKind::Html);
    assert_eq!(source.encoding, EncodingChoice::Auto);
    assert_eq!(source.interval, Duration::from_secs(30 * 60));
    let list = source.list.as_ref().expect("list");
    assert_eq!(list.link.attr.as_deref(), Some("href"));
    assert_eq!(list.date.as_ref().expect("date").attr, None);
}

#[test]
fn paths_are_relative_to_the_file_that_names_them() {
    let (dir, path) = write(
        "sources = \"sources.toml\"\n[storage]\ndatabase = \"../data/k.db\"\n[publish]\nout = \"site\"\n",
        ONE_SOURCE,
    );
    let config = Config::load(&path).expect("valid");
    assert_eq!(config.storage.database, dir.path().join("../data/k.db"));
    assert_eq!(config.publish.out, dir.path().join("site"));
}

#[test]
fn unknown_key_in_main_file_names_file_line_and_key() {
    let msg = error(
        "sources = \"sources.toml\"\n\n[poll]\nintervall = \"5m\"\n",
        ONE_SOURCE,
    );
    assert!(msg.contains("kuaibao.toml:4"), "{msg}");
    assert!(msg.contains("intervall"), "{msg}");
    assert!(msg.contains("expected"), "{msg}");
}

#[test]
fn unknown_key_in_a_source_names_the_sources_file_and_line() {
    let sources = ONE_SOURCE.replace("kind = \"html\"", "kind = \"html\"\nselector = \"x\"");
    let msg = error("sources = \"sources.toml\"", &sources);
    assert!(msg.contains("sources.toml:7"), "{msg}");
    assert!(msg.contains("selector"), "{msg}");
}

#[test]
fn bad_duration_names_file_line_key_and_the_expected_form() {
    let msg = error(
        "sources = \"sources.toml\"\n[poll]\ntimeout = \"twenty seconds\"\n",
        ONE_SOURCE,
    );
    assert!(msg.contains("kuaibao.toml:3"), "{msg}");
    assert!(msg.contains("poll.timeout"), "{msg}");
    assert!(msg.contains("\"30s\""), "{msg}");
}

#[test]
fn bad_source_interval_is_refused_with_its_line() {
    let sources = ONE_SOURCE.replace("kind = \"html\"", "kind = \"html\"\ninterval = \"0s\"");
    let msg = error("sources = \"sources.toml\"", &sources);
    assert!(
        msg.contains("sources.toml:7") && msg.contains("source.interval"),
        "{msg}"
    );
}

#[test]
fn duplicate_source_id_is_refused_at_the_second_occurrence() {
    let sources = format!("{ONE_SOURCE}\n{ONE_SOURCE}");
    let msg = error("sources = \"sources.toml\"", &sources);
    let second_line = sources
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("id"))
        .nth(1)
        .map(|(i, _)| i + 1);
    assert!(
        msg.contains(&format!("sources.toml:{}", second_line.expect("two ids"))),
        "{msg}"
    );
    assert!(msg.contains("duplicate source id"), "{msg}");
}

#[test]
fn invalid_css_selector_names_the_key_and_the_selector() {
    let sources = ONE_SOURCE.replace("span.organMenuTxtLink", "span[[organ");
    let msg = error("sources = \"sources.toml\"", &sources);
    assert!(msg.contains("sources.toml:12"), "{msg}");
    assert!(msg.contains("source.list.date"), "{msg}");
    assert!(msg.contains("span[[organ"), "{msg}");
}

#[test]
fn unknown_kind_lists_the_accepted_ones() {
    let sources = ONE_SOURCE.replace("kind = \"html\"", "kind = \"rss\"");
    let msg = error("sources = \"sources.toml\"", &sources);
    assert!(msg.contains("sources.toml:6"), "{msg}");
    assert!(
        msg.contains("feed") && msg.contains("html") && msg.contains("json"),
        "{msg}"
    );
}

#[test]
fn html_source_without_list_selectors_is_refused() {
    let sources = ONE_SOURCE
        .split("[source.list]")
        .next()
        .expect("head")
        .to_string();
    let msg = error("sources = \"sources.toml\"", &sources);
    assert!(msg.contains("[source.list]"), "{msg}");
}

#[test]
fn source_missing_a_required_key_says_which() {
    let sources = ONE_SOURCE.replace("name = \"人力资源社会保障部\"\n", "");
    let msg = error("sources = \"sources.toml\"", &sources);
    assert!(msg.contains("sources.toml:2"), "{msg}");
    assert!(msg.contains("name"), "{msg}");
}

#[test]
fn main_file_without_sources_is_refused() {
    let msg = error("title = \"x\"\n", ONE_SOURCE);
    assert!(
        msg.contains("kuaibao.toml") && msg.contains("sources"),
        "{msg}"
    );
}

#[test]
fn unknown_encoding_label_is_refused_and_gbk_means_gb18030() {
    let bad = ONE_SOURCE.replace("kind = \"html\"", "kind = \"html\"\nencoding = \"gbkk\"");
    let msg = error("sources = \"sources.toml\"", &bad);
    assert!(
        msg.contains("source.encoding") && msg.contains("sources.toml:7"),
        "{msg}"
    );
    let gbk = ONE_SOURCE.replace("kind = \"html\"", "kind = \"html\"\nencoding = \"gb2312\"");
    let config = load("sources = \"sources.toml\"", &gbk).expect("valid");
    assert_eq!(
        config.sources[0].encoding,
        EncodingChoice::Fixed(encoding_rs::GB18030)
    );
}

#[test]
fn source_section_must_be_a_configured_section() {
    let bad = ONE_SOURCE.replace("kind = \"html\"", "kind = \"html\"\nsection = \"sports\"");
    let msg = error("sources = \"sources.toml\"", &bad);
    assert!(
        msg.contains("source.section") && msg.contains("focus"),
        "{msg}"
    );
}

#[test]
fn bad_source_id_characters_are_refused() {
    let bad = ONE_SOURCE.replace("id   = \"mohrss-bnyw\"", "id   = \"MoHRSS bnyw\"");
    let msg = error("sources = \"sources.toml\"", &bad);
    assert!(msg.contains("[a-z0-9-]+"), "{msg}");
}

#[test]
fn toml_syntax_error_names_line_and_column() {
    let msg = error("sources = \"sources.toml\"\n[poll\n", ONE_SOURCE);
    assert!(msg.contains("kuaibao.toml:2:"), "{msg}");
}

#[test]
fn missing_sources_file_names_the_path() {
    let msg = error("sources = \"nowhere.toml\"", ONE_SOURCE);
    assert!(
        msg.contains("nowhere.toml") && msg.contains("cannot read"),
        "{msg}"
    );
}

#[test]
fn selector_attribute_suffix_is_not_confused_with_at_signs_inside_brackets() {
    let sel = kuaibao::config::FieldSelector::parse("a[href*='@']").expect("valid");
    assert_eq!(sel.attr, None);
    let sel = kuaibao::config::FieldSelector::parse("div.t a@data-href").expect("valid");
    assert_eq!(sel.attr.as_deref(), Some("data-href"));
}

#[test]
fn the_shipped_configuration_loads_and_validates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = Config::load(&root.join("config/kuaibao.toml")).expect("shipped config is valid");
    assert!(
        config.sources.len() >= 10,
        "{} sources",
        config.sources.len()
    );
    assert_eq!(config.sections.len(), 4);
}

#[test]
fn dedup_thresholds_and_window_are_read_and_a_bad_one_names_file_line_and_key() {
    let config = load(
        "sources = \"sources.toml\"\n[dedup]\nwindow = \"14d\"\ncontainment = 0.8\nenabled = false\n",
        ONE_SOURCE,
    )
    .expect("valid");
    assert_eq!(config.dedup.window_days, 14);
    assert_eq!(config.dedup.containment, 0.8);
    assert!(!config.dedup.enabled);
    assert_eq!(
        load("sources = \"sources.toml\"\n", ONE_SOURCE)
            .unwrap()
            .dedup
            .window_days,
        30
    );
    let msg = error(
        "sources = \"sources.toml\"\n[dedup]\n\njaccard = 1.5\n",
        ONE_SOURCE,
    );
    assert!(
        msg.contains("kuaibao.toml:4") && msg.contains("dedup.jaccard"),
        "{msg}"
    );
    let msg = error(
        "sources = \"sources.toml\"\n[dedup]\nwindow = \"a month\"\n",
        ONE_SOURCE,
    );
    assert!(
        msg.contains("kuaibao.toml:3") && msg.contains("dedup.window"),
        "{msg}"
    );
}

#[test]
fn a_broken_keyword_in_the_sections_file_names_its_line() {
    let (dir, path) = write(
        "sources = \"sources.toml\"\nsections = \"sections.toml\"\n",
        ONE_SOURCE,
    );
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/sections.toml"),
    )
    .expect("shipped sections");
    let broken = shipped.replacen("\"稳岗\" = 1.5", "\"稳岗\" = \"high\"", 1);
    assert_ne!(broken, shipped, "the shipped file weighs 稳岗");
    std::fs::write(dir.path().join("sections.toml"), &broken).expect("write");
    let line = broken
        .lines()
        .position(|l| l.starts_with("\"稳岗\" = \"high\""))
        .expect("the line")
        + 1;
    let msg = match Config::load(&path) {
        Ok(_) => panic!("a broken keyword is refused"),
        Err(e) => e.to_string(),
    };
    assert!(msg.contains(&format!("sections.toml:{line}")), "{msg}");
}

#[test]
fn poll_budgets_default_as_documented_and_a_bad_one_names_file_line_and_key() {
    let config = load("sources = \"sources.toml\"", ONE_SOURCE).expect("valid");
    let p = &config.poll;
    assert_eq!(
        (p.max_new_items, p.max_list_entries, p.max_foreign_requests),
        (100, 1000, 20)
    );
    assert_eq!(p.source_deadline, std::time::Duration::from_secs(300));
    assert_eq!(p.max_article, 2 * 1024 * 1024);
    assert_eq!((p.max_depth, p.max_elements), (256, 100_000));

    let zero = load(
        "sources = \"sources.toml\"\n[poll]\nmax_foreign_requests = 0\n",
        ONE_SOURCE,
    )
    .expect("zero turns other sites' articles off");
    assert_eq!(zero.poll.max_foreign_requests, 0);

    let msg = error(
        "sources = \"sources.toml\"\n[poll]\nmax_new_items = 0\n",
        ONE_SOURCE,
    );
    assert!(msg.contains("kuaibao.toml:3"), "{msg}");
    assert!(msg.contains("poll.max_new_items"), "{msg}");
    assert!(msg.contains("at least 1"), "{msg}");
    let msg = error(
        "sources = \"sources.toml\"\n[poll]\n\nsource_deadline = \"soon\"\n",
        ONE_SOURCE,
    );
    assert!(
        msg.contains("kuaibao.toml:4") && msg.contains("poll.source_deadline"),
        "{msg}"
    );
}

#[test]
fn trusted_proxies_are_networks_and_a_bad_one_names_its_line() {
    let config = load(
        "sources = \"sources.toml\"\n[server]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"::1\"]\n",
        ONE_SOURCE,
    )
    .expect("valid");
    let proxies: Vec<String> = config
        .server
        .trusted_proxies
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(proxies, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
    let msg = error(
        "sources = \"sources.toml\"\n[server]\ntrusted_proxies = [\n  \"10.0.0.0/8\",\n  \"proxy.local\",\n]\n",
        ONE_SOURCE,
    );
    assert!(msg.contains("kuaibao.toml:5"), "{msg}");
    assert!(msg.contains("server.trusted_proxies"), "{msg}");
    assert!(msg.contains("proxy.local"), "{msg}");
}

#[test]
fn storage_url_selects_postgresql_and_never_prints_its_password() {
    let config = load(
        "sources = \"sources.toml\"\n[storage]\nurl = \"postgres://kuaibao:s3cret@db.example:5432/kuaibao\"\n",
        ONE_SOURCE,
    )
    .expect("config");
    let url = config.storage.url.expect("a PostgreSQL url");
    assert_eq!(
        url.expose(),
        "postgres://kuaibao:s3cret@db.example:5432/kuaibao"
    );
    assert!(!url.to_string().contains("s3cret"), "{url}");
    assert!(!format!("{url:?}").contains("s3cret"), "{url:?}");
    let sqlite = load("sources = \"sources.toml\"\n", ONE_SOURCE).expect("config");
    assert!(sqlite.storage.url.is_none(), "SQLite stays the default");
}

#[test]
fn storage_url_and_database_together_or_a_non_postgres_url_are_refused_with_their_line() {
    let both = error(
        "sources = \"sources.toml\"\n[storage]\ndatabase = \"k.db\"\nurl = \"postgres://db/k\"\n",
        ONE_SOURCE,
    );
    assert!(both.contains("kuaibao.toml:4:"), "{both}");
    assert!(
        both.contains("storage.url") && both.contains("not both"),
        "{both}"
    );
    let mysql = error(
        "sources = \"sources.toml\"\n[storage]\nurl = \"mysql://db/k\"\n",
        ONE_SOURCE,
    );
    assert!(mysql.contains("kuaibao.toml:3:"), "{mysql}");
    assert!(mysql.contains("PostgreSQL URL"), "{mysql}");
}

//! Configuration, layer 2: reads and validates what every command is told.
//!
//! Reads the main file (`kuaibao.toml`), the sources file and the sections
//! file, validates every value and turns them into typed structures the rest
//! of the pipeline trusts. Other tools drive kuaibao through these files, so
//! an error always names the file, the line and the key, and says what was
//! expected. Paths inside a file are relative to that file.

pub mod edit;
pub mod rules;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use crate::model::Published;

/// The sections file shipped in the crate, used when the main file names none.
pub const DEFAULT_SECTIONS_TOML: &str = include_str!("../../config/sections.toml");

/// What went wrong reading a configuration file, with its location.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}:{line}: `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        key: String,
        message: String,
    },
}

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The main file this was read from.
    pub path: PathBuf,
    pub title: String,
    /// The society that hosts the bulletin, printed in every issue's
    /// masthead (`…信息`, `…主办`).
    pub society: String,
    /// Always ends with `/`.
    pub base_url: Url,
    pub storage: Storage,
    pub poll: Poll,
    pub schedule: Schedule,
    pub review: Review,
    pub server: Server,
    pub publish: Publish,
    /// Grouping of one story carried by several outlets (`[dedup]`).
    pub dedup: DedupConfig,
    pub sources: Vec<Source>,
    /// The sources file (`sources` in the main file, beside it):
    /// `sources add --write` and the desk's 来源 page edit it.
    pub sources_path: PathBuf,
    /// In bulletin order.
    pub sections: Vec<Section>,
    /// The classification rules: from the file `rules` names, else from the
    /// sections file when it has a `[relevance]` table, else built in.
    pub rules: rules::Rules,
    /// Where the rules came from (None: built in).
    pub rules_path: Option<PathBuf>,
}

/// `[dedup]`: thresholds of near-duplicate detection; see the module
/// documentation of `dedup`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
#[serde(default)]
pub struct DedupConfig {
    /// Group items into stories while polling.
    pub enabled: bool,
    /// Characters per shingle. Part of the stored fingerprint format.
    pub shingle: usize,
    /// One story when |A∩B| / min(|A|,|B|) reaches this…
    pub containment: f64,
    /// …or |A∩B| / |A∪B| reaches this (and no template check fires).
    pub jaccard: f64,
    /// Stored items this many days old or newer are candidates.
    pub window_days: u32,
    /// Bodies with fewer shingles are one story only when identical.
    pub min_shingles: usize,
    /// The figure check needs this many figures on each side…
    pub min_figures: usize,
    /// …and calls two look-alike texts different below this share of the
    /// smaller figure set in common.
    pub figures_overlap: f64,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            enabled: true,
            shingle: 5,
            containment: 0.7,
            jaccard: 0.5,
            window_days: 30,
            min_shingles: 30,
            min_figures: 2,
            figures_overlap: 0.5,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Storage {
    /// The SQLite file (the embedded default), also where the cron lock
    /// and the daemon's files sit beside it.
    pub database: PathBuf,
    /// `[storage] url`: a PostgreSQL database that many kuaibao processes
    /// share, instead of the SQLite file.
    pub url: Option<DatabaseUrl>,
}

/// A `postgres://` URL. It may hold a password, so it prints without one.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// The URL as written, password and all: for connecting only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match url::Url::parse(&self.0) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("***"));
                f.write_str(u.as_str())
            }
            _ => f.write_str(&self.0),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

#[derive(Debug, Clone)]
pub struct Poll {
    pub interval: Duration,
    pub timeout: Duration,
    pub max_body: u64,
    pub concurrency: usize,
    pub per_host: usize,
    pub user_agent: String,
    pub allow_private: bool,
    pub max_redirects: usize,
    /// Minimum pause between the start of two requests to one host.
    pub host_delay: Duration,
    /// Budgets that keep one outlet from flooding or stalling a pass; see
    /// README, "Limits and hostile outlets".
    /// New items stored per source per pass; the rest wait for the next.
    pub max_new_items: usize,
    /// Entries of one list or feed looked at; the rest are ignored.
    pub max_list_entries: usize,
    /// Wall-clock time one source may take in a pass.
    pub source_deadline: Duration,
    /// Article requests per source per pass to hosts other than its own.
    pub max_foreign_requests: usize,
    /// Size limit of one article page (lists and feeds have `max_body`).
    pub max_article: u64,
    /// Element nesting kept in a parsed page; deeper markup is flattened.
    pub max_depth: usize,
    /// Elements in one page; a page with more is refused.
    pub max_elements: usize,
    /// What to do when a source's selectors break (`[poll] heal`).
    pub heal: HealMode,
}

/// `[poll] heal`: what kuaibao does when a source's selectors stop
/// matching its redesigned pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealMode {
    /// Work out new selectors, prove them, and keep them as a proposal for
    /// an editor (`kuaibao sources heal`, the desk's 来源 page).
    Propose,
    /// Apply a proven repair at once, in `sources.toml`, and go on polling.
    Auto,
    /// Only report the break.
    Off,
}

impl HealMode {
    pub fn as_str(self) -> &'static str {
        match self {
            HealMode::Propose => "propose",
            HealMode::Auto => "auto",
            HealMode::Off => "off",
        }
    }
}

impl Default for Poll {
    /// The defaults of an empty `[poll]` table.
    fn default() -> Poll {
        Poll {
            interval: Duration::from_secs(30 * 60),
            timeout: Duration::from_secs(20),
            max_body: 8 * 1024 * 1024,
            concurrency: 8,
            per_host: 1,
            user_agent: concat!(
                "Mozilla/5.0 (compatible; kuaibao/",
                env!("CARGO_PKG_VERSION"),
                ")"
            )
            .to_string(),
            allow_private: false,
            max_redirects: 5,
            host_delay: Duration::ZERO,
            max_new_items: 100,
            max_list_entries: 1000,
            source_deadline: Duration::from_secs(5 * 60),
            max_foreign_requests: 20,
            max_article: 2 * 1024 * 1024,
            max_depth: 256,
            max_elements: 100_000,
            heal: HealMode::Propose,
        }
    }
}

/// How the daemon spaces polls of one source.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Adapt each source's interval to how often it publishes.
    pub adaptive: bool,
    /// Bounds of the adaptive interval.
    pub min_interval: Duration,
    pub max_interval: Duration,
    /// Each delay is moved by up to ± this fraction, so that sources with
    /// one interval do not fire together.
    pub jitter: f64,
    /// Cap of the exponential backoff after failures.
    pub backoff_max: Duration,
    /// With PostgreSQL, how long a poller holds a source it claimed before
    /// another may take it over (it renews the lease while a poll lasts):
    /// how soon a crashed poller's sources are polled again.
    pub lease: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewMode {
    /// Nothing is published until an editor approves it.
    Manual,
    /// Candidates sure enough (`relevance.publish` in the rules) publish
    /// without an editor; the rest wait for one.
    Auto,
}

#[derive(Debug, Clone)]
pub struct Review {
    pub mode: ReviewMode,
}

#[derive(Debug, Clone)]
pub struct Server {
    pub listen: SocketAddr,
    /// `Cache-Control: max-age` of the current feed documents.
    pub max_age: Duration,
    /// A WebSub hub: feeds carry `rel="hub"` and the hub is pinged when a
    /// feed changes.
    pub websub_hub: Option<Url>,
    /// A client must send a request's headers within this time.
    pub header_timeout: Duration,
    /// A kept-alive connection with no request for this long is closed.
    pub idle_timeout: Duration,
    /// Connections served at once; more wait in the listen queue.
    pub max_connections: usize,
    /// Largest request body accepted (desk forms).
    pub max_request_body: u64,
    /// `/status` and `/metrics` without a desk login (`/healthz` always is).
    pub status_public: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the real client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Password hashes (logins, password changes) per second, all users.
    pub password_hashes_per_second: u32,
}

#[derive(Debug, Clone)]
pub struct Publish {
    /// Directory `kuaibao publish` writes to when `--out` is not given.
    pub out: PathBuf,
    /// Entries per feed document.
    pub entries: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// RSS 0.9x/1.0/2.0, Atom or JSON Feed.
    Feed,
    /// An HTML list page read with CSS selectors.
    Html,
    /// A JSON list endpoint read with dotted paths.
    Json,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Feed => "feed",
            SourceKind::Html => "html",
            SourceKind::Json => "json",
        }
    }
}

/// How a source's bytes are turned into text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodingChoice {
    /// BOM, then the HTTP charset, then `<meta>`, then detection.
    Auto,
    /// Always this encoding (a WHATWG label resolved by encoding_rs).
    Fixed(&'static encoding_rs::Encoding),
}

/// One outlet page kuaibao polls.
#[derive(Debug, Clone)]
pub struct Source {
    pub id: String,
    /// The outlet; the item's 来源 when the article names none.
    pub name: String,
    pub url: Url,
    pub kind: SourceKind,
    pub encoding: EncodingChoice,
    pub interval: Duration,
    pub region: Option<String>,
    pub section: Option<String>,
    pub enabled: bool,
    pub list: Option<ListSelectors>,
    pub json: Option<JsonPaths>,
    pub article: Option<ArticleSelectors>,
}

/// A CSS selector, optionally followed by `@attr` to take an attribute
/// instead of the element's text.
#[derive(Debug, Clone)]
pub struct FieldSelector {
    /// As written in the file, for messages.
    pub text: String,
    pub selector: scraper::Selector,
    pub attr: Option<String>,
}

impl FieldSelector {
    /// Parses `SELECTOR` or `SELECTOR@attr`.
    pub fn parse(text: &str) -> Result<FieldSelector, String> {
        let (css, attr) = split_attr(text);
        let css = css.trim();
        if css.is_empty() {
            return Err("an empty selector".into());
        }
        let selector = scraper::Selector::parse(css)
            // scraper's own message is a multi-line debug dump; the selector
            // text is what the user needs to find the mistake.
            .map_err(|_| format!("`{css}` is not a valid CSS selector"))?;
        Ok(FieldSelector {
            text: text.to_string(),
            selector,
            attr: attr.map(str::to_string),
        })
    }
}

/// Splits a trailing `@attr` off a selector. An `@` inside brackets or
/// quotes (`a[href*='@']`) is part of the selector.
fn split_attr(text: &str) -> (&str, Option<&str>) {
    if let Some(at) = text.rfind('@') {
        let attr = &text[at + 1..];
        let is_name = !attr.is_empty()
            && attr
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'));
        let before = &text[..at];
        let open_brackets = before.matches('[').count() > before.matches(']').count();
        if is_name && !open_brackets {
            return (before, Some(attr));
        }
    }
    (text, None)
}

/// `[source.list]`: one item per match of `item`; the other selectors are
/// relative to the item.
#[derive(Debug, Clone)]
pub struct ListSelectors {
    pub item: FieldSelector,
    pub link: FieldSelector,
    pub title: FieldSelector,
    pub date: Option<FieldSelector>,
    pub summary: Option<FieldSelector>,
}

/// `[source.json]`: dotted paths into a JSON list document.
#[derive(Debug, Clone)]
pub struct JsonPaths {
    /// Empty means the document itself is the array.
    pub items: String,
    pub title: String,
    pub link: String,
    pub date: Option<String>,
    pub summary: Option<String>,
    pub content: Option<String>,
    pub guid: Option<String>,
}

/// `[source.article]`: how to read an article page for its full text.
#[derive(Debug, Clone)]
pub struct ArticleSelectors {
    pub content: FieldSelector,
    pub title: Option<FieldSelector>,
    pub date: Option<FieldSelector>,
    pub origin: Option<FieldSelector>,
    pub remove: Vec<FieldSelector>,
}

/// A section of the bulletin, in bulletin order.
#[derive(Debug, Clone)]
pub struct Section {
    pub id: String,
    pub name: String,
    pub description: String,
}

impl Config {
    /// Which stories the feeds publish: approved ones, and in auto mode the
    /// candidates at `relevance.publish` or more.
    pub fn published(&self) -> Published {
        match self.review.mode {
            ReviewMode::Manual => Published::Approved,
            ReviewMode::Auto => Published::AlsoCandidatesFrom(self.rules.relevance.publish),
        }
    }

    /// Reads and validates the main file and the files it names.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = read(path)?;
        Config::from_str(path, &text)
    }

    /// Validates `text` as if read from `path` (paths resolve beside it).
    pub fn from_str(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let file = FileText { path, text };
        let raw: RawMain = file.parse()?;
        let dir = path.parent().unwrap_or(Path::new("."));

        let (title, society, base_url) = masthead(&file, raw.title, raw.society, raw.base_url)?;
        let (sections, rules, rules_path) =
            sections_and_rules(dir, raw.sections.as_ref(), raw.rules.as_deref())?;
        let url = match (&raw.storage.url, &raw.storage.database) {
            (Some(url), Some(_)) => {
                return Err(file.invalid(
                    url,
                    "storage.url",
                    "give either `database` (a SQLite file) or `url` (PostgreSQL), not both",
                ));
            }
            (Some(url), None) => {
                let text = url.get_ref().trim();
                if !(text.starts_with("postgres://") || text.starts_with("postgresql://"))
                    || url::Url::parse(text).is_err()
                {
                    return Err(file.invalid(
                        url,
                        "storage.url",
                        "expected a PostgreSQL URL such as \"postgres://kuaibao@db.example/kuaibao\"",
                    ));
                }
                Some(DatabaseUrl(text.to_string()))
            }
            _ => None,
        };
        let storage = Storage {
            database: dir.join(
                raw.storage
                    .database
                    .map(|d| d.into_inner())
                    .unwrap_or_else(|| "kuaibao.db".into()),
            ),
            url,
        };
        let poll = poll_table(&file, raw.poll)?;
        let schedule = schedule_table(&file, raw.schedule)?;
        let review = Review {
            mode: raw.review.mode.unwrap_or(ReviewMode::Manual),
        };
        let server = server_table(&file, raw.server)?;
        let publish = Publish {
            out: dir.join(
                raw.publish
                    .out
                    .map(|o| o.into_inner())
                    .unwrap_or_else(|| "public".into()),
            ),
            entries: file.positive(raw.publish.entries.as_ref(), "publish.entries", 100)?,
        };
        let dedup = dedup_table(&file, raw.dedup)?;

        let sources_path = dir.join(raw.sources.get_ref());
        let sources_text = read(&sources_path)?;
        let sources = parse_sources(&sources_path, &sources_text, poll.interval, &sections)?;

        Ok(Config {
            path: path.to_path_buf(),
            title,
            society,
            base_url,
            storage,
            poll,
            schedule,
            review,
            server,
            publish,
            dedup,
            sources,
            sources_path,
            sections,
            rules,
            rules_path,
        })
    }

    pub fn source(&self, id: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.id == id)
    }

    pub fn section(&self, id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id)
    }
}

/// The bulletin's title, the society's name and the public base URL.
fn masthead(
    file: &FileText,
    title: Option<Spanned<String>>,
    society: Option<Spanned<String>>,
    base_url: Option<Spanned<String>>,
) -> Result<(String, String, Url), ConfigError> {
    let title = title
        .map(|t| t.into_inner())
        .unwrap_or_else(|| "南京人力资源和社会保障学会信息快报".to_string());
    let society = match society {
        None => "南京人力资源和社会保障学会".to_string(),
        // An empty name would print a masthead of `信息` and `主办`.
        Some(s) if s.get_ref().trim().is_empty() => {
            return Err(file.invalid(&s, "society", "expected the society's name"));
        }
        Some(s) => s.into_inner().trim().to_string(),
    };
    let base_url = match base_url {
        None => Url::parse("http://127.0.0.1:8080/").expect("constant URL"),
        Some(s) => {
            let mut url = Url::parse(s.get_ref())
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| file.invalid(&s, "base_url", "expected an absolute http(s) URL"))?;
            if !url.path().ends_with('/') {
                let p = format!("{}/", url.path());
                url.set_path(&p);
            }
            url
        }
    };
    Ok((title, society, base_url))
}

/// The sections, from the file `sections` names or the built-in ones, and
/// the classification rules: from the file `rules` names, else from the
/// sections file when it carries them, else the built-in ones.
fn sections_and_rules(
    dir: &Path,
    sections: Option<&Spanned<String>>,
    rules: Option<&str>,
) -> Result<(Vec<Section>, rules::Rules, Option<PathBuf>), ConfigError> {
    let (sections, sections_rules) = match sections {
        Some(rel) => {
            let p = dir.join(rel.get_ref());
            let text = read(&p)?;
            let (sections, has_rules) = parse_sections_and_rules(&p, &text)?;
            let rules = if has_rules {
                Some((rules::Rules::from_toml(&p, &text)?, p))
            } else {
                None
            };
            (sections, rules)
        }
        None => (
            parse_sections(Path::new("<built-in sections.toml>"), DEFAULT_SECTIONS_TOML)?,
            None,
        ),
    };
    let (rules, rules_path) = match rules {
        Some(rel) => {
            let p = dir.join(rel);
            (rules::Rules::load(&p)?, Some(p))
        }
        None => match sections_rules {
            Some((rules, p)) => (rules, Some(p)),
            None => (rules::Rules::default(), None),
        },
    };
    Ok((sections, rules, rules_path))
}

/// `[poll]`.
fn poll_table(file: &FileText, p: RawPoll) -> Result<Poll, ConfigError> {
    let interval = file.duration(p.interval.as_ref(), "poll.interval", "30m")?;
    Ok(Poll {
        interval,
        max_new_items: file.positive(p.max_new_items.as_ref(), "poll.max_new_items", 100)?,
        max_list_entries: file.positive(
            p.max_list_entries.as_ref(),
            "poll.max_list_entries",
            1000,
        )?,
        source_deadline: file.duration(p.source_deadline.as_ref(), "poll.source_deadline", "5m")?,
        max_foreign_requests: file.count(
            p.max_foreign_requests.as_ref(),
            "poll.max_foreign_requests",
            20,
        )?,
        max_article: file.size(p.max_article.as_ref(), "poll.max_article", "2MiB")?,
        max_depth: file.positive(p.max_depth.as_ref(), "poll.max_depth", 256)?,
        max_elements: file.positive(p.max_elements.as_ref(), "poll.max_elements", 100_000)?,
        timeout: file.duration(p.timeout.as_ref(), "poll.timeout", "20s")?,
        max_body: file.size(p.max_body.as_ref(), "poll.max_body", "8MiB")?,
        concurrency: file.positive(p.concurrency.as_ref(), "poll.concurrency", 8)?,
        per_host: file.positive(p.per_host.as_ref(), "poll.per_host", 1)?,
        user_agent: p.user_agent.unwrap_or_else(|| {
            concat!(
                "Mozilla/5.0 (compatible; kuaibao/",
                env!("CARGO_PKG_VERSION"),
                ")"
            )
            .to_string()
        }),
        allow_private: p.allow_private.unwrap_or(false),
        max_redirects: p.max_redirects.unwrap_or(5),
        host_delay: file.duration_or_zero(p.host_delay.as_ref(), "poll.host_delay")?,
        heal: p.heal.unwrap_or(HealMode::Propose),
    })
}

/// `[schedule]`; `min_interval` must not exceed `max_interval`.
fn schedule_table(file: &FileText, sc: RawSchedule) -> Result<Schedule, ConfigError> {
    let schedule = Schedule {
        adaptive: sc.adaptive.unwrap_or(true),
        min_interval: file.duration(sc.min_interval.as_ref(), "schedule.min_interval", "5m")?,
        max_interval: file.duration(sc.max_interval.as_ref(), "schedule.max_interval", "24h")?,
        jitter: match sc.jitter {
            None => 0.1,
            Some(j) if (0.0..=0.5).contains(j.get_ref()) => *j.get_ref(),
            Some(j) => {
                return Err(file.invalid(
                    &j,
                    "schedule.jitter",
                    "expected a fraction from 0.0 to 0.5",
                ));
            }
        },
        backoff_max: file.duration(sc.backoff_max.as_ref(), "schedule.backoff_max", "12h")?,
        lease: file.duration(sc.lease.as_ref(), "schedule.lease", "2m")?,
    };
    if schedule.min_interval > schedule.max_interval
        && let Some(at) = &sc.min_interval
    {
        return Err(file.invalid(
            at,
            "schedule.min_interval",
            "must not exceed schedule.max_interval",
        ));
    }
    Ok(schedule)
}

/// `[server]`.
fn server_table(file: &FileText, server: RawServer) -> Result<Server, ConfigError> {
    Ok(Server {
        listen: match server.listen {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(s) => s.get_ref().parse().map_err(|_| {
                file.invalid(
                    &s,
                    "server.listen",
                    "expected an address and port such as \"127.0.0.1:8080\"",
                )
            })?,
        },
        max_age: file.duration(server.max_age.as_ref(), "server.max_age", "5m")?,
        header_timeout: file.duration(
            server.header_timeout.as_ref(),
            "server.header_timeout",
            "10s",
        )?,
        idle_timeout: file.duration(server.idle_timeout.as_ref(), "server.idle_timeout", "60s")?,
        max_connections: file.positive(
            server.max_connections.as_ref(),
            "server.max_connections",
            256,
        )?,
        max_request_body: file.size(
            server.max_request_body.as_ref(),
            "server.max_request_body",
            "1MiB",
        )?,
        status_public: server.status_public.unwrap_or(false),
        trusted_proxies: server
            .trusted_proxies
            .iter()
            .flatten()
            .map(|p| file.network(p, "server.trusted_proxies"))
            .collect::<Result<_, _>>()?,
        password_hashes_per_second: u32::try_from(file.positive(
            server.password_hashes_per_second.as_ref(),
            "server.password_hashes_per_second",
            8,
        )?)
        .unwrap_or(u32::MAX),
        websub_hub: match server.websub_hub {
            None => None,
            Some(h) => Some(
                Url::parse(h.get_ref())
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .ok_or_else(|| {
                        file.invalid(&h, "server.websub_hub", "expected an absolute http(s) URL")
                    })?,
            ),
        },
    })
}

/// `[dedup]`: the near-duplicate thresholds, defaults from [`DedupConfig`].
fn dedup_table(file: &FileText, d: RawDedup) -> Result<DedupConfig, ConfigError> {
    let defaults = DedupConfig::default();
    Ok(DedupConfig {
        enabled: d.enabled.unwrap_or(true),
        window_days: {
            let window = file.duration(d.window.as_ref(), "dedup.window", "30d")?;
            u32::try_from(window.as_secs().div_ceil(86_400)).unwrap_or(u32::MAX)
        },
        containment: file.fraction(
            d.containment.as_ref(),
            "dedup.containment",
            defaults.containment,
        )?,
        jaccard: file.fraction(d.jaccard.as_ref(), "dedup.jaccard", defaults.jaccard)?,
        min_shingles: file.positive(
            d.min_shingles.as_ref(),
            "dedup.min_shingles",
            defaults.min_shingles,
        )?,
        min_figures: file.positive(
            d.min_figures.as_ref(),
            "dedup.min_figures",
            defaults.min_figures,
        )?,
        figures_overlap: file.fraction(
            d.figures_overlap.as_ref(),
            "dedup.figures_overlap",
            defaults.figures_overlap,
        )?,
        ..defaults
    })
}

pub(crate) fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Parses a sections file on its own.
pub fn parse_sections(path: &Path, text: &str) -> Result<Vec<Section>, ConfigError> {
    parse_sections_and_rules(path, text).map(|(sections, _)| sections)
}

/// The sections of a sections file, and whether it also holds the
/// classification rules (a `[relevance]` table).
fn parse_sections_and_rules(path: &Path, text: &str) -> Result<(Vec<Section>, bool), ConfigError> {
    let file = FileText { path, text };
    let raw: RawSections = file.parse()?;
    let has_rules = raw.relevance.is_some();
    let mut seen = HashSet::new();
    let mut sections = Vec::new();
    for s in raw.section {
        file.check_id(&s.id, "section.id")?;
        if !seen.insert(s.id.get_ref().clone()) {
            return Err(file.invalid(&s.id, "section.id", "duplicate section id"));
        }
        if s.id.get_ref() == "all" {
            // feeds/all.xml is the feed of every section.
            return Err(file.invalid(
                &s.id,
                "section.id",
                "\"all\" is reserved for the feed of every section",
            ));
        }
        if s.id.get_ref() == "issues" {
            // feeds/issues.xml is the feed of the bulletin's issues.
            return Err(file.invalid(
                &s.id,
                "section.id",
                "\"issues\" is reserved for the feed of the bulletin's issues",
            ));
        }
        sections.push(Section {
            id: s.id.into_inner(),
            name: s.name,
            description: s.description.unwrap_or_default(),
        });
    }
    if sections.is_empty() {
        return Err(ConfigError::Invalid {
            path: path.to_path_buf(),
            line: 1,
            key: "section".into(),
            message: "expected at least one [[section]] table".into(),
        });
    }
    Ok((sections, has_rules))
}

/// Parses a sources file on its own; `default_interval` fills `interval`.
pub fn parse_sources(
    path: &Path,
    text: &str,
    default_interval: Duration,
    sections: &[Section],
) -> Result<Vec<Source>, ConfigError> {
    let file = FileText { path, text };
    let raw: RawSources = file.parse()?;
    let mut seen = HashSet::new();
    let mut sources = Vec::new();
    for s in raw.source {
        file.check_id(&s.id, "source.id")?;
        if !seen.insert(s.id.get_ref().clone()) {
            return Err(file.invalid(
                &s.id,
                "source.id",
                &format!(
                    "duplicate source id \"{}\": ids must be unique",
                    s.id.get_ref()
                ),
            ));
        }
        sources.push(source_entry(&file, s, default_interval, sections)?);
    }
    Ok(sources)
}

/// One `[[source]]` of the sources file, validated.
fn source_entry(
    file: &FileText,
    s: RawSource,
    default_interval: Duration,
    sections: &[Section],
) -> Result<Source, ConfigError> {
    if s.name.get_ref().trim().is_empty() {
        return Err(file.invalid(&s.name, "source.name", "expected the outlet's name"));
    }
    let url = Url::parse(s.url.get_ref())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| file.invalid(&s.url, "source.url", "expected an absolute http(s) URL"))?;
    let kind = *s.kind.get_ref();
    let encoding = encoding_choice(file, s.encoding)?;
    let interval = match &s.interval {
        Some(i) => file.duration(Some(i), "source.interval", "")?,
        None => default_interval,
    };
    if let Some(sec) = &s.section
        && !sections.iter().any(|x| &x.id == sec.get_ref())
    {
        let known: Vec<&str> = sections.iter().map(|x| x.id.as_str()).collect();
        return Err(file.invalid(
            sec,
            "source.section",
            &format!("unknown section; expected one of {}", known.join(", ")),
        ));
    }

    let list = s
        .list
        .map(|l| -> Result<ListSelectors, ConfigError> {
            Ok(ListSelectors {
                item: file.selector(&l.item, "source.list.item")?,
                link: file.selector(&l.link, "source.list.link")?,
                title: file.selector(&l.title, "source.list.title")?,
                date: file.opt_selector(l.date.as_ref(), "source.list.date")?,
                summary: file.opt_selector(l.summary.as_ref(), "source.list.summary")?,
            })
        })
        .transpose()?;
    let json = s.json.map(|j| JsonPaths {
        items: j.items.unwrap_or_default(),
        title: j.title,
        link: j.link,
        date: j.date,
        summary: j.summary,
        content: j.content,
        guid: j.guid,
    });
    let article = s
        .article
        .map(|a| -> Result<ArticleSelectors, ConfigError> {
            Ok(ArticleSelectors {
                content: file.selector(&a.content, "source.article.content")?,
                title: file.opt_selector(a.title.as_ref(), "source.article.title")?,
                date: file.opt_selector(a.date.as_ref(), "source.article.date")?,
                origin: file.opt_selector(a.origin.as_ref(), "source.article.origin")?,
                remove: a
                    .remove
                    .iter()
                    .map(|r| file.selector(r, "source.article.remove"))
                    .collect::<Result<_, _>>()?,
            })
        })
        .transpose()?;

    check_kind_tables(file, &s.kind, list.is_some(), json.is_some())?;
    Ok(Source {
        id: s.id.into_inner(),
        name: s.name.into_inner().trim().to_string(),
        url,
        kind,
        encoding,
        interval,
        region: s.region,
        section: s.section.map(|x| x.into_inner()),
        enabled: s.enabled.unwrap_or(true),
        list,
        json,
        article,
    })
}

/// `source.encoding`: "auto" or a WHATWG label.
fn encoding_choice(
    file: &FileText,
    encoding: Option<Spanned<String>>,
) -> Result<EncodingChoice, ConfigError> {
    Ok(match encoding {
        None => EncodingChoice::Auto,
        Some(e) if e.get_ref().eq_ignore_ascii_case("auto") => EncodingChoice::Auto,
        Some(e) => match encoding_rs::Encoding::for_label(e.get_ref().as_bytes()) {
            // GBK and GB2312 pages use GB18030 characters freely.
            Some(enc) if enc == encoding_rs::GBK => EncodingChoice::Fixed(encoding_rs::GB18030),
            Some(enc) => EncodingChoice::Fixed(enc),
            None => {
                return Err(file.invalid(
                &e,
                "source.encoding",
                "expected \"auto\" or a WHATWG encoding label such as \"utf-8\", \"gbk\", \"gb18030\"",
            ));
            }
        },
    })
}

/// Each kind has the table it needs and no other kind's.
fn check_kind_tables(
    file: &FileText,
    kind: &Spanned<SourceKind>,
    has_list: bool,
    has_json: bool,
) -> Result<(), ConfigError> {
    match *kind.get_ref() {
        SourceKind::Html if !has_list => {
            return Err(file.invalid(
                kind,
                "source.list",
                "kind = \"html\" needs a [source.list] table (item, link, title)",
            ));
        }
        SourceKind::Json if !has_json => {
            return Err(file.invalid(
                kind,
                "source.json",
                "kind = \"json\" needs a [source.json] table (items, title, link)",
            ));
        }
        _ => {}
    }
    if *kind.get_ref() != SourceKind::Html && has_list {
        return Err(file.invalid(
            kind,
            "source.list",
            "[source.list] only applies to kind = \"html\"",
        ));
    }
    if *kind.get_ref() != SourceKind::Json && has_json {
        return Err(file.invalid(
            kind,
            "source.json",
            "[source.json] only applies to kind = \"json\"",
        ));
    }
    Ok(())
}

/// A file's text with its path, so errors can point into it.
struct FileText<'a> {
    path: &'a Path,
    text: &'a str,
}

impl FileText<'_> {
    fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, ConfigError> {
        parse_toml(self.path, self.text)
    }

    fn line_of(&self, span: Range<usize>) -> usize {
        line_col(self.text, span.start).0
    }

    fn invalid<T>(&self, at: &Spanned<T>, key: &str, message: &str) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line: self.line_of(at.span()),
            key: key.to_string(),
            message: message.to_string(),
        }
    }

    fn check_id(&self, id: &Spanned<String>, key: &str) -> Result<(), ConfigError> {
        let ok = !id.get_ref().is_empty()
            && id
                .get_ref()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(())
        } else {
            Err(self.invalid(
                id,
                key,
                "expected lowercase letters, digits and '-' ([a-z0-9-]+)",
            ))
        }
    }

    fn duration(
        &self,
        value: Option<&Spanned<String>>,
        key: &str,
        default: &str,
    ) -> Result<Duration, ConfigError> {
        match value {
            None => Ok(humantime::parse_duration(default).expect("valid default duration")),
            Some(v) => match humantime::parse_duration(v.get_ref().trim()) {
                Ok(d) if !d.is_zero() => Ok(d),
                _ => Err(self.invalid(
                    v,
                    key,
                    &format!(
                        "\"{}\" is not a duration; expected a number with a unit, such as \"30s\", \"20m\", \"2h\"",
                        v.get_ref()
                    ),
                )),
            },
        }
    }

    /// A duration that may be zero ("0s" turns the feature off).
    fn duration_or_zero(
        &self,
        value: Option<&Spanned<String>>,
        key: &str,
    ) -> Result<Duration, ConfigError> {
        match value {
            None => Ok(Duration::ZERO),
            Some(v) => humantime::parse_duration(v.get_ref().trim()).map_err(|_| {
                self.invalid(
                    v,
                    key,
                    &format!(
                        "\"{}\" is not a duration; expected such as \"0s\", \"500ms\", \"2s\"",
                        v.get_ref()
                    ),
                )
            }),
        }
    }

    fn size(
        &self,
        value: Option<&Spanned<String>>,
        key: &str,
        default: &str,
    ) -> Result<u64, ConfigError> {
        let parse = |s: &str| {
            s.trim()
                .parse::<bytesize::ByteSize>()
                .ok()
                .map(|b| b.as_u64())
                .filter(|&n| n > 0)
        };
        match value {
            None => Ok(parse(default).expect("valid default size")),
            Some(v) => parse(v.get_ref()).ok_or_else(|| {
                self.invalid(
                    v,
                    key,
                    &format!(
                        "\"{}\" is not a size; expected such as \"8MiB\", \"512KiB\"",
                        v.get_ref()
                    ),
                )
            }),
        }
    }

    fn positive(
        &self,
        value: Option<&Spanned<i64>>,
        key: &str,
        default: usize,
    ) -> Result<usize, ConfigError> {
        self.at_least(value, key, default, 1)
    }

    /// A whole number that may be zero (zero turns the feature off).
    fn count(
        &self,
        value: Option<&Spanned<i64>>,
        key: &str,
        default: usize,
    ) -> Result<usize, ConfigError> {
        self.at_least(value, key, default, 0)
    }

    fn at_least(
        &self,
        value: Option<&Spanned<i64>>,
        key: &str,
        default: usize,
        min: i64,
    ) -> Result<usize, ConfigError> {
        match value {
            None => Ok(default),
            Some(v) if *v.get_ref() >= min => Ok(*v.get_ref() as usize),
            Some(v) => Err(self.invalid(
                v,
                key,
                &format!("expected a whole number of at least {min}"),
            )),
        }
    }

    /// An address or network in CIDR notation (`10.0.0.0/8`, `::1/128`);
    /// a bare address is a network of one.
    fn network(&self, value: &Spanned<String>, key: &str) -> Result<ipnet::IpNet, ConfigError> {
        let text = value.get_ref().trim();
        text.parse::<ipnet::IpNet>()
            .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map_err(|_| {
                self.invalid(
                    value,
                    key,
                    &format!(
                        "\"{text}\" is not an address or network; expected such as \"127.0.0.1/32\" or \"10.0.0.0/8\""
                    ),
                )
            })
    }

    fn fraction(
        &self,
        value: Option<&Spanned<f64>>,
        key: &str,
        default: f64,
    ) -> Result<f64, ConfigError> {
        match value {
            None => Ok(default),
            Some(v) if (0.0..=1.0).contains(v.get_ref()) => Ok(*v.get_ref()),
            Some(v) => Err(self.invalid(v, key, "expected a fraction from 0.0 to 1.0")),
        }
    }

    fn selector(&self, value: &Spanned<String>, key: &str) -> Result<FieldSelector, ConfigError> {
        FieldSelector::parse(value.get_ref()).map_err(|m| self.invalid(value, key, &m))
    }

    fn opt_selector(
        &self,
        value: Option<&Spanned<String>>,
        key: &str,
    ) -> Result<Option<FieldSelector>, ConfigError> {
        value.map(|v| self.selector(v, key)).transpose()
    }
}

/// Deserializes a TOML file, an error naming its line and column; shared by
/// every file kuaibao reads (the classification rules too).
pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        ConfigError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })
}

/// 1-based line and column of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.chars().count(), |n| before[n + 1..].chars().count())
        + 1;
    (line, column)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMain {
    title: Option<Spanned<String>>,
    society: Option<Spanned<String>>,
    base_url: Option<Spanned<String>>,
    sources: Spanned<String>,
    sections: Option<Spanned<String>>,
    rules: Option<String>,
    #[serde(default)]
    storage: RawStorage,
    #[serde(default)]
    poll: RawPoll,
    #[serde(default)]
    schedule: RawSchedule,
    #[serde(default)]
    review: RawReview,
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    publish: RawPublish,
    #[serde(default)]
    dedup: RawDedup,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDedup {
    enabled: Option<bool>,
    window: Option<Spanned<String>>,
    containment: Option<Spanned<f64>>,
    jaccard: Option<Spanned<f64>>,
    min_shingles: Option<Spanned<i64>>,
    min_figures: Option<Spanned<i64>>,
    figures_overlap: Option<Spanned<f64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    database: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPoll {
    interval: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    max_body: Option<Spanned<String>>,
    concurrency: Option<Spanned<i64>>,
    per_host: Option<Spanned<i64>>,
    user_agent: Option<String>,
    allow_private: Option<bool>,
    max_redirects: Option<usize>,
    host_delay: Option<Spanned<String>>,
    max_new_items: Option<Spanned<i64>>,
    max_list_entries: Option<Spanned<i64>>,
    source_deadline: Option<Spanned<String>>,
    max_foreign_requests: Option<Spanned<i64>>,
    max_article: Option<Spanned<String>>,
    max_depth: Option<Spanned<i64>>,
    max_elements: Option<Spanned<i64>>,
    heal: Option<HealMode>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    adaptive: Option<bool>,
    min_interval: Option<Spanned<String>>,
    max_interval: Option<Spanned<String>>,
    jitter: Option<Spanned<f64>>,
    backoff_max: Option<Spanned<String>>,
    lease: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawReview {
    mode: Option<ReviewMode>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<Spanned<String>>,
    max_age: Option<Spanned<String>>,
    websub_hub: Option<Spanned<String>>,
    header_timeout: Option<Spanned<String>>,
    idle_timeout: Option<Spanned<String>>,
    max_connections: Option<Spanned<i64>>,
    max_request_body: Option<Spanned<String>>,
    status_public: Option<bool>,
    trusted_proxies: Option<Vec<Spanned<String>>>,
    password_hashes_per_second: Option<Spanned<i64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPublish {
    out: Option<Spanned<String>>,
    entries: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSections {
    #[serde(default)]
    section: Vec<RawSection>,
    // The classification rules may share the file; `classify::Rules`
    // validates them.
    #[serde(rename = "weights")]
    _weights: Option<toml::Value>,
    relevance: Option<toml::Value>,
    #[serde(rename = "sections")]
    _sections: Option<toml::Value>,
    #[serde(rename = "outlet")]
    _outlet: Option<toml::Value>,
    #[serde(rename = "commentary")]
    _commentary: Option<toml::Value>,
    #[serde(rename = "business")]
    _business: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    id: Spanned<String>,
    name: String,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSources {
    #[serde(default)]
    source: Vec<RawSource>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    id: Spanned<String>,
    name: Spanned<String>,
    url: Spanned<String>,
    kind: Spanned<SourceKind>,
    encoding: Option<Spanned<String>>,
    interval: Option<Spanned<String>>,
    region: Option<String>,
    section: Option<Spanned<String>>,
    enabled: Option<bool>,
    list: Option<RawList>,
    json: Option<RawJson>,
    article: Option<RawArticle>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawList {
    item: Spanned<String>,
    link: Spanned<String>,
    title: Spanned<String>,
    date: Option<Spanned<String>>,
    summary: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJson {
    items: Option<String>,
    title: String,
    link: String,
    date: Option<String>,
    summary: Option<String>,
    content: Option<String>,
    guid: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArticle {
    content: Spanned<String>,
    title: Option<Spanned<String>>,
    date: Option<Spanned<String>>,
    origin: Option<Spanned<String>>,
    #[serde(default)]
    remove: Vec<Spanned<String>>,
}

//! Fetch, layer 3 (pipeline stages), the first stage (**fetch** → extract →
//! normalize → dedup → classify → store): turns a URL into a decoded
//! [`Page`], politely and safely.
//!
//! Everything here faces the open network: bodies are capped while they
//! stream, redirects are followed by hand so every hop is checked, requests
//! are limited per host and overall, and private addresses are refused
//! unless configured otherwise. Every error is one line a status table or a
//! cron mail can show as is.

mod challenge;
mod charset;
mod guard;

pub use charset::{decode, decode_with_tld};
pub use guard::is_private;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::{Host, Url};

use crate::config::{EncodingChoice, Poll};
use crate::model::{Page, Validators};

/// Why a fetch produced no page. Each message is one line.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
    #[error("unsupported URL {url}: only http and https are fetched")]
    UnsupportedUrl { url: String },
    #[error(
        "refused private address {addr}{} (set poll.allow_private = true to allow)",
        if host == &addr.to_string() { String::new() } else { format!(" for {host}") }
    )]
    PrivateAddress {
        host: String,
        addr: std::net::IpAddr,
    },
    #[error("timed out waiting for the server (poll.timeout)")]
    Timeout,
    #[error("network error: {0}")]
    Network(String),
    #[error("HTTP {}{}", status_text(*status), retry_text(*retry_after))]
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("response body larger than the {limit}-byte limit ({key})")]
    TooLarge { limit: u64, key: &'static str },
    #[error("more than {limit} redirects (poll.max_redirects); the last pointed to {url}")]
    TooManyRedirects { limit: usize, url: String },
    #[error("redirect loop: {url} was already visited")]
    RedirectLoop { url: String },
    #[error("bad redirect from {from}: {reason}")]
    BadRedirect { from: String, reason: String },
    #[error("anti-bot challenge page instead of content (solving it once did not get through)")]
    Challenge,
}

impl FetchError {
    /// How long the server asked us to wait (`Retry-After`), if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether trying again later may help, as opposed to a problem with the
    /// source or the configuration that needs a person.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Timeout | FetchError::Network(_) | FetchError::Challenge => true,
            FetchError::Status { status, .. } => {
                *status >= 500 || matches!(*status, 408 | 425 | 429)
            }
            _ => false,
        }
    }
}

fn status_text(status: u16) -> String {
    match StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

fn retry_text(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(
            ", retry after {}",
            humantime::format_duration(Duration::from_secs(d.as_secs()))
        ),
        None => String::new(),
    }
}

/// What a fetch produced.
// Boxing `Page` would change the shared contract for one move per fetch.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum FetchOutcome {
    /// 304: the validators still hold; nothing new.
    NotModified,
    Page(Page),
}

/// Turns at a host shared with other processes: with many pollers on one
/// database, `poll.host_delay` holds for all of them together, not each.
pub trait HostTurns: Send + Sync {
    /// Asks to start a request to `host` (`name:port`) now. `None`: go
    /// ahead (the next turn is `delay` away for everyone); `Some(wait)`:
    /// another process started one too recently, ask again after `wait`.
    /// An error is the implementer's to log; it answers `None` then, so a
    /// database hiccup slows nobody down beyond the local delay.
    fn take_turn(&self, host: &str, delay: Duration) -> Option<Duration>;
}

/// Fetches pages for every task of a poll run; share it by `Arc` or `&`.
pub struct Fetcher {
    client: reqwest::Client,
    timeout: Duration,
    max_body: u64,
    max_redirects: usize,
    allow_private: bool,
    per_host: usize,
    /// `poll.host_delay`: minimum time between the starts of two requests
    /// to one host; zero is off.
    host_delay: Duration,
    overall: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<HostSlot>>>,
    /// Set when other processes poll the same hosts.
    shared_turns: Option<Arc<dyn HostTurns>>,
}

/// One host's limiter: its request slots and when a request to it last
/// started (tokio time, so paused-time tests see the delay).
struct HostSlot {
    requests: Arc<Semaphore>,
    last_start: Mutex<Option<tokio::time::Instant>>,
}

impl HostSlot {
    /// When the next request may start, if not now.
    fn ready_at(&self, delay: Duration) -> Option<tokio::time::Instant> {
        let last = *self.last_start.lock().unwrap_or_else(|p| p.into_inner());
        last.map(|at| at + delay)
            .filter(|&at| at > tokio::time::Instant::now())
    }

    /// When the next request may start; `None` when it may start now, in
    /// which case `now` is recorded as the latest start.
    fn claim(&self, delay: Duration) -> Option<tokio::time::Instant> {
        let now = tokio::time::Instant::now();
        let mut last = self.last_start.lock().unwrap_or_else(|p| p.into_inner());
        match *last {
            Some(at) if at + delay > now => Some(at + delay),
            _ => {
                *last = Some(now);
                None
            }
        }
    }

    /// Whether forgetting this host loses nothing: nobody holds or waits
    /// for it and its delay has passed.
    fn is_idle(self: &Arc<Self>, delay: Duration) -> bool {
        Arc::strong_count(self) == 1
            && self
                .last_start
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_none_or(|at| at + delay <= tokio::time::Instant::now())
    }
}

/// A response after redirects, its body read.
struct Raw {
    url: Url,
    status: u16,
    headers: HeaderMap,
    bytes: Vec<u8>,
}

// Built once per request and moved straight out; boxing buys nothing.
#[allow(clippy::large_enum_variant)]
enum Hop {
    NotModified,
    Done(Raw),
}

const ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,\
application/rss+xml,application/atom+xml,application/json;q=0.9,*/*;q=0.8";

/// How long a connection may sit idle beyond `poll.host_delay` before it
/// is closed.
const IDLE_CONNECTION: Duration = Duration::from_secs(5);

impl Fetcher {
    pub fn new(poll: &Poll) -> Result<Fetcher, FetchError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(ACCEPT));
        // Some provincial sites serve an empty shell without a Chinese
        // Accept-Language.
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("zh-CN,zh;q=0.9,en;q=0.5"),
        );
        let mut builder = reqwest::Client::builder()
            .user_agent(poll.user_agent.as_str())
            .default_headers(headers)
            // Followed by hand: every hop needs the private-address check,
            // its own per-host permit and a typed error.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(poll.timeout)
            .timeout(poll.timeout)
            // A host's connection is kept between the requests of a pass
            // (they follow each other, `host_delay` apart), not from one
            // pass to the next, minutes later, when servers have closed it
            // anyway: kept 90 s (reqwest's default), the idle connections
            // to 1,000 outlets held 8 MiB of a first poll's 96 MiB.
            .pool_idle_timeout(poll.host_delay + IDLE_CONNECTION);
        if !poll.allow_private {
            // A proxy resolves names itself, out of the guard's sight.
            builder = builder
                .no_proxy()
                .dns_resolver(Arc::new(guard::PublicOnlyResolver));
        }
        let client = builder
            .build()
            .map_err(|e| FetchError::Setup(error_chain(&e)))?;
        Ok(Fetcher {
            client,
            timeout: poll.timeout,
            max_body: poll.max_body,
            max_redirects: poll.max_redirects,
            allow_private: poll.allow_private,
            // Zero would block forever; config forbids it, struct literals don't.
            per_host: poll.per_host.max(1),
            host_delay: poll.host_delay,
            overall: Arc::new(Semaphore::new(poll.concurrency.max(1))),
            hosts: Mutex::new(HashMap::new()),
            shared_turns: None,
        })
    }

    /// Shares `poll.host_delay` with other processes through `turns`.
    pub fn with_host_turns(mut self, turns: Arc<dyn HostTurns>) -> Fetcher {
        self.shared_turns = Some(turns);
        self
    }

    /// POSTs a form to `url` (the WebSub hub ping) through the same guard
    /// as every fetch: private addresses refused on the literal and on every
    /// resolved address, no redirects followed, the status returned.
    pub async fn post_form(&self, url: &Url, body: String) -> Result<u16, FetchError> {
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(FetchError::UnsupportedUrl {
                url: url.to_string(),
            });
        }
        if !self.allow_private {
            guard::check_literal(url).map_err(private_error)?;
        }
        let _permits = self.permits(url).await?;
        let send = self
            .client
            .post(url.clone())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send();
        match tokio::time::timeout(self.timeout, send).await {
            Err(_) => Err(FetchError::Timeout),
            Ok(Err(e)) => Err(request_error(e)),
            Ok(Ok(resp)) => Ok(resp.status().as_u16()),
        }
    }

    /// GETs `url`, following redirects, and decodes the body. With
    /// `validators` the request is conditional and a 304 yields
    /// [`FetchOutcome::NotModified`].
    pub async fn fetch(
        &self,
        url: &Url,
        encoding: EncodingChoice,
        validators: Option<&Validators>,
    ) -> Result<FetchOutcome, FetchError> {
        let cap = BodyCap {
            bytes: self.max_body,
            key: "poll.max_body",
        };
        self.fetch_capped(url, encoding, validators, cap).await
    }

    /// [`Fetcher::fetch`] of an article page: its body capped by
    /// `poll.max_article` (or `poll.max_body`, if smaller), since a page
    /// is parsed whole and its tree costs many times its size.
    pub async fn fetch_article(
        &self,
        url: &Url,
        encoding: EncodingChoice,
        max_article: u64,
    ) -> Result<FetchOutcome, FetchError> {
        let cap = if max_article < self.max_body {
            BodyCap {
                bytes: max_article,
                key: "poll.max_article",
            }
        } else {
            BodyCap {
                bytes: self.max_body,
                key: "poll.max_body",
            }
        };
        self.fetch_capped(url, encoding, None, cap).await
    }

    async fn fetch_capped(
        &self,
        url: &Url,
        encoding: EncodingChoice,
        validators: Option<&Validators>,
        cap: BodyCap,
    ) -> Result<FetchOutcome, FetchError> {
        let mut raw = match self.request(url, validators, None, cap).await? {
            Hop::NotModified => return Ok(FetchOutcome::NotModified),
            Hop::Done(raw) => raw,
        };
        if challenge::is_challenge(&raw.bytes) {
            let sum = challenge::solve(&raw.bytes).ok_or(FetchError::Challenge)?;
            let set_cookies = raw
                .headers
                .get_all(header::SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok());
            let ssid = challenge::ssid(set_cookies, &raw.bytes);
            let cookie = challenge::cookie(ssid.as_deref(), sum);
            tracing::debug!(url = %raw.url, "answering anti-bot challenge");
            // Like the page's own `location.reload()`: the URL that served
            // the challenge, with the cookie it asked for. Validators are
            // left off: the challenge stood in for the page, so a 304 would
            // confirm nothing we have.
            let challenged = raw.url.clone();
            raw = match self.request(&challenged, None, Some(&cookie), cap).await? {
                Hop::NotModified => return Ok(FetchOutcome::NotModified),
                Hop::Done(raw) => raw,
            };
            if challenge::is_challenge(&raw.bytes) {
                return Err(FetchError::Challenge);
            }
        }

        let content_type = raw
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let tld = match raw.url.host() {
            Some(Host::Domain(d)) => d.rsplit('.').next().map(str::to_ascii_lowercase),
            _ => None,
        };
        let (text, enc) = decode_with_tld(
            &raw.bytes,
            content_type.as_deref(),
            encoding,
            tld.as_deref(),
        );
        let header_text = |name| {
            raw.headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let validators = Validators {
            etag: header_text(header::ETAG),
            last_modified: header_text(header::LAST_MODIFIED),
        };
        Ok(FetchOutcome::Page(Page {
            url: raw.url,
            status: raw.status,
            content_type,
            validators,
            bytes: raw.bytes,
            text,
            encoding: enc.name(),
        }))
    }

    /// One logical request: the redirect chain and the final body. The
    /// timeout covers time spent talking to servers, not time queued for a
    /// permit, so a long per-host queue doesn't turn into timeouts.
    async fn request(
        &self,
        start: &Url,
        validators: Option<&Validators>,
        cookie: Option<&str>,
        cap: BodyCap,
    ) -> Result<Hop, FetchError> {
        let mut url = start.clone();
        let mut visited = HashSet::from([without_fragment(start)]);
        let mut redirects = 0;
        let mut budget = self.timeout;
        loop {
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(FetchError::UnsupportedUrl {
                    url: url.to_string(),
                });
            }
            if !self.allow_private {
                guard::check_literal(&url).map_err(private_error)?;
            }
            let _permits = self.permits(&url).await?;
            // Cookies belong to the host that set them (any port or scheme,
            // as RFC 6265 has it), so an http → https hop keeps it.
            let cookie = cookie.filter(|_| url.host_str() == start.host_str());
            let began = Instant::now();
            let step = tokio::time::timeout(budget, self.hop(&url, validators, cookie, cap)).await;
            budget = budget.saturating_sub(began.elapsed());
            let next = match step {
                Err(_) => return Err(FetchError::Timeout),
                Ok(Err(e)) => return Err(e),
                Ok(Ok(Step::Final(hop))) => return Ok(hop),
                Ok(Ok(Step::Redirect(next))) => next,
            };
            let next = url.join(&next).map_err(|e| FetchError::BadRedirect {
                from: url.to_string(),
                reason: format!("Location {next:?} is not a URL ({e})"),
            })?;
            if redirects >= self.max_redirects {
                return Err(FetchError::TooManyRedirects {
                    limit: self.max_redirects,
                    url: next.to_string(),
                });
            }
            if !visited.insert(without_fragment(&next)) {
                return Err(FetchError::RedirectLoop {
                    url: next.to_string(),
                });
            }
            redirects += 1;
            url = next;
        }
    }

    /// One HTTP exchange.
    async fn hop(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        cookie: Option<&str>,
        cap: BodyCap,
    ) -> Result<Step, FetchError> {
        let mut req = self.client.get(url.clone());
        if let Some(v) = validators {
            // A stored validator that is no longer a valid header value is
            // dropped: the request is then unconditional, not broken.
            if let Some(etag) = v
                .etag
                .as_deref()
                .and_then(|s| HeaderValue::from_str(s).ok())
            {
                req = req.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = v
                .last_modified
                .as_deref()
                .and_then(|s| HeaderValue::from_str(s).ok())
            {
                req = req.header(header::IF_MODIFIED_SINCE, lm);
            }
        }
        if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(c).ok()) {
            req = req.header(header::COOKIE, c);
        }
        let mut resp = req.send().await.map_err(request_error)?;
        let status = resp.status();

        if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
            if let Some(loc) = resp.headers().get(header::LOCATION) {
                return Ok(Step::Redirect(location_text(loc.as_bytes())));
            }
            if status != StatusCode::MULTIPLE_CHOICES {
                return Err(FetchError::BadRedirect {
                    from: url.to_string(),
                    reason: format!("HTTP {} without a Location header", status.as_u16()),
                });
            }
        }
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Step::Final(Hop::NotModified));
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
                retry_after: retry_after(resp.headers()),
            });
        }
        let too_large = || FetchError::TooLarge {
            limit: cap.bytes,
            key: cap.key,
        };
        if resp.content_length().is_some_and(|n| n > cap.bytes) {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(request_error)? {
            if (bytes.len() + chunk.len()) as u64 > cap.bytes {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Step::Final(Hop::Done(Raw {
            url: url.clone(),
            status: status.as_u16(),
            headers: resp.headers().clone(),
            bytes,
        })))
    }

    /// Waits for a slot at `url`'s host (host and port: two services on one
    /// machine are separate), then for an overall slot, and holds both for
    /// one exchange including its body.
    ///
    /// Host first: a task queued behind a busy host must not sit on one of
    /// the few overall slots meanwhile, or one slow outlet with many
    /// articles would starve all the others. Both are released between
    /// redirect hops, so nobody waits for a host slot while holding an
    /// overall one, and no two tasks can wait on each other.
    ///
    /// With `host_delay`, the exchange starts only once that long has passed
    /// since the last start at this host. The wait happens holding the host
    /// slot but not an overall one; a start is claimed only once both are
    /// held, so two requests sharing a host (`per_host` > 1) cannot start
    /// closer together either.
    async fn permits(&self, url: &Url) -> Result<[OwnedSemaphorePermit; 2], FetchError> {
        let key = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or(0)
        );
        let shared_key = key.clone();
        let host = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            if hosts.len() >= MAX_IDLE_HOSTS {
                // Only idle hosts go: nobody else holds their semaphore and
                // their delay is over.
                hosts.retain(|_, s| !s.is_idle(self.host_delay));
            }
            hosts
                .entry(key)
                .or_insert_with(|| {
                    Arc::new(HostSlot {
                        requests: Arc::new(Semaphore::new(self.per_host)),
                        last_start: Mutex::new(None),
                    })
                })
                .clone()
        };
        let closed = |_| FetchError::Setup("request limiter closed".into());
        let host_permit = host
            .requests
            .clone()
            .acquire_owned()
            .await
            .map_err(closed)?;
        loop {
            if !self.host_delay.is_zero()
                && let Some(at) = host.ready_at(self.host_delay)
            {
                tokio::time::sleep_until(at).await;
            }
            let overall = self.overall.clone().acquire_owned().await.map_err(closed)?;
            if self.host_delay.is_zero() || host.claim(self.host_delay).is_none() {
                // This process's turn; with other pollers, theirs too.
                let wait = match &self.shared_turns {
                    Some(turns) if !self.host_delay.is_zero() => {
                        turns.take_turn(&shared_key, self.host_delay)
                    }
                    _ => None,
                };
                match wait {
                    None => return Ok([host_permit, overall]),
                    Some(wait) => {
                        drop(overall);
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                }
            }
            // Another request to this host started while we waited for an
            // overall slot: give the slot back and wait our turn again.
        }
    }
}

/// Per-host limiters kept before idle ones are dropped; a poll run touches
/// far fewer hosts, so this only bounds a long-running process.
const MAX_IDLE_HOSTS: usize = 512;

/// A body size limit and the setting that imposes it, for the message.
#[derive(Debug, Clone, Copy)]
struct BodyCap {
    bytes: u64,
    key: &'static str,
}

enum Step {
    Final(Hop),
    Redirect(String),
}

/// Fragments never reach the server, so `/a#x` and `/a` are one stop.
fn without_fragment(url: &Url) -> String {
    let mut url = url.clone();
    url.set_fragment(None);
    url.into()
}

fn private_error(p: guard::PrivateAddress) -> FetchError {
    FetchError::PrivateAddress {
        host: p.host,
        addr: p.addr,
    }
}

/// Sorts a reqwest failure into the variant a scheduler acts on.
fn request_error(e: reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(p) = s.downcast_ref::<guard::PrivateAddress>() {
            return private_error(p.clone());
        }
        source = s.source();
    }
    if e.is_timeout() {
        return FetchError::Timeout;
    }
    // Name the host: in a status table of many sources on one site, "dns
    // error" alone does not say which name failed.
    match e.url().and_then(|u| u.host_str()) {
        Some(host) => FetchError::Network(format!("{host}: {}", error_chain(&e))),
        None => FetchError::Network(error_chain(&e)),
    }
}

/// The useful part of an error chain on one line. reqwest's outermost
/// message repeats the URL (the caller shows it already) and hyper adds
/// "client error (Connect)" wrappers; the causes below say what happened.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = Some(e);
    while let Some(s) = source {
        let text = s.to_string().replace(['\n', '\r'], " ");
        let noise = text.starts_with("error sending request")
            || text.starts_with("client error (")
            || text.starts_with("error decoding response body")
            || text.starts_with("request or response body error");
        if !noise && !parts.iter().any(|p| p.contains(text.as_str())) {
            parts.push(text);
        }
        source = s.source();
    }
    if parts.is_empty() {
        // Everything was a wrapper; the outermost message is still better
        // than nothing.
        return e.to_string().replace(['\n', '\r'], " ");
    }
    parts.join(": ")
}

/// A Location header as text for `Url::join`. Chinese servers often send raw
/// GBK or UTF-8 bytes in it; percent-encoding them hands the same bytes back
/// to the server, which is what it expects.
fn location_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes.trim_ascii() {
        if b.is_ascii_graphic() || b == b' ' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `Retry-After` as seconds or an HTTP date; a date in the past is zero.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.signed_duration_since(chrono::Utc::now());
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(120)));
        h.insert(
            header::RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        let later = (chrono::Utc::now() + chrono::Duration::seconds(600))
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        h.insert(
            header::RETRY_AFTER,
            HeaderValue::from_str(&later).expect("header"),
        );
        let d = retry_after(&h).expect("date parsed");
        assert!(d > Duration::from_secs(590) && d <= Duration::from_secs(600));
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn messages_are_one_line() {
        let errors = [
            FetchError::Status {
                status: 503,
                retry_after: Some(Duration::from_secs(90)),
            },
            FetchError::PrivateAddress {
                host: "intranet.example".into(),
                addr: "10.0.0.1".parse().expect("ip"),
            },
            FetchError::Challenge,
            FetchError::TooLarge {
                limit: 1024,
                key: "poll.max_body",
            },
        ];
        for e in errors {
            let m = e.to_string();
            assert!(!m.contains('\n'), "{m}");
        }
        assert_eq!(
            FetchError::Status {
                status: 503,
                retry_after: Some(Duration::from_secs(90))
            }
            .to_string(),
            "HTTP 503 Service Unavailable, retry after 1m 30s"
        );
    }

    #[test]
    fn fetcher_and_its_future_are_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>(_: &T) {}
        send_sync::<Fetcher>();
        let poll = Poll {
            interval: Duration::from_secs(60),
            timeout: Duration::from_secs(1),
            max_body: 1024,
            concurrency: 1,
            per_host: 1,
            user_agent: "t".into(),
            allow_private: true,
            max_redirects: 5,
            host_delay: Duration::ZERO,
            ..Poll::default()
        };
        let f = Fetcher::new(&poll).expect("fetcher");
        let url = Url::parse("http://127.0.0.1:9/").expect("url");
        let fut = f.fetch(&url, EncodingChoice::Auto, None);
        send(&fut);
    }
}

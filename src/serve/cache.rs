//! The render-once cache between the store and the HTTP server: publish
//! renders every document (feeds, JSON Feeds, archives, OPML, index) when
//! the publishable set changes, and requests only clone what is here.
//!
//! Each document is kept with its validators (strong ETag per
//! representation, Last-Modified) and its gzip and brotli bodies, so
//! serving one costs a map lookup and a few reference-count increments: no
//! database, no rendering, no compression, no copy of the body.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use axum::http::{HeaderMap, HeaderValue};
use bytes::Bytes;
use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use prometheus_client::metrics::counter::Counter;
use sha2::{Digest, Sha256};

use super::ServeError;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::model::FeedEntry;
use crate::publish::{self, FeedKind, archive, jsonfeed};
use crate::store::{FeedVersion, Store};
use crate::time::{self, beijing};

/// How long after a month ends its archive is declared immutable. Items
/// are filed by their article's date, and they reach the store late: an
/// outlet is polled hours after it publishes, and an editor may approve a
/// candidate weeks later. A month sealed too early would keep a stale
/// document in caches for a year.
pub const ARCHIVE_SETTLE: Duration = Duration::from_secs(31 * 24 * 3600);

/// `Cache-Control` of sealed archives.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

const ATOM: &str = "application/atom+xml; charset=utf-8";
const JSON_FEED: &str = "application/feed+json; charset=utf-8";
const OPML: &str = "text/x-opml; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";

/// One encoding of a document.
#[derive(Debug)]
pub struct Representation {
    pub body: Bytes,
    /// Strong and distinct per encoding (RFC 9110 §8.8.3): the bytes on the
    /// wire differ, so a strong validator must too.
    pub etag: HeaderValue,
    pub content_length: HeaderValue,
    /// Every header of the 304 the fast path answers for this
    /// representation ([`super::http::not_modified_headers`]), built with
    /// the document ([`Document::with_not_modified_headers`]) from its
    /// validators as they are then.
    pub not_modified_headers: HeaderMap,
}

/// A rendered document with everything a response needs.
#[derive(Debug)]
pub struct Document {
    pub content_type: HeaderValue,
    pub identity: Representation,
    pub gzip: Option<Representation>,
    pub br: Option<Representation>,
    pub last_modified: HeaderValue,
    /// `last_modified` as a time, whole seconds (HTTP dates have no more).
    pub modified: SystemTime,
    pub cache_control: HeaderValue,
    /// Resolved once here so that counting a request needs no label lookup.
    pub(crate) served: Counter,
    pub(crate) not_modified: Counter,
    hash: [u8; 32],
}

/// Everything served, as of one refresh.
#[derive(Debug, Default)]
pub struct Snapshot {
    docs: HashMap<String, Arc<Document>>,
    loaded: bool,
    fingerprint: Option<[u8; 32]>,
    /// the store's `data_version`, config and day when last checked: cheap
    /// evidence that nothing changed.
    quick_key: Option<[u8; 32]>,
}

impl Snapshot {
    /// The document served at `path` (`/feeds/all.xml`, `/`, …).
    pub fn get(&self, path: &str) -> Option<&Arc<Document>> {
        self.docs.get(path)
    }

    /// Whether a refresh has filled it yet.
    pub fn is_loaded(&self) -> bool {
        self.loaded
    }

    /// Every path served, sorted.
    pub fn paths(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = self.docs.keys().map(String::as_str).collect();
        paths.sort_unstable();
        paths
    }
}

/// The documents of the current publishable set.
#[derive(Debug)]
pub struct FeedCache {
    snapshot: RwLock<Arc<Snapshot>>,
    /// Serializes refreshes: two at once would render twice and could
    /// install an older result over a newer one.
    refreshing: Mutex<()>,
    renders: AtomicU64,
    metrics: Arc<Metrics>,
    /// Recently asked-for archive documents, oldest first, with the
    /// fingerprint of the published set they were rendered from.
    archives: Mutex<Vec<CachedArchive>>,
}

/// The fingerprint and quick key a render was made for, so `install`
/// records the state it rendered rather than a later one.
pub(crate) type RenderKey = ([u8; 32], [u8; 32]);

/// What a refresh read from the store: the entries of the current
/// documents (at most `publish.entries` per feed) and which monthly
/// archives exist. Archives themselves are rendered when asked for, so a
/// refresh costs the same whatever the store holds.
pub(crate) struct Loaded {
    pub key: RenderKey,
    pub entries: Vec<FeedEntry>,
    pub months: Vec<(Option<String>, String)>,
}

/// A rendered archive: its path, the fingerprint of the published set it
/// was rendered from, the document.
type CachedArchive = (String, Option<[u8; 32]>, Arc<Document>);

/// How many rendered archive documents are kept; they are rarely asked
/// for, and each can be large.
const ARCHIVE_CACHE: usize = 16;

/// What one document renders to, before compression.
struct Rendered {
    path: String,
    label: String,
    content_type: &'static str,
    body: String,
    updated: DateTime<FixedOffset>,
    sealed: bool,
}

impl FeedCache {
    pub fn new(metrics: Arc<Metrics>) -> FeedCache {
        FeedCache {
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
            refreshing: Mutex::new(()),
            renders: AtomicU64::new(0),
            archives: Mutex::new(Vec::new()),
            metrics,
        }
    }

    /// What requests read; never blocks on a refresh in progress for
    /// longer than a pointer swap.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Held for a whole refresh (load and install), so that two refreshes
    /// never interleave.
    pub(crate) fn refresh_guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.refreshing.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many times the documents were rendered.
    pub fn renders(&self) -> u64 {
        self.renders.load(Ordering::Relaxed)
    }

    /// Re-reads the publishable entries and re-renders when they (or the
    /// configuration) changed; true when a served document changed.
    pub fn refresh(&self, config: &Config, store: &Store) -> Result<bool, ServeError> {
        let _guard = self.refresh_guard();
        let Some(loaded) = self.load(config, store, false)? else {
            return Ok(false);
        };
        Ok(!self.install(config, &loaded)?.is_empty())
    }

    /// The first half of a refresh, under the store's lock: `None` when the
    /// fingerprint says nothing changed. With `quick`, a fingerprint query
    /// is skipped too unless another connection committed since the last
    /// check (the store's `data_version`), the configuration changed or a day
    /// passed — what a periodic check needs, since this process's own
    /// writes come with a notification.
    pub(crate) fn load(
        &self,
        config: &Config,
        store: &Store,
        quick: bool,
    ) -> Result<Option<Loaded>, ServeError> {
        let old = self.snapshot();
        let quick_key = quick_key(config, store)?;
        if quick && old.loaded && old.quick_key == Some(quick_key) {
            return Ok(None);
        }
        let fp = fingerprint(config, store)?;
        if old.loaded && old.fingerprint == Some(fp) {
            if old.quick_key != Some(quick_key) {
                self.swap(Snapshot {
                    docs: old.docs.clone(),
                    loaded: true,
                    fingerprint: Some(fp),
                    quick_key: Some(quick_key),
                });
            }
            return Ok(None);
        }
        let publishing = config.published();
        // The current documents get the same entries `app::publish` reads,
        // so they are byte for byte what `kuaibao publish` writes.
        let limit = config.publish.entries * (config.sections.len() + 1);
        let entries = store.feed_entries(publishing, Some(limit))?;
        let months = store.publishable_months(publishing)?;
        Ok(Some(Loaded {
            key: (fp, quick_key),
            entries,
            months,
        }))
    }

    /// The second half, outside the store's lock: renders, compresses what
    /// changed, installs the new snapshot; returns the paths whose bytes
    /// changed (every path on the first load).
    pub(crate) fn install(
        &self,
        config: &Config,
        loaded: &Loaded,
    ) -> Result<Vec<String>, ServeError> {
        let (fp, quick_key) = loaded.key;
        let rendered = render_all(config, &loaded.entries, &loaded.months)?;
        self.renders.fetch_add(1, Ordering::Relaxed);
        let old = self.snapshot();
        let max_age = HeaderValue::from_str(&format!(
            "public, max-age={}",
            config.server.max_age.as_secs()
        ))
        .unwrap_or_else(|_| HeaderValue::from_static("public, max-age=300"));
        let now = SystemTime::now();
        let mut docs = HashMap::with_capacity(rendered.len());
        let mut changed = Vec::new();
        for r in rendered {
            let cache_control = if r.sealed {
                HeaderValue::from_static(IMMUTABLE)
            } else {
                max_age.clone()
            };
            let hash: [u8; 32] = Sha256::digest(r.body.as_bytes()).into();
            let previous = old.docs.get(&r.path);
            let doc = match previous {
                Some(p) if p.hash == hash && p.cache_control == cache_control => p.clone(),
                Some(p) if p.hash == hash => Arc::new(with_cache_control(p, cache_control)),
                _ => {
                    changed.push(r.path.clone());
                    let mut modified = http_time(r.updated.into());
                    // A document whose bytes changed without a newer entry
                    // (an item withdrawn, a title edited in the config) must
                    // still look modified to If-Modified-Since clients.
                    if let Some(p) = previous
                        && modified <= p.modified
                    {
                        modified = http_time(now);
                    }
                    Arc::new(self.document(&r, hash, modified, cache_control))
                }
            };
            docs.insert(r.path, doc);
        }
        // `/` is the index page under its other name: one document, so it
        // is compressed once and both names share validators.
        if let Some(index) = docs.get("/index.html").cloned() {
            docs.insert("/".into(), index);
        }
        self.swap(Snapshot {
            docs,
            loaded: true,
            fingerprint: Some(fp),
            quick_key: Some(quick_key),
        });
        Ok(changed)
    }

    /// The archive document at `path` (`/feeds/archive/<feed>/<YYYY-MM>.xml`),
    /// rendered on first request and kept while the published set stays the
    /// same; `None` when there is no such archive.
    pub fn archive(
        &self,
        config: &Config,
        store: &Mutex<Store>,
        path: &str,
    ) -> Result<Option<Arc<Document>>, ServeError> {
        let Some((name, month)) = path
            .strip_prefix("/feeds/archive/")
            .and_then(|rest| rest.strip_suffix(".xml"))
            .and_then(|rest| rest.split_once('/'))
        else {
            return Ok(None);
        };
        let Some(kind) = publish::feed_kinds(config)
            .into_iter()
            .find(|k| k.name() == name)
        else {
            return Ok(None);
        };
        let fingerprint = self.snapshot().fingerprint;
        {
            let cached = self.archives.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((_, _, doc)) = cached
                .iter()
                .find(|(p, fp, _)| p == path && *fp == fingerprint)
            {
                return Ok(Some(doc.clone()));
            }
        }
        let publishing = config.published();
        let (months, entries) = {
            let store = store.lock().unwrap_or_else(|p| p.into_inner());
            let months = months_of(kind, &store.publishable_months(publishing)?);
            if !months.iter().any(|m| m == month) {
                return Ok(None);
            }
            (months, store.feed_entries_in_month(publishing, month)?)
        };
        // Rendering happens without the store's lock.
        let entries: Vec<&FeedEntry> = entries.iter().filter(|e| kind.contains(e)).collect();
        let at = months.iter().position(|m| m == month).unwrap_or(0);
        let archives: Vec<archive::Archive<'_>> = months
            .iter()
            .map(|m| archive::Archive {
                month: m.clone(),
                entries: if m == month {
                    entries.clone()
                } else {
                    Vec::new()
                },
            })
            .collect();
        let updated = entries
            .iter()
            .map(|e| e.changed)
            .max()
            .unwrap_or_else(|| publish::feed_updated(config, kind, &[]));
        let rel = archive::archive_rel_path(kind, month);
        let rendered = Rendered {
            label: rel.trim_start_matches("feeds/").to_string(),
            path: format!("/{rel}"),
            content_type: ATOM,
            body: archive::render_archive(config, kind, &archives, at)?,
            updated,
            sealed: sealed(month, Utc::now()),
        };
        let cache_control = if rendered.sealed {
            HeaderValue::from_static(IMMUTABLE)
        } else {
            HeaderValue::from_str(&format!(
                "public, max-age={}",
                config.server.max_age.as_secs()
            ))
            .unwrap_or_else(|_| HeaderValue::from_static("public, max-age=300"))
        };
        let hash: [u8; 32] = Sha256::digest(rendered.body.as_bytes()).into();
        let doc =
            Arc::new(self.document(&rendered, hash, http_time(updated.into()), cache_control));
        let mut cached = self.archives.lock().unwrap_or_else(|p| p.into_inner());
        cached.retain(|(p, _, _)| p != path);
        if cached.len() >= ARCHIVE_CACHE {
            cached.remove(0);
        }
        cached.push((path.to_string(), fingerprint, doc.clone()));
        Ok(Some(doc))
    }

    fn swap(&self, snapshot: Snapshot) {
        *self.snapshot.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(snapshot);
    }

    fn document(
        &self,
        r: &Rendered,
        hash: [u8; 32],
        modified: SystemTime,
        cache_control: HeaderValue,
    ) -> Document {
        let tag: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
        let identity = Bytes::from(r.body.clone().into_bytes());
        let gzip = gzip(&identity).map(|b| representation(b, &tag, "-gz"));
        let br = brotli(&identity).map(|b| representation(b, &tag, "-br"));
        Document {
            content_type: HeaderValue::from_static(r.content_type),
            identity: representation(identity, &tag, ""),
            gzip,
            br,
            last_modified: HeaderValue::from_str(&httpdate::fmt_http_date(modified))
                .unwrap_or_else(|_| HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT")),
            modified,
            cache_control,
            served: self.metrics.feed_request_counter(&r.label, 200),
            not_modified: self.metrics.feed_request_counter(&r.label, 304),
            hash,
        }
        .with_not_modified_headers()
    }
}

/// `d` under another Cache-Control (a month's archive sealed, the
/// configured max-age changed), with 304 headers that carry it.
fn with_cache_control(d: &Document, cache_control: HeaderValue) -> Document {
    let rep = |r: &Representation| Representation {
        body: r.body.clone(),
        etag: r.etag.clone(),
        content_length: r.content_length.clone(),
        not_modified_headers: HeaderMap::new(),
    };
    Document {
        content_type: d.content_type.clone(),
        identity: rep(&d.identity),
        gzip: d.gzip.as_ref().map(rep),
        br: d.br.as_ref().map(rep),
        last_modified: d.last_modified.clone(),
        modified: d.modified,
        cache_control,
        served: d.served.clone(),
        not_modified: d.not_modified.clone(),
        hash: d.hash,
    }
    .with_not_modified_headers()
}

impl Document {
    /// Fills in each representation's `not_modified_headers` from the
    /// validators the document now has. Every way of making a document
    /// ends here, so a prebuilt 304 never carries an earlier render's
    /// validators.
    fn with_not_modified_headers(mut self) -> Document {
        use super::http::not_modified_headers;
        let identity = not_modified_headers(&self, &self.identity);
        let gzip = self.gzip.as_ref().map(|r| not_modified_headers(&self, r));
        let br = self.br.as_ref().map(|r| not_modified_headers(&self, r));
        self.identity.not_modified_headers = identity;
        for (rep, headers) in [(&mut self.gzip, gzip), (&mut self.br, br)] {
            if let (Some(rep), Some(headers)) = (rep.as_mut(), headers) {
                rep.not_modified_headers = headers;
            }
        }
        self
    }
}

fn representation(body: Bytes, tag: &str, suffix: &str) -> Representation {
    Representation {
        etag: HeaderValue::from_str(&format!("\"{tag}{suffix}\""))
            .unwrap_or_else(|_| HeaderValue::from_static("\"0\"")),
        content_length: HeaderValue::from(body.len()),
        body,
        not_modified_headers: HeaderMap::new(),
    }
}

/// Truncated to whole seconds, as an HTTP date carries it, so comparing
/// with If-Modified-Since is exact.
fn http_time(t: SystemTime) -> SystemTime {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

/// Compressed once per change, so the best level is affordable; `None`
/// when compression would not make it smaller.
fn gzip(body: &[u8]) -> Option<Bytes> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(body).ok()?;
    let out = enc.finish().ok()?;
    (out.len() < body.len()).then(|| Bytes::from(out))
}

/// Quality 9: within a few per cent of 11's size at a tenth of its time and
/// memory, which matters because a busy daemon re-renders every few
/// seconds.
const BROTLI_QUALITY: u32 = 9;

fn brotli(body: &[u8]) -> Option<Bytes> {
    let mut out = Vec::new();
    {
        // A window larger than the document only costs memory.
        let window = (usize::BITS - body.len().max(1).leading_zeros()).clamp(16, 22);
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, BROTLI_QUALITY, window);
        w.write_all(body).ok()?;
        w.flush().ok()?;
    }
    (out.len() < body.len()).then(|| Bytes::from(out))
}

fn sha(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

/// What the documents depend on in the configuration.
fn config_key(config: &Config) -> String {
    let sections: Vec<_> = config
        .sections
        .iter()
        .map(|s| (&s.id, &s.name, &s.description))
        .collect();
    format!(
        "{:?}|{}|{}|{:?}|{:?}|{:?}|{:?}",
        config.title,
        config.base_url,
        config.publish.entries,
        config.review.mode,
        config.server.max_age,
        config.server.websub_hub,
        sections
    )
}

/// The day (Beijing) is part of both keys: archives are sealed by date.
fn quick_key(config: &Config, store: &Store) -> Result<[u8; 32], ServeError> {
    let data_version = store.data_version()?;
    let today = time::today().to_string();
    Ok(sha(&[
        &data_version.to_le_bytes(),
        config_key(config).as_bytes(),
        today.as_bytes(),
    ]))
}

/// Changes whenever an item enters or leaves the publishable set or one of
/// them changes (every such write bumps `updated_at`), or a source is
/// renamed (entries name their source).
fn fingerprint(config: &Config, store: &Store) -> Result<[u8; 32], ServeError> {
    let publishing = config.published();
    let FeedVersion {
        count,
        max_updated,
        id_sum,
        sources,
    } = store.feed_version(publishing)?;
    let today = time::today().to_string();
    Ok(sha(&[
        &count.to_le_bytes(),
        max_updated.as_bytes(),
        &id_sum.to_le_bytes(),
        sources.as_bytes(),
        config_key(config).as_bytes(),
        today.as_bytes(),
    ]))
}

/// Whether the archive of `month` (`YYYY-MM`) is sealed at `now`.
fn sealed(month: &str, now: DateTime<Utc>) -> bool {
    let Some((y, m)) = month.split_once('-') else {
        return false;
    };
    let (Ok(y), Ok(m)) = (y.parse::<i32>(), m.parse::<u32>()) else {
        return false;
    };
    let (ny, nm) = if m >= 12 { (y + 1, 1) } else { (y, m + 1) };
    let Some(end) = beijing().with_ymd_and_hms(ny, nm, 1, 0, 0, 0).single() else {
        return false;
    };
    let settle = chrono::Duration::from_std(ARCHIVE_SETTLE).unwrap_or_default();
    now >= end + settle
}

/// The months of `kind`'s archives, oldest first.
fn months_of(kind: FeedKind, months: &[(Option<String>, String)]) -> Vec<String> {
    let mut out: Vec<String> = months
        .iter()
        .filter(|(section, _)| match kind {
            FeedKind::All => true,
            FeedKind::Section(s) => section.as_deref() == Some(s.id.as_str()),
        })
        .map(|(_, month)| month.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Every current document, as `kuaibao publish` would render the ones it
/// writes; archives are rendered on request ([`FeedCache::archive`]).
fn render_all(
    config: &Config,
    current: &[FeedEntry],
    months: &[(Option<String>, String)],
) -> Result<Vec<Rendered>, ServeError> {
    let newest = current
        .iter()
        .map(|e| e.changed)
        .max()
        .unwrap_or_else(|| publish::feed_updated(config, FeedKind::All, &[]));
    let mut out = Vec::new();
    for kind in publish::feed_kinds(config) {
        let newest_month = months_of(kind, months).pop();
        let updated = publish::feed_updated(config, kind, current);
        out.push(Rendered {
            path: format!("/{}", kind.rel_path()),
            label: format!("{}.xml", kind.name()),
            content_type: ATOM,
            body: publish::render_current_feed(config, kind, current, newest_month.as_deref())?,
            updated,
            sealed: false,
        });
        out.push(Rendered {
            path: format!("/{}", kind.json_rel_path()),
            label: format!("{}.json", kind.name()),
            content_type: JSON_FEED,
            body: jsonfeed::render_json_feed(config, kind, current)?,
            updated,
            sealed: false,
        });
    }
    out.push(Rendered {
        path: "/feeds.opml".into(),
        label: "opml".into(),
        content_type: OPML,
        body: publish::render_opml(config)?,
        updated: newest,
        sealed: false,
    });
    let index = publish::render_index(config, current);
    out.push(Rendered {
        path: "/index.html".into(),
        label: "index".into(),
        content_type: HTML,
        body: index,
        updated: newest,
        sealed: false,
    });
    Ok(out)
}

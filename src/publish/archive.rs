//! Monthly archives of the publish stage (RFC 5005 "archived feeds"):
//! `feeds/archive/<feed>/YYYY-MM.xml`, served by `kuaibao serve`.
//!
//! A feed document holds only the newest `publish.entries` entries; a
//! reader that was away longer walks `prev-archive` links back through
//! these documents and misses nothing. Like the feeds themselves they are a
//! pure function of configuration and entries, so an unchanged month keeps
//! its bytes (and its ETag) forever.

use std::collections::BTreeMap;

use atom_syndication::extension::{Extension, ExtensionMap};

use super::atom::{build_feed, link, tag_uri, write_feed};
use super::{FeedKind, PublishError, entry_date, sort_newest_first};
use crate::config::Config;
use crate::model::FeedEntry;
use crate::time::beijing;

/// The namespace of `<fh:archive/>`.
pub const HISTORY_NS: &str = "http://purl.org/syndication/history/1.0";

/// The calendar month (Beijing time, as the bulletin's editors count) an
/// entry is filed under: `YYYY-MM`.
pub fn month_of(entry: &FeedEntry) -> String {
    entry_date(entry)
        .with_timezone(&beijing())
        .format("%Y-%m")
        .to_string()
}

/// `feeds/archive/<feed>/<YYYY-MM>.xml`, relative to `base_url`.
pub fn archive_rel_path(feed: FeedKind, month: &str) -> String {
    format!("feeds/archive/{}/{month}.xml", feed.name())
}

/// One month of one feed.
#[derive(Debug, Clone)]
pub struct Archive<'e> {
    /// `YYYY-MM`.
    pub month: String,
    /// Newest first.
    pub entries: Vec<&'e FeedEntry>,
}

/// Every month of `feed` that has entries, oldest first. Unlike the feed
/// document, a month is never capped: an archive that dropped entries would
/// defeat its purpose.
pub fn archives<'e>(feed: FeedKind, entries: &'e [FeedEntry]) -> Vec<Archive<'e>> {
    let mut by_month: BTreeMap<String, Vec<&'e FeedEntry>> = BTreeMap::new();
    for e in entries.iter().filter(|e| feed.contains(e)) {
        by_month.entry(month_of(e)).or_default().push(e);
    }
    by_month
        .into_iter()
        .map(|(month, mut entries)| {
            sort_newest_first(&mut entries);
            Archive { month, entries }
        })
        .collect()
}

/// The archive document of `archives[at]`, linked to its neighbours in
/// `archives` (as [`archives`] returns them: oldest first) and to the
/// current feed.
pub fn render_archive(
    config: &Config,
    feed: FeedKind,
    archives: &[Archive<'_>],
    at: usize,
) -> Result<String, PublishError> {
    let this = archives.get(at).ok_or_else(|| PublishError::Render {
        document: format!("feeds/archive/{}", feed.name()),
        message: format!("no archive #{at}"),
    })?;
    let base = config.base_url.as_str();
    let rel = archive_rel_path(feed, &this.month);
    let mut atom = build_feed(config, feed, &this.entries);
    atom.id = tag_uri(
        config,
        &format!("feeds/{}/archive/{}", feed.name(), this.month),
    );
    atom.title.value = format!("{} · {}", atom.title.value, this.month);
    let atom_type = "application/atom+xml";
    // build_feed's self link names the current feed; in an archive that
    // URL is rel="current" (RFC 5005 §4) and self is the archive's own.
    for l in &mut atom.links {
        if l.rel == "self" {
            l.rel = "current".into();
        }
    }
    atom.links
        .insert(0, link("self", &format!("{base}{rel}"), atom_type));
    if let Some(prev) = at.checked_sub(1).and_then(|i| archives.get(i)) {
        let href = format!("{base}{}", archive_rel_path(feed, &prev.month));
        atom.links.push(link("prev-archive", &href, atom_type));
    }
    if let Some(next) = archives.get(at + 1) {
        let href = format!("{base}{}", archive_rel_path(feed, &next.month));
        atom.links.push(link("next-archive", &href, atom_type));
    }
    atom.namespaces.insert("fh".into(), HISTORY_NS.into());
    let mut ext = ExtensionMap::default();
    ext.entry("fh".into()).or_default().insert(
        "archive".into(),
        vec![Extension {
            name: "fh:archive".into(),
            ..Extension::default()
        }],
    );
    atom.extensions = ext;
    write_feed(&atom, &rel)
}

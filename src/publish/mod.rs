//! Publish, layer 5 (renderers, above bulletin): renders what the store
//! releases as the documents readers fetch.
//!
//! It turns the entries the store releases into the documents readers and
//! the HTTP server see: one Atom feed for everything and one per bulletin
//! section ([`atom`]), an OPML list of those feeds ([`opml`]), a plain
//! index page ([`index`]) and the feed of the bulletin's published issues
//! ([`render_issues_feed`]). For the HTTP server only, it also renders JSON
//! Feed twins of the feeds ([`jsonfeed`]) and RFC 5005 monthly archives
//! ([`archive`]). Output is a pure function of the configuration
//! and the entries, so re-publishing an unchanged store rewrites nothing:
//! ETags stay put, feed readers see no change and mtimes don't churn.

pub mod archive;
mod atom;
mod index;
mod issues;
pub mod jsonfeed;
mod opml;

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};

use crate::config::{Config, Section};
use crate::model::FeedEntry;

pub use atom::{render_current_feed, render_feed};
pub use index::render_index;
pub use issues::{
    DOCX_TYPE, ISSUES_FEED, PublishedIssue, issue_url, render_issues_feed, write_issues_feed,
};
pub use opml::render_opml;

/// What went wrong publishing; I/O errors name the path.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot render {document}: {message}")]
    Render { document: String, message: String },
    /// `feeds/all.xml` is the feed of everything, so a section cannot use
    /// the id `all`.
    #[error("section id \"{0}\" clashes with the feed of all entries (feeds/all.xml)")]
    SectionNameClash(String),
}

impl PublishError {
    fn io(path: &Path, source: std::io::Error) -> PublishError {
        PublishError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Which feed document to render.
#[derive(Debug, Clone, Copy)]
pub enum FeedKind<'a> {
    /// Every entry, whatever its section.
    All,
    /// The entries of one section.
    Section(&'a Section),
}

impl FeedKind<'_> {
    /// The file stem: `feeds/<name>.xml`.
    pub fn name(&self) -> &str {
        match self {
            FeedKind::All => "all",
            FeedKind::Section(s) => &s.id,
        }
    }

    /// The path of the document relative to the output directory (and to
    /// `base_url`).
    pub fn rel_path(&self) -> String {
        format!("feeds/{}.xml", self.name())
    }

    /// The path of the feed's JSON Feed twin, which only the HTTP server
    /// serves.
    pub fn json_rel_path(&self) -> String {
        format!("feeds/{}.json", self.name())
    }

    /// The feed's title as readers see it.
    pub fn title(&self, config: &Config) -> String {
        match self {
            FeedKind::All => config.title.clone(),
            FeedKind::Section(s) => format!("{} · {}", config.title, s.name),
        }
    }

    /// Whether `entry` belongs in this feed.
    pub fn contains(&self, entry: &FeedEntry) -> bool {
        match self {
            FeedKind::All => true,
            FeedKind::Section(s) => entry.section.as_deref() == Some(s.id.as_str()),
        }
    }
}

/// The `updated` date of `feed`'s document rendered from `entries`: its
/// newest entry's update (the HTTP server's `Last-Modified`).
pub fn feed_updated(
    config: &Config,
    feed: FeedKind,
    entries: &[FeedEntry],
) -> DateTime<FixedOffset> {
    atom::feed_updated(&atom::select(config, feed, entries))
}

/// Every feed `write_all` writes, `all` first, then sections in bulletin
/// order.
pub fn feed_kinds(config: &Config) -> Vec<FeedKind<'_>> {
    std::iter::once(FeedKind::All)
        .chain(config.sections.iter().map(FeedKind::Section))
        .collect()
}

/// How many entries one feed document holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedStat {
    /// `all` or the section id.
    pub name: String,
    pub path: PathBuf,
    pub entries: usize,
}

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct PublishReport {
    /// Every document, whether or not its bytes changed.
    pub files: Vec<PathBuf>,
    /// The documents whose bytes changed (new or rewritten); the others
    /// were left untouched.
    pub changed: Vec<PathBuf>,
    /// One per feed, in the order of [`feed_kinds`].
    pub feeds: Vec<FeedStat>,
}

/// Writes every document under `out` atomically; `entries` newest first.
///
/// Entries are re-sorted anyway, so the order they come in never changes
/// the output.
pub fn write_all(
    config: &Config,
    entries: &[FeedEntry],
    out: &Path,
) -> Result<PublishReport, PublishError> {
    if let Some(s) = config.sections.iter().find(|s| s.id == "all") {
        return Err(PublishError::SectionNameClash(s.id.clone()));
    }
    let mut report = PublishReport::default();
    for kind in feed_kinds(config) {
        let path = out.join("feeds").join(format!("{}.xml", kind.name()));
        let xml = render_feed(config, kind, entries)?;
        report.feeds.push(FeedStat {
            name: kind.name().to_string(),
            path: path.clone(),
            entries: atom::select(config, kind, entries).len(),
        });
        write_file(&path, xml.as_bytes(), &mut report)?;
    }
    let opml = render_opml(config)?;
    write_file(&out.join("feeds.opml"), opml.as_bytes(), &mut report)?;
    let html = render_index(config, entries);
    write_file(&out.join("index.html"), html.as_bytes(), &mut report)?;
    Ok(report)
}

/// Writes `bytes` to `path` unless it already holds exactly them; a
/// tempfile beside the target plus a rename means readers (and the HTTP
/// server) never see a half-written document.
fn write_file(path: &Path, bytes: &[u8], report: &mut PublishReport) -> Result<(), PublishError> {
    report.files.push(path.to_path_buf());
    match std::fs::read(path) {
        Ok(old) if old == bytes => return Ok(()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(PublishError::io(path, e)),
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| PublishError::io(dir, e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| PublishError::io(dir, e))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| PublishError::io(tmp.path(), e))?;
    // Tempfiles are created 0600; a web server running as another user must
    // still be able to read what we publish.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(|e| PublishError::io(tmp.path(), e))?;
    }
    tmp.persist(path)
        .map_err(|e| PublishError::io(path, e.error))?;
    report.changed.push(path.to_path_buf());
    Ok(())
}

/// When an entry counts as new: its publication, else its last update.
pub(crate) fn entry_date(entry: &FeedEntry) -> DateTime<FixedOffset> {
    entry.published.unwrap_or(entry.updated)
}

/// Newest first; the uid breaks ties so equal dates never reorder between
/// runs.
fn sort_newest_first(entries: &mut [&FeedEntry]) {
    entries.sort_by(|a, b| {
        entry_date(b)
            .cmp(&entry_date(a))
            .then_with(|| a.uid.cmp(&b.uid))
    });
}

/// Drops the characters XML 1.0 cannot carry at all (C0 controls other than
/// tab/newline/CR, U+FFFE/U+FFFF): scraped pages do contain them, and a
/// single one makes the whole feed ill-formed.
fn xml_clean(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        (c < '\u{20}' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
    };
    if s.contains(bad) {
        std::borrow::Cow::Owned(s.chars().filter(|&c| !bad(c)).collect())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

//! The OPML list of the publish stage (`feeds.opml`): every feed kuaibao
//! writes, so a reader subscribes to the whole bulletin in one import.

use opml::{Body, Head, OPML, Outline};

use super::{FeedKind, PublishError, feed_kinds, xml_clean};
use crate::config::Config;

/// OPML 2.0 listing `feeds/all.xml` and every section feed, in bulletin
/// order, with absolute URLs (an OPML file is usually downloaded and
/// imported elsewhere, where relative URLs mean nothing).
pub fn render_opml(config: &Config) -> Result<String, PublishError> {
    let base = config.base_url.as_str();
    let outlines = feed_kinds(config)
        .into_iter()
        .map(|kind| {
            let title = xml_clean(&kind.title(config)).into_owned();
            Outline {
                text: title.clone(),
                title: Some(title),
                r#type: Some("rss".into()),
                xml_url: Some(format!("{base}{}", kind.rel_path())),
                html_url: Some(base.to_string()),
                description: match kind {
                    FeedKind::Section(s) if !s.description.trim().is_empty() => {
                        Some(xml_clean(&s.description).into_owned())
                    }
                    _ => None,
                },
                language: Some("zh-CN".into()),
                ..Outline::default()
            }
        })
        .collect();
    let doc = OPML {
        version: "2.0".into(),
        head: Some(Head {
            title: Some(xml_clean(&config.title).into_owned()),
            ..Head::default()
        }),
        body: Body { outlines },
    };
    let xml = doc.to_string().map_err(|e| PublishError::Render {
        document: "feeds.opml".into(),
        message: e.to_string(),
    })?;
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n{xml}\n"
    ))
}

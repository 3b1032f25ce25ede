//! What every fuzz target shares: the first input byte chooses how the page
//! is served (Content-Type, a fixed encoding, which configured source reads
//! it), the rest is the response body, decoded to a `Page` exactly as the
//! fetcher decodes one (`kuaibao::fetch::decode_with_tld`, with the URL's
//! top-level domain as the detection hint).

#![allow(dead_code)]

use std::time::Duration;

use kuaibao::config::{EncodingChoice, FieldSelector, Source, SourceKind};
use kuaibao::fetch::decode_with_tld;
use kuaibao::model::{Page, Validators};
use url::{Host, Url};

/// Content-Type headers real outlets send, right and wrong (bits 0–2 of the
/// control byte).
const CONTENT_TYPES: [Option<&str>; 8] = [
    None,
    Some("text/html"),
    Some("text/html; charset=gbk"),
    Some("text/html; charset=utf-8"),
    Some("application/xml"),
    Some("application/rss+xml; charset=gb2312"),
    Some("application/json"),
    Some("text/plain; charset=\"utf-16le\""),
];

/// Splits a fuzz input into its control byte and the response body.
pub fn split(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((&control, body)) => (control, body),
        None => (0, &[]),
    }
}

/// Which of `n` configurations the control byte picks (its high nibble).
pub fn variant(control: u8, n: usize) -> usize {
    usize::from(control >> 4) % n
}

/// The body as fetch would hand it over from `url`: bits 0–2 of `control`
/// pick the Content-Type, bit 3 a source fixed to GB18030 instead of auto.
pub fn page(url: &str, control: u8, body: &[u8]) -> Page {
    let url = Url::parse(url).expect("valid fuzz URL");
    let content_type = CONTENT_TYPES[usize::from(control & 7)];
    let choice = if control & 8 != 0 {
        EncodingChoice::Fixed(encoding_rs::GB18030)
    } else {
        EncodingChoice::Auto
    };
    let tld = match url.host() {
        Some(Host::Domain(d)) => d.rsplit('.').next().map(str::to_ascii_lowercase),
        _ => None,
    };
    let (text, enc) = decode_with_tld(body, content_type, choice, tld.as_deref());
    Page {
        url,
        status: 200,
        content_type: content_type.map(str::to_string),
        validators: Validators::default(),
        bytes: body.to_vec(),
        text,
        encoding: enc.name(),
    }
}

/// A source as the configuration would give it, without list or article tables.
pub fn source(kind: SourceKind, url: &str) -> Source {
    Source {
        id: "fuzz".into(),
        name: "模糊测试来源".into(),
        url: Url::parse(url).expect("valid fuzz URL"),
        kind,
        encoding: EncodingChoice::Auto,
        interval: Duration::from_secs(1800),
        region: Some("江苏".into()),
        section: None,
        enabled: true,
        list: None,
        json: None,
        article: None,
    }
}

/// A selector as written in `sources.toml` (`CSS` or `CSS@attr`).
pub fn sel(text: &str) -> FieldSelector {
    FieldSelector::parse(text).expect("valid fuzz selector")
}

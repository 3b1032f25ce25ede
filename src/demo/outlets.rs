//! The demo outlets' HTTP server: one axum server on a local port, each
//! outlet under its own path prefix, with the conditional-GET behaviour of a
//! well-run web server so the demo's second poll shows 304s.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use chrono::{DateTime, FixedOffset, Utc};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

use super::pages::{
    CHINANEWS_JSON, CHINANEWS_QUERY, CNHI_ATOM, GBK_LIST, GMW_RSS, MOHRSS_LIST, Site,
};

/// The running demo outlets. Dropping it stops the server.
pub struct Outlets {
    base_url: Url,
    site: Arc<Site>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Binds `addr` (usually `127.0.0.1:0`) and serves the demo outlets from a
/// spawned task until the returned [`Outlets`] is dropped or shut down.
pub async fn start_outlets(addr: SocketAddr) -> std::io::Result<Outlets> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let base_url = Url::parse(&format!("http://{local}/"))
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let site = Arc::new(Site::build(&base_url));
    let app = Router::new().fallback(serve).with_state(site.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async {
            // A dropped sender stops the server as surely as a sent signal.
            let _ = stopped.await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::warn!("demo outlets stopped: {e}");
        }
    });
    Ok(Outlets {
        base_url,
        site,
        stop: Some(stop),
        task: Some(task),
    })
}

impl Outlets {
    /// `http://127.0.0.1:PORT/`, always ending with `/`.
    pub fn base_url(&self) -> Url {
        self.base_url.clone()
    }

    /// The page where an outlet serves the sample article `slug`.
    pub fn article_url(&self, slug: &str) -> Option<Url> {
        self.site.article_paths.get(slug).map(|p| self.url(p))
    }

    fn url(&self, path: &str) -> Url {
        self.base_url
            .join(path.trim_start_matches('/'))
            .expect("demo paths are valid relative URLs")
    }

    /// A complete sources file (our `sources.toml` format) for the five demo
    /// outlets at this server's address.
    pub fn sources_toml(&self) -> String {
        let mohrss = self.url(MOHRSS_LIST);
        let gbk = self.url(GBK_LIST);
        let rss = self.url(GMW_RSS);
        let atom = self.url(CNHI_ATOM);
        let mut json = self.url(CHINANEWS_JSON);
        json.set_query(Some(CHINANEWS_QUERY));
        format!(
            r##"# Sources for `kuaibao demo`: five sample outlets served on {base}
# by kuaibao itself, one per way real outlets publish. Every item they carry
# is an article of 信息快报 第 202509 期.

# 人社部 部内要闻: an HTML list on 人社部's TRS markup; one article is a
# 新华社 piece, so its 来源 differs from the outlet's name.
[[source]]
id = "demo-mohrss"
name = "人力资源社会保障部"
url = "{mohrss}"
kind = "html"
encoding = "utf-8"
section = "focus"

[source.list]
item = "div.serviceMainListConType > div.serviceMainListTabCon"
link = "span.serviceMainListTxtLink a@href"
title = "span.serviceMainListTxtLink a@title"
date = "span.organMenuTxtLink"

[source.article]
content = "#insMainConTxt .TRS_Editor"
title = ".insMainConTitle_b"
date = "meta[name=PubDate]@content"
origin = ".insMainConTitle_c"
remove = ["style"]

# A GBK site whose server sends no charset: only <meta> names gb2312.
[[source]]
id = "demo-gbk"
name = "中国劳动保障新闻网"
url = "{gbk}"
kind = "html"
encoding = "auto"
section = "regional"

[source.list]
item = ".infolist li"
link = "a@href"
title = "a@title"
date = "span.date"

[source.article]
content = "#UCAP-CONTENT"
title = "h1.article-title"
date = "meta[name=firstpublishedtime]@content"
origin = ".article-info .source"

# RSS 2.0 with the full text in content:encoded: no page fetch needed.
[[source]]
id = "demo-gmw-rss"
name = "光明网"
url = "{rss}"
kind = "feed"
encoding = "auto"
section = "opinion"

# Atom with only a summary and no [source.article]: the page is fetched and
# its body found by generic extraction.
[[source]]
id = "demo-cnhi-atom"
name = "中国医疗保险"
url = "{atom}"
kind = "feed"
encoding = "auto"
section = "opinion"

# A nodeart-style JSON list; pages on chinanews' legacy template.
[[source]]
id = "demo-chinanews-json"
name = "中国新闻网"
url = "{json}"
kind = "json"
encoding = "utf-8"
section = "abroad"

[source.json]
items = "data.list"
title = "Title"
link = "LinkUrl"
date = "PubTime"
summary = "Abstract"

[source.article]
content = "div.left_zw"
title = "#cont_1_1_2 h1"
origin = "div.left-t"
remove = [".adEditor"]
"##,
            base = self.base_url,
        )
    }

    /// Stops the server and waits for it to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            // Idle keep-alive connections can hold a graceful shutdown open;
            // the demo has nothing worth waiting longer for.
            let abort = task.abort_handle();
            if tokio::time::timeout(std::time::Duration::from_secs(2), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for Outlets {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn serve(
    State(site): State<Arc<Site>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "405 Method Not Allowed");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let Some(doc) = site.docs.get(uri.path()) else {
        return plain(StatusCode::NOT_FOUND, "404 Not Found");
    };
    // The real nodeart endpoint answers JSONP when asked for a callback.
    let callback = (uri.path() == CHINANEWS_JSON)
        .then(|| query_param(&uri, "callback"))
        .flatten()
        .filter(|c| {
            !c.is_empty()
                && c.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '.')
        });
    let (body, content_type) = match &callback {
        Some(cb) => {
            let mut b = format!("{cb}(").into_bytes();
            b.extend_from_slice(&doc.body);
            b.extend_from_slice(b");");
            (b, "application/javascript; charset=utf-8")
        }
        None => (doc.body.clone(), doc.content_type),
    };

    let etag = strong_etag(&body);
    let last_modified = http_date(doc.last_modified);
    let not_modified = match headers.get(header::IF_NONE_MATCH) {
        // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
        Some(inm) => inm.to_str().is_ok_and(|v| etag_matches(v, &etag)),
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v.trim()).ok())
            .is_some_and(|since| doc.last_modified.timestamp() <= since.timestamp()),
    };

    let mut builder = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::LAST_MODIFIED, &last_modified)
        .header(header::CACHE_CONTROL, "no-cache");
    let body = if not_modified {
        builder = builder.status(StatusCode::NOT_MODIFIED);
        Body::empty()
    } else {
        builder = builder
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, content_type);
        if method == Method::HEAD {
            builder = builder.header(header::CONTENT_LENGTH, body.len());
            Body::empty()
        } else {
            Body::from(body)
        }
    };
    builder.body(body).expect("demo response headers are valid")
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from(text))
        .expect("constant response")
}

fn query_param(uri: &Uri, name: &str) -> Option<String> {
    url::form_urlencoded::parse(uri.query()?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A strong validator: the bytes' hash, so it changes exactly when they do.
fn strong_etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// If-None-Match uses the weak comparison, so `W/"x"` matches `"x"`.
fn etag_matches(header_value: &str, etag: &str) -> bool {
    header_value
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// An IMF-fixdate, as `Last-Modified` wants.
fn http_date(at: DateTime<FixedOffset>) -> String {
    at.with_timezone(&Utc)
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists_and_star() {
        assert!(etag_matches("\"abc\"", "\"abc\""));
        assert!(etag_matches("W/\"abc\"", "\"abc\""));
        assert!(etag_matches("\"x\", \"abc\"", "\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abd\"", "\"abc\""));
    }

    #[test]
    fn last_modified_is_an_imf_fixdate_in_gmt() {
        let at = DateTime::parse_from_rfc3339("2025-06-18T09:30:00+08:00").unwrap();
        assert_eq!(http_date(at), "Wed, 18 Jun 2025 01:30:00 GMT");
        let back = DateTime::parse_from_rfc2822(&http_date(at)).unwrap();
        assert_eq!(back.timestamp(), at.timestamp());
    }
}

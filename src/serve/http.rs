//! HTTP semantics of the served documents (RFC 9110): conditional requests,
//! content coding, HEAD. This is the per-request hot path of publish's
//! serving side, so it only reads the cache snapshot and clones
//! reference-counted bytes, header values and prebuilt header maps.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{
    ACCEPT_ENCODING, ALLOW, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG,
    IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, RETRY_AFTER, VARY,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::ServeState;
use super::cache::{Document, FeedCache, Representation};

/// Which representation of a document to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Br,
}

/// Answers every path the cache holds; anything else is 404.
pub(super) async fn document(State(state): State<ServeState>, req: Request) -> Response {
    let method = req.method();
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(ALLOW, HeaderValue::from_static("GET, HEAD"))],
            "method not allowed\n",
        )
            .into_response();
    }
    let head = method == Method::HEAD;
    let snapshot = state.inner.cache.snapshot();
    let path = req.uri().path();
    if snapshot.is_loaded() && path.starts_with("/feeds/archive/") {
        let (s, p) = (state.clone(), path.to_string());
        return match tokio::task::spawn_blocking(move || s.archive(&p)).await {
            Ok(Ok(Some(doc))) => respond(&doc, req.headers(), head),
            Ok(Ok(None)) => {
                state.inner.metrics.feed_request("unknown", 404);
                (StatusCode::NOT_FOUND, "no such archive\n").into_response()
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot render an archive");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "cannot render this archive\n",
                )
                    .into_response()
            }
            Err(e) => {
                tracing::error!(error = %e, "archive rendering panicked");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "cannot render this archive\n",
                )
                    .into_response()
            }
        };
    }
    let Some(doc) = snapshot.get(path) else {
        if !snapshot.is_loaded() {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(RETRY_AFTER, HeaderValue::from_static("2"))],
                "feeds are being rendered\n",
            )
                .into_response();
        }
        state.inner.metrics.feed_request("unknown", 404);
        return (StatusCode::NOT_FOUND, "no such feed or page\n").into_response();
    };
    respond(doc, req.headers(), head)
}

/// The response for `doc` given the request's headers.
pub fn respond(doc: &Document, headers: &HeaderMap, head: bool) -> Response {
    let (coding, rep) = choose(doc, headers.get(ACCEPT_ENCODING));
    if is_not_modified(doc, rep, headers) {
        return not_modified(doc, rep);
    }
    doc.served.inc();
    let body = if head {
        Body::empty()
    } else {
        Body::from(rep.body.clone())
    };
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, doc.content_type.clone());
    h.insert(CONTENT_LENGTH, rep.content_length.clone());
    match coding {
        Coding::Identity => {}
        Coding::Gzip => {
            h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        Coding::Br => {
            h.insert(CONTENT_ENCODING, HeaderValue::from_static("br"));
        }
    }
    validators(doc, rep, h);
    resp
}

/// The connection layer's fast path ([`super::Routes::answering_304s_from`]):
/// the 304 the router would answer, built without it, when the request is
/// a GET or HEAD without a body for a document of the current snapshot and
/// its validators match. `None` sends the request to the router: any other
/// method, a body (the router's limits judge it), the archives (rendered on
/// request), a path the cache does not hold (routes, desk, 404s, 503s
/// before the first render), or no match.
///
/// It sees the same path the router's fallback sees ([`document`]), and
/// the router has no route of its own for a cached document's path (the
/// configuration reserves `issues` and `all` as section names).
pub(super) fn fast_not_modified(
    cache: &FeedCache,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Option<Response> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    // Cheap refusals first: an unconditional request never becomes a 304.
    if !headers.contains_key(IF_NONE_MATCH) && !headers.contains_key(IF_MODIFIED_SINCE) {
        return None;
    }
    let snapshot = cache.snapshot();
    let doc = snapshot.get(path)?;
    let (_, rep) = choose(doc, headers.get(ACCEPT_ENCODING));
    if !is_not_modified(doc, rep, headers) {
        return None;
    }
    doc.not_modified.inc();
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::NOT_MODIFIED;
    // Cloning the map built at render time costs two allocations; building
    // it here cost one insert (and hash) per header besides.
    *resp.headers_mut() = rep.not_modified_headers.clone();
    Some(resp)
}

/// The headers of the fast path's 304 of `rep`: what the router's 304
/// carries once its layers are done, the validators
/// ([`not_modified`]), the security headers
/// ([`super::headers::add_security_headers`]) and a zero length (the
/// router gives every response with a body of known size, none here, its
/// length, last; hyper then drops it from a GET's 304 and keeps it on a
/// HEAD's). Built by the cache whenever it makes a document
/// ([`super::cache`]), so that a request only clones it.
pub(super) fn not_modified_headers(doc: &Document, rep: &Representation) -> HeaderMap {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::NOT_MODIFIED;
    validators(doc, rep, resp.headers_mut());
    super::headers::add_security_headers(&mut resp);
    resp.headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    resp.into_parts().0.headers
}

fn is_not_modified(doc: &Document, rep: &Representation, headers: &HeaderMap) -> bool {
    match headers.get(IF_NONE_MATCH) {
        // RFC 9110 §13.2.2: If-Modified-Since is ignored when
        // If-None-Match is present.
        Some(inm) => if_none_match_matches(inm.as_bytes(), rep.etag.as_bytes()),
        None => headers
            .get(IF_MODIFIED_SINCE)
            .is_some_and(|ims| not_modified_since(doc, ims)),
    }
}

fn not_modified(doc: &Document, rep: &Representation) -> Response {
    doc.not_modified.inc();
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::NOT_MODIFIED;
    validators(doc, rep, resp.headers_mut());
    resp
}

/// What a 200 and a 304 of `rep` both carry.
fn validators(doc: &Document, rep: &Representation, h: &mut HeaderMap) {
    h.insert(ETAG, rep.etag.clone());
    h.insert(LAST_MODIFIED, doc.last_modified.clone());
    h.insert(CACHE_CONTROL, doc.cache_control.clone());
    h.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
}

/// The representation for an `Accept-Encoding` (RFC 9110 §12.5.3): the
/// highest q among those we have, br before gzip before identity on a tie;
/// no header means identity.
pub fn choose<'d>(doc: &'d Document, accept: Option<&HeaderValue>) -> (Coding, &'d Representation) {
    let Some(accept) = accept.and_then(|v| v.to_str().ok()) else {
        return (Coding::Identity, &doc.identity);
    };
    let (mut br, mut gzip, mut identity, mut star) = (None, None, None, None);
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        let mut q = 1.0f32;
        for p in parts {
            let p = p.trim();
            if let Some(v) = p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")) {
                q = v.trim().parse().unwrap_or(0.0);
            }
        }
        if coding.eq_ignore_ascii_case("br") {
            br = Some(q);
        } else if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            gzip = Some(q);
        } else if coding.eq_ignore_ascii_case("identity") {
            identity = Some(q);
        } else if coding == "*" {
            star = Some(q);
        }
    }
    let br = br.or(star).unwrap_or(0.0);
    let gzip = gzip.or(star).unwrap_or(0.0);
    // Identity is acceptable unless excluded (explicitly or by `*;q=0`),
    // but when not listed it is the least preferred: `gzip;q=0.8` still
    // means "gzip please".
    let identity = identity.or(star).unwrap_or(0.001);
    // Ranked by (q, preference): compression wins a tie with identity,
    // since the point of precompressing is to send fewer bytes. When
    // identity is refused and nothing else fits, identity is sent anyway:
    // a 406 helps no feed reader.
    let mut best = (Coding::Identity, &doc.identity);
    let mut best_key = (if identity > 0.0 { identity } else { -1.0 }, 0u8);
    for (coding, rep, q, rank) in [
        (Coding::Gzip, doc.gzip.as_ref(), gzip, 1u8),
        (Coding::Br, doc.br.as_ref(), br, 2u8),
    ] {
        if let Some(rep) = rep
            && q > 0.0
            && (q, rank) > best_key
        {
            best = (coding, rep);
            best_key = (q, rank);
        }
    }
    best
}

/// `If-None-Match` with weak comparison (RFC 9110 §13.1.2): `*`, or any
/// listed tag whose opaque part equals ours, `W/` or not.
pub fn if_none_match_matches(header: &[u8], etag: &[u8]) -> bool {
    let ours = strip_weak(etag);
    let mut rest = header;
    loop {
        rest = trim_start(rest);
        if rest.is_empty() {
            return false;
        }
        if rest[0] == b'*' {
            return true;
        }
        let tag_start = if rest.starts_with(b"W/") { 2 } else { 0 };
        let after = &rest[tag_start..];
        if after.first() == Some(&b'"') {
            let Some(close) = after[1..].iter().position(|&b| b == b'"') else {
                return false;
            };
            if &after[..close + 2] == ours {
                return true;
            }
            rest = &after[close + 2..];
        }
        // Skip to the next list member (also past anything malformed).
        match rest.iter().position(|&b| b == b',') {
            Some(i) => rest = &rest[i + 1..],
            None => return false,
        }
    }
}

fn strip_weak(etag: &[u8]) -> &[u8] {
    etag.strip_prefix(b"W/").unwrap_or(etag)
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| matches!(c, b' ' | b'\t')).count();
    &b[n..]
}

/// `If-Modified-Since`: the document was not modified after that date.
/// An unparsable date is ignored (RFC 9110 §13.1.3).
fn not_modified_since(doc: &Document, ims: &HeaderValue) -> bool {
    // Clients nearly always echo our Last-Modified verbatim.
    if ims == doc.last_modified {
        return true;
    }
    ims.to_str()
        .ok()
        .and_then(|s| httpdate::parse_http_date(s).ok())
        .is_some_and(|since| doc.modified <= since)
}

//! The servers the hostile cases need beyond tests/common's `Outlet`: a
//! site answering from a route function with shared `Bytes` bodies (so an
//! 8 MB page costs one allocation however often it is fetched, and 200,000
//! article paths need no table), and a tarpit that accepts connections and
//! never answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::Request;
use axum::response::Response;
use bytes::Bytes;
use tokio::io::AsyncReadExt;

/// One answer of a [`Site`].
#[derive(Clone)]
pub struct Served {
    pub status: u16,
    pub content_type: &'static str,
    pub location: Option<String>,
    pub body: Bytes,
}

impl Served {
    pub fn new(content_type: &'static str, body: impl Into<Bytes>) -> Served {
        Served {
            status: 200,
            content_type,
            location: None,
            body: body.into(),
        }
    }

    pub fn html(body: impl Into<Bytes>) -> Served {
        Served::new("text/html; charset=utf-8", body)
    }

    pub fn rss(body: impl Into<Bytes>) -> Served {
        Served::new("application/rss+xml; charset=utf-8", body)
    }

    pub fn atom(body: impl Into<Bytes>) -> Served {
        Served::new("application/atom+xml; charset=utf-8", body)
    }

    pub fn redirect(to: String) -> Served {
        Served {
            status: 302,
            content_type: "text/plain",
            location: Some(to),
            body: Bytes::new(),
        }
    }
}

/// Requests (or tarpit connections) one case's servers saw, all servers of
/// the case counting into one.
pub type Hits = Arc<AtomicUsize>;

/// A server on `ip`, any free port, answering each path from a function.
pub struct Site {
    pub base: String,
}

impl Site {
    /// Answers `route(path)` (path with query), 404 when it gives `None`.
    pub async fn start(
        ip: &str,
        hits: Hits,
        route: impl Fn(&str) -> Option<Served> + Send + Sync + 'static,
    ) -> Site {
        let route = Arc::new(route);
        let app = axum::Router::new().fallback(move |req: Request<Body>| {
            let (route, hits) = (route.clone(), hits.clone());
            async move {
                hits.fetch_add(1, Ordering::Relaxed);
                let path = req
                    .uri()
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default();
                answer(route(&path))
            }
        });
        let listener = tokio::net::TcpListener::bind((ip, 0))
            .await
            .unwrap_or_else(|e| panic!("bind {ip}: {e}"));
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Site {
            base: format!("http://{addr}"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn answer(served: Option<Served>) -> Response {
    let Some(served) = served else {
        let mut r = Response::new(Body::from("not found"));
        *r.status_mut() = axum::http::StatusCode::NOT_FOUND;
        return r;
    };
    let mut builder = Response::builder()
        .status(served.status)
        .header("content-type", served.content_type);
    if let Some(to) = &served.location {
        builder = builder.header("location", to);
    }
    builder
        .body(Body::from(served.body))
        .expect("a valid fixture response")
}

/// Accepts connections on `ip`, reads whatever the client sends and never
/// writes a byte back. Connections are dropped only when the client closes
/// them, so each request waits for kuaibao's own timeout.
pub struct Tarpit {
    pub base: String,
}

impl Tarpit {
    pub async fn start(ip: &str, hits: Hits) -> Tarpit {
        let listener = tokio::net::TcpListener::bind((ip, 0))
            .await
            .unwrap_or_else(|e| panic!("bind tarpit on {ip}: {e} (Linux binds all of 127/8)"));
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                hits.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    // Reading (not answering) lets the socket go once the
                    // client gives up, so held descriptors stay few.
                    let mut buf = [0u8; 4096];
                    while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
                });
            }
        });
        Tarpit {
            base: format!("http://{addr}"),
        }
    }
}

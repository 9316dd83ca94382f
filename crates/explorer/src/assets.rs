//! The page's files, embedded in the binary: no build step, nothing read from disk at run time.

use axum::{
    extract::Path,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

/// The page itself.
const INDEX_HTML: &str = include_str!("../assets/index.html");

/// `(name, content type, body)` of every file served under `/assets/`.
const FILES: &[(&str, &str, &str)] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/app.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../assets/style.css"),
    ),
    (
        "uPlot.iife.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/vendor/uplot/uPlot.iife.min.js"),
    ),
    (
        "uPlot.min.css",
        "text/css; charset=utf-8",
        include_str!("../assets/vendor/uplot/uPlot.min.css"),
    ),
    (
        "uPlot.LICENSE.txt",
        "text/plain; charset=utf-8",
        include_str!("../assets/vendor/uplot/LICENSE"),
    ),
];

/// Scripts, styles and connections only from this origin (the live socket included).
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

fn respond(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            // The files change only with the binary; revalidating is cheap on loopback.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
        ],
        body,
    )
        .into_response()
}

/// `/`.
pub(crate) async fn index() -> Response {
    respond("text/html; charset=utf-8", INDEX_HTML)
}

/// `/assets/{name}`.
pub(crate) async fn file(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, body)) => respond(content_type, body),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

//! Request-scoped middleware: request ids, the request span, the access log and request metrics.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderName;
use axum::middleware::Next;
use axum::response::Response;
use tower_http::request_id::RequestId;
use tracing::Span;

use crate::telemetry;

/// The request and response header that carries the request id.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id accepted from a client.
const MAX_REQUEST_ID_LEN: usize = 128;

/// Marks a response that no route produced (the 404 and 405 fallbacks): its requests are counted
/// under the route [`telemetry::UNMATCHED_ROUTE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unmatched;

/// Drops an `X-Request-Id` that is not 1 to 128 visible ASCII characters, so that
/// `SetRequestIdLayer` generates one instead of echoing it into headers, bodies and logs.
pub fn drop_invalid_request_id(mut request: Request) -> Request {
    let valid = request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .is_none_or(|id| is_valid_request_id(id.as_bytes()));
    if !valid {
        request.headers_mut().remove(&REQUEST_ID_HEADER);
    }
    request
}

fn is_valid_request_id(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len()) && id.iter().all(u8::is_ascii_graphic)
}

/// The span of one request (for `TraceLayer`): every log line written while the request is served,
/// the access log line included, carries its `request_id`.
///
/// It is an ERROR-level span so that it exists whatever `LOG_LEVEL` is: a span disabled by the
/// level filter would leave the request's warnings and errors without their request id.
pub fn request_span(request: &Request) -> Span {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default();
    tracing::error_span!("request", request_id)
}

/// Writes one access-log line (inside the request's span) and records the request metrics,
/// labelled with the route template, for every request.
pub async fn access_log(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|route| route.as_str().to_owned());

    let response = next.run(request).await;

    let route = match route {
        Some(route) if response.extensions().get::<Unmatched>().is_none() => route,
        _ => telemetry::UNMATCHED_ROUTE.to_owned(),
    };
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    telemetry::record_request(method.as_str(), &route, status, elapsed);
    tracing::info!(
        method = method.as_str(),
        path,
        status,
        duration_ms = milliseconds(elapsed),
        "request completed"
    );
    response
}

/// `elapsed` in milliseconds, to the microsecond.
fn milliseconds(elapsed: Duration) -> f64 {
    (elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::is_valid_request_id;

    #[test]
    fn accepts_1_to_128_visible_ascii_characters() {
        assert!(is_valid_request_id(b"req-123"));
        assert!(is_valid_request_id(&[b'a'; 128]));
        assert!(!is_valid_request_id(b""));
        assert!(!is_valid_request_id(&[b'a'; 129]));
        assert!(!is_valid_request_id(b"has space"));
        assert!(!is_valid_request_id("caf\u{e9}".as_bytes()));
    }
}

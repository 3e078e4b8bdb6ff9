//! Request-scoped middleware: request ids, access logs and request metrics.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::request_id::RequestId;

use crate::telemetry;

/// The route label for requests that matched no route.
const UNMATCHED_ROUTE: &str = "unmatched";

/// Writes one access-log line and records metrics for every request.
///
/// Runs inside `SetRequestIdLayer`, so the request id (taken from `X-Request-Id` or generated) is
/// already in the request's extensions.
pub async fn access_log(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|route| route.as_str().to_owned());
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default()
        .to_owned();

    let response = next.run(request).await;

    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    telemetry::record_request(
        method.as_str(),
        route.as_deref().unwrap_or(UNMATCHED_ROUTE),
        status,
        elapsed,
    );
    tracing::info!(
        method = method.as_str(),
        path,
        status,
        duration_ms = milliseconds(elapsed),
        request_id,
        "request completed"
    );
    response
}

/// `elapsed` in milliseconds, to the microsecond.
fn milliseconds(elapsed: Duration) -> f64 {
    (elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

//! The error body of every non-2xx response, whoever produced it (a handler, an extractor's
//! rejection, the router's 404 and 405, the body limit's 413 or a caught panic's 500):
//!
//! ```json
//! {"error":{"code":"not_found","message":"no item with id 7","request_id":"…"}}
//! ```
//!
//! Handlers return [`ApiError`]; its response carries the code and message as an extension, and
//! the [`render`] middleware writes the body once the request id is known. Any other error
//! response gets the body for its status, so nothing but JSON ever reaches a client.

use std::any::Any;
use std::borrow::Cow;
use std::fmt;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tower_http::request_id::RequestId;

/// A failed request: an HTTP status and a message for the client. The error `code` follows from
/// the status (see [`code`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    message: Cow<'static, str>,
}

impl ApiError {
    /// An error with `status` and a message for the client.
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 405 `method_not_allowed`.
    pub fn method_not_allowed(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, message)
    }

    /// 422 `validation_failed`: well-formed input that breaks the rules.
    pub fn validation(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// 503 `unavailable`.
    pub fn unavailable(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// 500 `internal_error`. The details belong in the log, never in the response.
    #[must_use]
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
    }

    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The machine-readable error code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        code(self.status)
    }

    /// The message for the client.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code(),
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    /// The status, with the error as an extension; [`render`] writes the body.
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// The error code of `status`: one of `bad_request`, `not_found`, `method_not_allowed`,
/// `payload_too_large`, `unsupported_media_type`, `validation_failed`, `internal_error` and
/// `unavailable`.
#[must_use]
pub fn code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "validation_failed",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        status if status.is_server_error() => "internal_error",
        _ => "bad_request",
    }
}

/// The message of an error response that did not come from an [`ApiError`].
fn default_message(status: StatusCode) -> &'static str {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is too large",
        StatusCode::NOT_FOUND => "not found",
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed",
        status if status.is_server_error() => "internal server error",
        status => status.canonical_reason().unwrap_or("the request failed"),
    }
}

/// Middleware: gives every response with a 4xx or 5xx status the JSON error body, with the
/// request id that `SetRequestIdLayer` put in the request's extensions.
pub async fn render(request: Request, next: Next) -> Response {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }

    let (mut parts, _) = response.into_parts();
    let error = parts.extensions.remove::<ApiError>();
    let message = error
        .as_ref()
        .map_or_else(|| default_message(status), ApiError::message);
    let body = ErrorBody {
        error: ErrorDetail {
            code: code(status),
            message,
            request_id: &request_id,
        },
    };
    let Ok(json) = serde_json::to_vec(&body) else {
        // Serializing strings into JSON cannot fail.
        return Response::from_parts(parts, Body::empty());
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(json))
}

/// The response for a request whose handler panicked (for `CatchPanicLayer`). The panic itself is
/// logged, with its request's fields, by the panic hook that `logging::init` installs.
#[allow(clippy::needless_pass_by_value)] // The signature `CatchPanicLayer::custom` requires.
#[must_use]
pub fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response {
    ApiError::internal().into_response()
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
    request_id: &'a str,
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::{ApiError, code};

    #[test]
    fn maps_statuses_to_codes() {
        for (status, expected) in [
            (StatusCode::BAD_REQUEST, "bad_request"),
            (StatusCode::NOT_FOUND, "not_found"),
            (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
            (StatusCode::BAD_GATEWAY, "internal_error"),
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        ] {
            assert_eq!(code(status), expected, "{status}");
        }
    }

    #[test]
    fn displays_status_code_and_message() {
        let err = ApiError::not_found("no item with id 7");
        assert_eq!(err.to_string(), "404 not_found: no item with id 7");
    }
}

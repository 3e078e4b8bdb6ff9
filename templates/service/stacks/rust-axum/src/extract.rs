//! axum's `Json`, `Path` and `Query` extractors, with their rejections turned into [`ApiError`]s:
//!
//! | rejection | status |
//! |---|---|
//! | body is not JSON (`Content-Type`) | 415 `unsupported_media_type` |
//! | body is malformed JSON | 400 `bad_request` |
//! | body is JSON of the wrong shape, or a value breaks its type's rules | 422 `validation_failed` |
//! | body is larger than the limit | 413 `payload_too_large` |
//! | a path segment or query parameter does not parse | 422 `validation_failed` |
//!
//! Validation lives in the types: a field whose type implements `TryFrom` through
//! `#[serde(try_from = "…")]` cannot hold an invalid value, and its error message reaches the
//! client.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};

use crate::error::ApiError;

/// A JSON request body of type `T`.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

/// Path parameters of type `T`.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// Query parameters of type `T`.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        // axum already tells the cases apart: 400 syntax, 415 content type, 422 data, 413 size.
        Self::new(rejection.status(), rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        if rejection.status().is_server_error() {
            // The route and the extractor's type disagree: a bug, not bad input.
            tracing::error!(
                error = rejection.body_text(),
                "path extractor misconfigured"
            );
            return Self::internal();
        }
        Self::validation(rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::validation(rejection.body_text())
    }
}

package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
)

// The codes of the JSON error body, one per status code the service answers
// with it; /openapi.json lists them in the Error schema.
const (
	CodeBadRequest           = "bad_request"
	CodeNotFound             = "not_found"
	CodeMethodNotAllowed     = "method_not_allowed"
	CodePayloadTooLarge      = "payload_too_large"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeValidationFailed     = "validation_failed"
	CodeInternalError        = "internal_error"
	CodeUnavailable          = "unavailable"
)

// errorBody is the body of every non-2xx response:
// {"error":{"code":"not_found","message":"...","request_id":"..."}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
}

// writeError answers with the JSON error body.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	a.writeJSON(w, r, status, errorBody{errorDetail{Code: code, Message: message, RequestID: RequestID(r.Context())}})
}

// writeJSON answers with body encoded as JSON.
func (a *API) writeJSON(w http.ResponseWriter, r *http.Request, status int, body any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(body); err != nil {
		a.logger.LogAttrs(r.Context(), slog.LevelDebug, "write response",
			slog.String("error", err.Error()),
			slog.String("request_id", RequestID(r.Context())),
		)
	}
}

// muxErrors replaces the plain-text answers that http.ServeMux gives when no
// route matches (404, 405 with its Allow header, and the 301 to a cleaned path)
// with the JSON error body. A route's own responses pass through untouched.
func (a *API) muxErrors(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(&muxErrorWriter{ResponseWriter: w, api: a, req: r}, r)
	})
}

// muxErrorWriter intercepts a response that the mux itself writes, which it
// can tell from a route's because no route has claimed the request.
type muxErrorWriter struct {
	http.ResponseWriter
	api      *API
	req      *http.Request
	replaced bool
}

func (w *muxErrorWriter) WriteHeader(status int) {
	if w.replaced || routeOf(w.req.Context()) != "" || status < http.StatusMultipleChoices {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.replaced = true
	if status == http.StatusMethodNotAllowed {
		// The mux has set Allow to the methods the path has.
		w.api.writeError(w.ResponseWriter, w.req, status, CodeMethodNotAllowed, "method "+w.req.Method+" is not allowed here")
		return
	}
	// A redirect to the cleaned path (for /a//b or /a/../b) is not followed:
	// such paths are not routes.
	w.ResponseWriter.Header().Del("Location")
	w.api.writeError(w.ResponseWriter, w.req, http.StatusNotFound, CodeNotFound, "no route for "+w.req.URL.Path)
}

func (w *muxErrorWriter) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil // the mux's plain-text body, already replaced
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *muxErrorWriter) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}

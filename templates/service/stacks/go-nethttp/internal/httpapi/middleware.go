package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// RequestIDHeader carries the request id in both directions.
const RequestIDHeader = "X-Request-Id"

// maxRequestIDLen bounds a request id taken from a client.
const maxRequestIDLen = 128

// MaxBodyBytes bounds a request body: 1 MiB. A larger one is answered 413.
const MaxBodyBytes = 1 << 20

// unmatched is the route label of requests that no route handled (404, 405).
const unmatched = "unmatched"

type requestIDKey struct{}

type routeKey struct{}

// RequestID returns the id of the request that ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// matchedRoute is filled in by the route that handles a request, so that the
// middleware around the mux learns which route it was.
type matchedRoute struct {
	route string
}

// routeOf returns the route template of the route handling the request of
// ctx, or "" while none does.
func routeOf(ctx context.Context) string {
	if m, ok := ctx.Value(routeKey{}).(*matchedRoute); ok {
		return m.route
	}
	return ""
}

// handle registers h on mux under pattern and labels the requests it serves
// with the pattern's path in OpenAPI brace style ("GET /items/{id}" ->
// "/items/{id}").
func handle(mux *http.ServeMux, pattern string, h http.HandlerFunc) {
	route := routeTemplate(pattern)
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if m, ok := r.Context().Value(routeKey{}).(*matchedRoute); ok {
			m.route = route
		}
		h(w, r)
	})
}

// routeTemplate turns a ServeMux pattern ("[METHOD ][HOST]/PATH") into its
// path template: {name...} becomes {name} and {$} is dropped.
func routeTemplate(pattern string) string {
	if i := strings.IndexAny(pattern, " \t"); i >= 0 {
		pattern = strings.TrimLeft(pattern[i:], " \t")
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:] // drop a host
	}
	pattern = strings.ReplaceAll(pattern, "{$}", "")
	return strings.ReplaceAll(pattern, "...}", "}")
}

// withRequestID takes the request id from the X-Request-Id header, or
// generates a UUID v4 when it is absent or unusable, stores it in the request
// context and echoes it in the response, with the headers every response
// carries.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = uuid.NewString()
		}
		h := w.Header()
		h.Set(RequestIDHeader, id)
		h.Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// validRequestID accepts 1-128 visible ASCII characters, so that a client
// cannot inject control characters or huge values into logs.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := range len(id) {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// limitBody caps every request body at MaxBodyBytes. Reading past the cap
// fails with *http.MaxBytesError, which decodeJSON answers 413.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// observe writes one access-log line per request and records the request
// metrics. Routes are labelled by their template, never by raw path, to keep
// metric cardinality bounded; requests no route handled are "unmatched".
func (a *API) observe(m *metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inFlight.Inc()
		matched := &matchedRoute{}
		r = r.WithContext(context.WithValue(r.Context(), routeKey{}, matched))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		// Deferred, so that a request aborted by a panic is still counted.
		defer func() {
			m.inFlight.Dec()
			elapsed := time.Since(start)
			route := matched.route
			if route == "" {
				route = unmatched
			}
			method, status := methodLabel(r.Method), strconv.Itoa(rec.status)
			m.requests.WithLabelValues(method, route, status).Inc()
			m.duration.WithLabelValues(method, route, status).Observe(elapsed.Seconds())

			a.logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("route", route),
				slog.Int("status", rec.status),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
				slog.String("request_id", RequestID(r.Context())),
				slog.Int64("bytes", rec.bytes),
				slog.String("remote_addr", r.RemoteAddr),
				slog.String("user_agent", r.UserAgent()),
			)
		}()
		next.ServeHTTP(rec, r)
	})
}

// recoverPanic turns a panicking handler into one error log line and a JSON
// 500, never a stack trace to the client or a silently dropped connection.
func (a *API) recoverPanic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, _ := w.(*statusRecorder)
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v) // deliberate abort: let net/http drop the connection quietly
			}
			a.logger.LogAttrs(r.Context(), slog.LevelError, "panic serving request",
				slog.String("error", fmt.Sprint(v)),
				slog.String("stack", string(debug.Stack())),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("request_id", RequestID(r.Context())),
			)
			if rec != nil && rec.wroteHeader {
				// Part of the response is on the wire: cut the connection
				// rather than let the client take it for complete.
				panic(http.ErrAbortHandler)
			}
			a.writeError(w, r, http.StatusInternalServerError, CodeInternalError, "internal server error")
		}()
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status code and body size of a response.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader && code >= http.StatusOK {
		s.status = code
		s.wroteHeader = true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wroteHeader = true
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter {
	return s.ResponseWriter
}

// methodLabel maps arbitrary request methods onto a bounded label set.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "OTHER"
}

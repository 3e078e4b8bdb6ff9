// Package httpapi serves the HTTP interface of the service: its routes and the
// middleware that gives every request an id, an access-log line and metrics.
package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ReadyTimeout bounds the dependency checks behind GET /ready.
const ReadyTimeout = time.Second

// Pinger is a backing service that /ready checks, such as a database pool.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Options configure New.
type Options struct {
	// Logger receives access-log lines and errors. Required.
	Logger *slog.Logger
	// Registry holds the HTTP metrics and is served on /metrics. Required.
	Registry *prometheus.Registry
	// Database is pinged by /ready; nil when the service has no database.
	Database Pinger
}

// API is the service's http.Handler.
type API struct {
	logger   *slog.Logger
	database Pinger
	draining atomic.Bool
	handler  http.Handler
}

// New builds the handler with its routes and middleware, and registers the
// HTTP metrics in opts.Registry.
func New(opts Options) *API {
	a := &API{logger: opts.Logger, database: opts.Database}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", a.health)
	mux.HandleFunc("GET /ready", a.ready)
	mux.Handle("GET /metrics", promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(opts.Logger.Handler(), slog.LevelError),
		Registry: opts.Registry,
	}))

	m := newMetrics(opts.Registry)
	a.handler = withRequestID(a.observe(m, a.recoverPanic(mux)))
	return a
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.handler.ServeHTTP(w, r)
}

// Drain makes /ready answer 503 from now on, so that load balancers stop
// sending traffic while in-flight requests finish.
func (a *API) Drain() {
	a.draining.Store(true)
}

type status struct {
	Status string `json:"status"`
}

// health is the liveness probe: it checks nothing but the process itself.
func (a *API) health(w http.ResponseWriter, r *http.Request) {
	a.writeJSON(w, r, http.StatusOK, status{"ok"})
}

// ready is the readiness probe: 503 while draining or when the database does
// not answer within ReadyTimeout.
func (a *API) ready(w http.ResponseWriter, r *http.Request) {
	if a.draining.Load() {
		a.writeJSON(w, r, http.StatusServiceUnavailable, status{"unavailable"})
		return
	}
	if a.database != nil {
		ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
		defer cancel()
		if err := a.database.Ping(ctx); err != nil {
			a.logger.LogAttrs(ctx, slog.LevelWarn, "readiness check failed",
				slog.String("check", "database"),
				slog.String("error", err.Error()),
				slog.String("request_id", RequestID(ctx)),
			)
			a.writeJSON(w, r, http.StatusServiceUnavailable, status{"unavailable"})
			return
		}
	}
	a.writeJSON(w, r, http.StatusOK, status{"ok"})
}

func (a *API) writeJSON(w http.ResponseWriter, r *http.Request, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if err := json.NewEncoder(w).Encode(body); err != nil {
		a.logger.LogAttrs(r.Context(), slog.LevelDebug, "write response",
			slog.String("error", err.Error()),
			slog.String("request_id", RequestID(r.Context())),
		)
	}
}

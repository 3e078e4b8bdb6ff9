// Package logging builds the service logger: one JSON object per line with
// the keys timestamp (RFC 3339, UTC), level (lowercase) and message.
package logging

import (
	"io"
	"log/slog"
	"strings"
)

// timestampFormat is RFC 3339 with milliseconds, slog's own precision.
const timestampFormat = "2006-01-02T15:04:05.000Z07:00"

// New returns a logger that writes JSON lines to w, dropping records below level.
func New(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(NewHandler(w, level))
}

// NewHandler returns the JSON handler behind New, for callers that need a
// slog.Handler (for example slog.NewLogLogger).
func NewHandler(w io.Writer, level slog.Leveler) slog.Handler {
	return slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level:       level,
		ReplaceAttr: renameBuiltins,
	})
}

// renameBuiltins renames slog's built-in keys (time, level, msg) to the names
// log pipelines expect, and normalises their values.
func renameBuiltins(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.TimeKey:
		a.Key = "timestamp"
		if a.Value.Kind() == slog.KindTime {
			a.Value = slog.StringValue(a.Value.Time().UTC().Format(timestampFormat))
		}
	case slog.LevelKey:
		a.Key = "level"
		if level, ok := a.Value.Any().(slog.Level); ok {
			a.Value = slog.StringValue(strings.ToLower(level.String()))
		}
	case slog.MessageKey:
		a.Key = "message"
	}
	return a
}

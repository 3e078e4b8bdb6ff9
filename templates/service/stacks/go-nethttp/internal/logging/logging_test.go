package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestNewWritesOneJSONObjectPerLine(t *testing.T) {
	var buf bytes.Buffer
	logger := New(&buf, slog.LevelInfo)

	logger.Debug("hidden")
	logger.Info("first", "answer", 42)
	logger.Warn("second")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2 (debug must be dropped at info):\n%s", len(lines), buf.String())
	}
	for i, want := range []struct{ level, message string }{{"info", "first"}, {"warn", "second"}} {
		var rec map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &rec); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", i, err, lines[i])
		}
		if rec["level"] != want.level || rec["message"] != want.message {
			t.Errorf("line %d: level=%v message=%v, want %s %s", i, rec["level"], rec["message"], want.level, want.message)
		}
		ts, _ := rec["timestamp"].(string)
		if _, err := time.Parse(time.RFC3339, ts); err != nil || !strings.HasSuffix(ts, "Z") {
			t.Errorf("line %d: timestamp %q is not RFC 3339 UTC", i, ts)
		}
		for _, old := range []string{"time", "msg"} {
			if _, ok := rec[old]; ok {
				t.Errorf("line %d still has the key %q", i, old)
			}
		}
	}
}

func TestNewKeepsGroupedKeys(t *testing.T) {
	var buf bytes.Buffer
	New(&buf, slog.LevelInfo).WithGroup("db").Info("query", "msg", "kept")

	var rec struct {
		DB map[string]string `json:"db"`
	}
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.DB["msg"] != "kept" {
		t.Errorf("grouped attribute renamed: %s", buf.String())
	}
}

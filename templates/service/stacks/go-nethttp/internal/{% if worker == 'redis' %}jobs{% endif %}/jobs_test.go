package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestStateOf(t *testing.T) {
	tests := map[asynq.TaskState]State{
		asynq.TaskStatePending:     StateQueued,
		asynq.TaskStateScheduled:   StateQueued,
		asynq.TaskStateRetry:       StateQueued,
		asynq.TaskStateAggregating: StateQueued,
		asynq.TaskStateActive:      StateRunning,
		asynq.TaskStateCompleted:   StateDone,
		asynq.TaskStateArchived:    StateFailed,
	}
	for in, want := range tests {
		if got := stateOf(in); got != want {
			t.Errorf("stateOf(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestJobOf(t *testing.T) {
	tests := []struct {
		name    string
		info    asynq.TaskInfo
		started int
		want    Job
	}{
		{"pending", asynq.TaskInfo{ID: "a", State: asynq.TaskStatePending}, 0,
			Job{ID: "a", Name: "n", State: StateQueued}},
		{"counted", asynq.TaskInfo{ID: "a", State: asynq.TaskStateCompleted}, 2,
			Job{ID: "a", Name: "n", State: StateDone, Attempts: 2}},
		{"done after a failure", asynq.TaskInfo{ID: "a", State: asynq.TaskStateCompleted, Retried: 1, LastErr: "boom"}, 0,
			Job{ID: "a", Name: "n", State: StateDone, Attempts: 2}},
		{"waiting to retry", asynq.TaskInfo{ID: "a", State: asynq.TaskStateRetry, Retried: 1, LastErr: "boom"}, 1,
			Job{ID: "a", Name: "n", State: StateQueued, Attempts: 1, Error: ptr("boom")}},
		{"failed", asynq.TaskInfo{ID: "a", State: asynq.TaskStateArchived, Retried: 2, LastErr: "failed on purpose"}, 0,
			Job{ID: "a", Name: "n", State: StateFailed, Attempts: 3, Error: ptr("failed on purpose")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := jobOf(&tt.info, "n", tt.started)
			if got.ID != tt.want.ID || got.Name != tt.want.Name || got.State != tt.want.State ||
				got.Attempts != tt.want.Attempts || deref(got.Error) != deref(tt.want.Error) {
				t.Errorf("jobOf() = %+v (error %q), want %+v (error %q)", got, deref(got.Error), tt.want, deref(tt.want.Error))
			}
		})
	}
}

func ptr(s string) *string { return &s }

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func TestOutcomeOf(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		err             error
		retried, maxTry int
		want            string
	}{
		{nil, 0, 2, outcomeDone},
		{nil, 2, 2, outcomeDone},
		{boom, 0, 2, outcomeRetried},
		{boom, 1, 2, outcomeRetried},
		{boom, 2, 2, outcomeFailed},
		{fmt.Errorf("bad payload: %w", asynq.SkipRetry), 0, 2, outcomeFailed},
	}
	for _, tt := range tests {
		if got := outcomeOf(tt.err, tt.retried, tt.maxTry); got != tt.want {
			t.Errorf("outcomeOf(%v, %d, %d) = %s, want %s", tt.err, tt.retried, tt.maxTry, got, tt.want)
		}
	}
}

func TestBackoffIsShort(t *testing.T) {
	prev := time.Duration(0)
	for n := range 30 {
		d := backoff(n, nil, nil)
		if d <= 0 || d > maxRetryDelay || d < prev {
			t.Errorf("backoff(%d) = %s, want growing, at most %s", n, d, maxRetryDelay)
		}
		prev = d
	}
	if maxRetryDelay+forwardInterval > 2*time.Second {
		t.Errorf("a retry may wait %s, want at most 2s", maxRetryDelay+forwardInterval)
	}
}

func TestRun(t *testing.T) {
	start := time.Now()
	if err := Run(t.Context(), Payload{Name: "x", DurationMS: 50}); err != nil {
		t.Errorf("Run() = %v", err)
	}
	if elapsed := time.Since(start); elapsed < 50*time.Millisecond {
		t.Errorf("Run() took %s, want at least 50ms", elapsed)
	}
	if err := Run(t.Context(), Payload{Name: "x", Fail: true}); !errors.Is(err, ErrFailedOnPurpose) || err.Error() != "failed on purpose" {
		t.Errorf("Run(fail) = %v, want %v", err, ErrFailedOnPurpose)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := Run(ctx, Payload{Name: "x", DurationMS: 60000}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run(cancelled) = %v, want the context's error", err)
	}
}

func TestRunExampleRefusesABadPayload(t *testing.T) {
	err := runExample(t.Context(), asynq.NewTask(TypeExample, []byte("{")))
	if !errors.Is(err, asynq.SkipRetry) {
		t.Errorf("runExample(bad payload) = %v, want SkipRetry", err)
	}
}

func TestJobMetricsStartAtZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := NewHandler(nil, slog.New(slog.DiscardHandler), reg, func() bool { return false })
	for _, outcome := range []string{outcomeDone, outcomeRetried, outcomeFailed} {
		if got := testutil.ToFloat64(h.total.WithLabelValues(QueueName, outcome)); got != 0 {
			t.Errorf("jobs_total{outcome=%q} = %v, want 0", outcome, got)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "jobs_total"); err != nil || n != 3 {
		t.Errorf("jobs_total has %d series (%v), want 3", n, err)
	}
}

func TestAsynqLoggerAddsTheJobID(t *testing.T) {
	var buf bytes.Buffer
	l := asynqLogger{slog.New(slog.NewJSONHandler(&buf, nil))}
	l.Warn("Quitting worker. task id=", "0b6b7ad4-9c1e-4c3e-8a55-6f3d8e1b2c3d")
	l.Info("Starting processing")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2: %q", len(lines), buf.String())
	}
	var first, second map[string]any
	if json.Unmarshal([]byte(lines[0]), &first) != nil || json.Unmarshal([]byte(lines[1]), &second) != nil {
		t.Fatalf("not JSON lines: %q", buf.String())
	}
	if first["job_id"] != "0b6b7ad4-9c1e-4c3e-8a55-6f3d8e1b2c3d" || first["queue"] != QueueName || first["level"] != "WARN" {
		t.Errorf("line about a job = %v, want its job_id and queue", first)
	}
	if _, ok := second["job_id"]; ok {
		t.Errorf("line about no job = %v, want no job_id", second)
	}
}

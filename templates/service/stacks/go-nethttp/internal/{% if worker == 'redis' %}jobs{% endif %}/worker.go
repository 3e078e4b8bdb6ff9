package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// ErrFailedOnPurpose is the error of every attempt of an example job asked to fail.
var ErrFailedOnPurpose = errors.New("failed on purpose")

// durationBuckets are the job duration histogram buckets, in seconds, that
// every service generated alongside this one uses too.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// The outcomes of an attempt, the outcome label of the job metrics.
const (
	outcomeDone    = "done"    // the job succeeded
	outcomeRetried = "retried" // the attempt failed and the job will be retried
	outcomeFailed  = "failed"  // the last attempt failed: the job has failed
)

// Backoff between attempts: retryDelay after the first failure, doubled
// after each further one, at most maxRetryDelay; asynq moves a due retry back
// to its queue within forwardInterval.
const (
	retryDelay      = 250 * time.Millisecond
	maxRetryDelay   = time.Second
	forwardInterval = 500 * time.Millisecond
)

// requeueMargin is kept from SHUTDOWN_TIMEOUT for requeueing the jobs that did
// not finish and for stopping the rest, so that the process exits within it.
const requeueMargin = time.Second

// ServerOptions configure NewServer.
type ServerOptions struct {
	// Concurrency is how many jobs run at once (WORKER_CONCURRENCY).
	Concurrency int
	// ShutdownTimeout bounds the whole shutdown (SHUTDOWN_TIMEOUT): running
	// jobs may finish until shortly before it, then are requeued.
	ShutdownTimeout time.Duration
	// Logger receives asynq's own log lines.
	Logger *slog.Logger
}

// NewServer returns the asynq server that runs jobs from rdb; closing it
// leaves rdb open. Start it with a Handler, and on SIGTERM call Stop (no new
// jobs) then Shutdown (running jobs finish or are requeued).
func NewServer(rdb redis.UniversalClient, opts ServerOptions) *asynq.Server {
	return asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:              opts.Concurrency,
		Queues:                   map[string]int{QueueName: 1},
		ShutdownTimeout:          opts.ShutdownTimeout - min(requeueMargin, opts.ShutdownTimeout/2),
		RetryDelayFunc:           backoff,
		DelayedTaskCheckInterval: forwardInterval,
		Logger:                   asynqLogger{opts.Logger},
		LogLevel:                 asynq.DebugLevel, // the slog handler filters by LOG_LEVEL
	})
}

// backoff is the delay before the retry of a job that failed n times before.
func backoff(n int, _ error, _ *asynq.Task) time.Duration {
	d := retryDelay << min(n, 8)
	return min(d, maxRetryDelay)
}

// Handler runs the jobs and observes every attempt: a log line when it
// starts and when it ends, all with job_id and queue, and the job metrics.
type Handler struct {
	rdb      redis.UniversalClient
	logger   *slog.Logger
	stopping func() bool
	mux      *asynq.ServeMux
	total    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewHandler returns the Handler of the worker process and registers the job
// metrics in reg. stopping reports whether the worker is shutting down: a job
// cut short then is requeued by asynq, not failed.
func NewHandler(rdb redis.UniversalClient, logger *slog.Logger, reg prometheus.Registerer, stopping func() bool) *Handler {
	labels := []string{"queue", "outcome"}
	h := &Handler{
		rdb:      rdb,
		logger:   logger,
		stopping: stopping,
		mux:      asynq.NewServeMux(),
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jobs_total",
			Help: "Job attempts that ended, by queue and outcome (done, retried, failed).",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "job_duration_seconds",
			Help:    "Time to run a job attempt, by queue and outcome.",
			Buckets: durationBuckets,
		}, labels),
	}
	reg.MustRegister(h.total, h.duration)
	for _, outcome := range []string{outcomeDone, outcomeRetried, outcomeFailed} {
		h.total.WithLabelValues(QueueName, outcome)
	}
	h.mux.HandleFunc(TypeExample, runExample)
	return h
}

// ProcessTask implements asynq.Handler.
func (h *Handler) ProcessTask(ctx context.Context, task *asynq.Task) error {
	id, _ := asynq.GetTaskID(ctx)
	queue, _ := asynq.GetQueueName(ctx)
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	attempt := h.countAttempt(ctx, id, retried)
	attrs := []slog.Attr{slog.String("job_id", id), slog.String("queue", queue), slog.Int("attempt", attempt)}
	h.logger.LogAttrs(ctx, slog.LevelInfo, "job started", attrs...)

	start := time.Now()
	err := h.safely(ctx, task)
	elapsed := time.Since(start)

	if err != nil && ctx.Err() != nil && h.stopping() {
		// SHUTDOWN_TIMEOUT ran out: asynq has put the job back in its queue
		// for the next worker, and cancelled ctx.
		h.logger.LogAttrs(ctx, slog.LevelWarn, "job requeued", append(attrs, slog.String("reason", "shutting down"))...)
		return err
	}
	outcome := outcomeOf(err, retried, maxRetry)
	h.total.WithLabelValues(queue, outcome).Inc()
	h.duration.WithLabelValues(queue, outcome).Observe(elapsed.Seconds())
	switch outcome {
	case outcomeDone:
		h.logger.LogAttrs(ctx, slog.LevelInfo, "job done",
			append(attrs, slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000))...)
	case outcomeRetried:
		h.logger.LogAttrs(ctx, slog.LevelWarn, "job retried", append(attrs, slog.String("error", err.Error()))...)
	default:
		h.logger.LogAttrs(ctx, slog.LevelError, "job failed", append(attrs, slog.String("error", err.Error()))...)
	}
	return err
}

// safely runs the job, turning a panic into its error.
func (h *Handler) safely(ctx context.Context, task *asynq.Task) (err error) {
	defer func() {
		if v := recover(); v != nil {
			id, _ := asynq.GetTaskID(ctx)
			h.logger.LogAttrs(ctx, slog.LevelError, "panic running job",
				slog.String("job_id", id),
				slog.String("queue", QueueName),
				slog.String("error", fmt.Sprint(v)),
				slog.String("stack", string(debug.Stack())),
			)
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return h.mux.ProcessTask(ctx, task)
}

// countAttempt counts one more start of the job in Redis and returns the
// count. Without Redis it falls back on asynq's count of failed attempts,
// which misses the runs that a shutdown interrupted.
func (h *Handler) countAttempt(ctx context.Context, id string, retried int) int {
	key := attemptsKey(id)
	var n *redis.IntCmd
	_, err := h.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		n = p.Incr(ctx, key)
		p.Expire(ctx, key, attemptsTTL)
		return nil
	})
	if err != nil {
		h.logger.LogAttrs(ctx, slog.LevelWarn, "count attempt failed",
			slog.String("job_id", id), slog.String("queue", QueueName), slog.String("error", err.Error()))
		return retried + 1
	}
	return int(n.Val())
}

// outcomeOf is the outcome of an attempt that ended with err, of a job that
// had failed retried times before and may be retried maxRetry times.
func outcomeOf(err error, retried, maxRetry int) string {
	switch {
	case err == nil:
		return outcomeDone
	case retried >= maxRetry || errors.Is(err, asynq.SkipRetry):
		return outcomeFailed
	default:
		return outcomeRetried
	}
}

// runExample is the example job: it decodes its payload and runs it.
func runExample(ctx context.Context, task *asynq.Task) error {
	var p Payload
	if err := json.Unmarshal(task.Payload(), &p); err != nil {
		// Retrying cannot fix a payload.
		return fmt.Errorf("decode payload: %w: %w", err, asynq.SkipRetry)
	}
	return Run(ctx, p)
}

// Run runs the example job: it waits p.DurationMS, then succeeds, or fails
// with ErrFailedOnPurpose when p.Fail is set. It returns ctx's error early when
// ctx is cancelled.
func Run(ctx context.Context, p Payload) error {
	timer := time.NewTimer(time.Duration(p.DurationMS) * time.Millisecond)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
	}
	if p.Fail {
		return ErrFailedOnPurpose
	}
	return nil
}

// taskID finds the job id in asynq's log messages ("... task id=ID ...").
var taskID = regexp.MustCompile(`task id=([A-Za-z0-9_-]+)`)

// asynqLogger writes asynq's log lines as JSON lines through the service
// logger, with job_id and queue when a line is about a job.
type asynqLogger struct {
	logger *slog.Logger
}

func (l asynqLogger) Debug(args ...any) { l.log(slog.LevelDebug, args) }
func (l asynqLogger) Info(args ...any)  { l.log(slog.LevelInfo, args) }
func (l asynqLogger) Warn(args ...any)  { l.log(slog.LevelWarn, args) }
func (l asynqLogger) Error(args ...any) { l.log(slog.LevelError, args) }

// Fatal logs, then exits as asynq.Logger requires.
func (l asynqLogger) Fatal(args ...any) {
	l.log(slog.LevelError, args)
	os.Exit(1)
}

func (l asynqLogger) log(level slog.Level, args []any) {
	msg := fmt.Sprint(args...)
	attrs := []slog.Attr{slog.String("component", "asynq")}
	if m := taskID.FindStringSubmatch(msg); m != nil {
		attrs = append(attrs, slog.String("job_id", m[1]), slog.String("queue", QueueName))
	}
	l.logger.LogAttrs(context.Background(), level, msg, attrs...)
}

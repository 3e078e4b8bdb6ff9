// Package jobs is the job queue of the service, on Redis with asynq
// (github.com/hibiken/asynq): the web process enqueues jobs and reports their
// state through a Queue, and the worker process runs them with the Server and
// Handler of worker.go.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

const (
	// QueueName is the asynq queue every job goes to.
	QueueName = "default"
	// TypeExample is the asynq task type of the example job.
	TypeExample = "example"
	// MaxAttempts bounds how often a failing job is run: the first attempt and
	// two retries. A job interrupted by a worker's shutdown is requeued
	// without counting as a failure.
	MaxAttempts = 3
	// Retention keeps a finished job visible to GET /jobs/{id} this long;
	// asynq keeps failed (archived) jobs longer still.
	Retention = 24 * time.Hour
	// attemptsTTL bounds how long the attempt counter of a job is kept.
	attemptsTTL = 7 * 24 * time.Hour
)

// redisTimeout bounds every Redis command, so that a Redis that is down or
// unreachable fails a request in about a second rather than holding it.
const redisTimeout = time.Second

// State is the state of a job as the HTTP API reports it.
type State string

// The states of a job.
const (
	StateQueued  State = "queued"
	StateRunning State = "running"
	StateDone    State = "done"
	StateFailed  State = "failed"
)

// Payload is what the example job is given.
type Payload struct {
	Name       string `json:"name"`
	DurationMS int    `json:"duration_ms"`
	Fail       bool   `json:"fail"`
}

// Job is a job as GET /jobs/{id} reports it.
type Job struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	State    State   `json:"state"`
	Attempts int     `json:"attempts"`
	Error    *string `json:"error"`
}

// ErrNotFound is returned by Queue.Get for an id that names no job.
var ErrNotFound = errors.New("no such job")

// Open returns a client of the Redis at url (REDIS_URL). It connects lazily
// and reconnects by itself, so a Redis that is down now only fails the
// commands sent while it is.
//
// It also sends go-redis's own messages, one per failed dial, to logger at
// debug level: while Redis is down /ready says so, and asynq logs its failures
// at a limited rate.
func Open(url string, logger *slog.Logger) (redis.UniversalClient, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	redis.SetLogger(redisLogger{logger})
	opts.DialTimeout = redisTimeout
	opts.ReadTimeout = redisTimeout
	opts.WriteTimeout = redisTimeout
	return redis.NewClient(opts), nil
}

// redisLogger is go-redis's logger, writing through the service logger.
type redisLogger struct {
	logger *slog.Logger
}

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.logger.LogAttrs(ctx, slog.LevelDebug, fmt.Sprintf(format, v...), slog.String("component", "go-redis"))
}

// Queue enqueues jobs and reports their state.
type Queue struct {
	rdb       redis.UniversalClient
	client    *asynq.Client
	inspector *asynq.Inspector
}

// NewQueue returns the queue on rdb; closing the Queue leaves rdb open.
func NewQueue(rdb redis.UniversalClient) *Queue {
	return &Queue{
		rdb:       rdb,
		client:    asynq.NewClientFromRedisClient(rdb),
		inspector: asynq.NewInspectorFromRedisClient(rdb),
	}
}

// Close releases the queue's resources (not the Redis client).
func (q *Queue) Close() error {
	return errors.Join(q.client.Close(), q.inspector.Close())
}

// Ping checks that Redis answers: the readiness check.
func (q *Queue) Ping(ctx context.Context) error {
	return q.rdb.Ping(ctx).Err()
}

// Enqueue queues the example job under id, which the caller makes unique (a
// UUID), with its retries and retention.
func (q *Queue) Enqueue(ctx context.Context, id string, p Payload) (Job, error) {
	payload, err := json.Marshal(p)
	if err != nil {
		return Job{}, err
	}
	_, err = q.client.EnqueueContext(ctx, asynq.NewTask(TypeExample, payload),
		asynq.TaskID(id),
		asynq.Queue(QueueName),
		asynq.MaxRetry(MaxAttempts-1),
		asynq.Retention(Retention),
	)
	if err != nil {
		return Job{}, fmt.Errorf("enqueue job %s: %w", id, err)
	}
	return Job{ID: id, Name: p.Name, State: StateQueued}, nil
}

// Get returns the job with id, or ErrNotFound.
func (q *Queue) Get(ctx context.Context, id string) (Job, error) {
	info, err := q.inspector.GetTaskInfo(QueueName, id)
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return Job{}, ErrNotFound
	}
	if err != nil {
		return Job{}, err
	}
	var p Payload
	if err := json.Unmarshal(info.Payload, &p); err != nil {
		return Job{}, fmt.Errorf("decode job %s: %w", id, err)
	}
	started, err := q.rdb.Get(ctx, attemptsKey(id)).Int()
	if err != nil && !errors.Is(err, redis.Nil) {
		return Job{}, err
	}
	return jobOf(info, p.Name, started), nil
}

// jobOf is the Job that info describes; started is the attempt counter the
// worker keeps (0 when it has none, such as after attemptsTTL).
func jobOf(info *asynq.TaskInfo, name string, started int) Job {
	job := Job{ID: info.ID, Name: name, State: stateOf(info.State), Attempts: started}
	if started == 0 {
		// asynq counts failures (Retried), not runs: the failed attempts,
		// plus the one running or that ended the job.
		job.Attempts = info.Retried
		if job.State != StateQueued {
			job.Attempts++
		}
	}
	if info.LastErr != "" && job.State != StateDone {
		job.Error = &info.LastErr
	}
	return job
}

// stateOf maps asynq's task states onto the four states of the API.
func stateOf(s asynq.TaskState) State {
	switch s {
	case asynq.TaskStateActive:
		return StateRunning
	case asynq.TaskStateCompleted:
		return StateDone
	case asynq.TaskStateArchived:
		return StateFailed
	default: // pending, scheduled, retry, aggregating
		return StateQueued
	}
}

// attemptsKey is the Redis key of the number of times a worker started the
// job with id.
func attemptsKey(id string) string {
	return "jobs:attempts:" + id
}

import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

type Labels = 'method' | 'route' | 'status';

/** The Prometheus registry of one service instance and the HTTP metrics recorded in it. */
export interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<Labels>;
  readonly requestDuration: Histogram<Labels>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests handled, by method, route and status code.',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time spent handling HTTP requests, by method, route and status code.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

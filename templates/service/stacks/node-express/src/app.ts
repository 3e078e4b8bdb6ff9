import { randomUUID } from 'node:crypto';

import express, {
  type ErrorRequestHandler,
  type Express,
  type Request,
  type RequestHandler,
} from 'express';

import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** This request's id: the caller's `X-Request-Id`, or a generated UUID. */
    id: string;
    /** A logger that adds this request's id to every line. */
    log: Logger;
  }
}

export interface AppOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Resolves when every backing service answers, rejects with the reason otherwise. */
  readonly checkReady: () => Promise<void>;
  /** True once shutdown has begun. */
  readonly isShuttingDown: () => boolean;
}

/** Caller-supplied ids are accepted only if they are short and cannot forge log lines. */
const REQUEST_ID = /^[\w.:/+=-]{1,128}$/;

export function createApp({ logger, metrics, checkReady, isShuttingDown }: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(observe(logger, metrics, isShuttingDown));

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/ready', async (req, res) => {
    if (isShuttingDown()) {
      res.status(503).json({ status: 'unavailable' });
      return;
    }
    try {
      await checkReady();
      res.json({ status: 'ok' });
    } catch (error) {
      req.log.warn({ error }, 'readiness check failed');
      res.status(503).json({ status: 'unavailable' });
    }
  });

  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use(handleError);

  return app;
}

/**
 * Assigns the request id, then records one access log line and the request metrics
 * once the response is finished (or the client went away).
 */
function observe(logger: Logger, metrics: Metrics, isShuttingDown: () => boolean): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    const header = req.get('x-request-id');
    req.id = header !== undefined && REQUEST_ID.test(header) ? header : randomUUID();
    req.log = logger.child({ request_id: req.id });
    res.setHeader('X-Request-Id', req.id);
    if (isShuttingDown()) {
      // Ask keep-alive clients to reconnect elsewhere.
      res.setHeader('Connection', 'close');
    }
    const { method, path } = req;

    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const status = res.statusCode;
      const labels = { method, route: routeOf(req), status };
      metrics.requests.inc(labels);
      metrics.requestDuration.observe(labels, seconds);

      const line = { method, path, status, duration_ms: Math.round(seconds * 1e6) / 1e3 };
      if (!res.writableFinished) {
        req.log.warn(line, 'request aborted by the client');
      } else if (status >= 500) {
        req.log.error(line, 'request completed');
      } else {
        req.log.info(line, 'request completed');
      }
    });
    next();
  };
}

/** The route pattern (`/items/:id`) rather than the path, to keep metric labels bounded. */
function routeOf(req: Request): string {
  const route: unknown = req.route;
  if (typeof route === 'object' && route !== null && 'path' in route && typeof route.path === 'string') {
    return req.baseUrl + route.path;
  }
  return 'unmatched';
}

const handleError: ErrorRequestHandler = (error: unknown, req, res, next) => {
  if (res.headersSent) {
    next(error);
    return;
  }
  const status = clientErrorStatus(error);
  if (status === undefined) {
    req.log.error({ error }, 'unhandled error');
    res.status(500).json({ error: 'internal server error' });
    return;
  }
  res.status(status).json({ error: error instanceof Error ? error.message : 'bad request' });
};

/** The 4xx status carried by errors such as body-parser's, if any. */
function clientErrorStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('status' in error)) {
    return undefined;
  }
  const { status } = error;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

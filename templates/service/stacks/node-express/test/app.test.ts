import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';

import { createApp } from '../src/app.js';
import { createLogger } from '../src/logger.js';
import { createMetrics } from '../src/metrics.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('HTTP routes', () => {
  const logs: string[] = [];
  let readiness: Error | undefined;
  let shuttingDown = false;
  let baseUrl = '';
  const server = createServer(
    createApp({
      logger: createLogger('info', {
        write: (line: string) => {
          logs.push(line);
        },
      }),
      metrics: createMetrics(),
      checkReady: () => (readiness === undefined ? Promise.resolve() : Promise.reject(readiness)),
      isShuttingDown: () => shuttingDown,
    }),
  );

  before(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  });

  after(() => {
    server.close();
  });

  beforeEach(() => {
    logs.length = 0;
    readiness = undefined;
    shuttingDown = false;
  });

  /** The parsed log lines, after the server has finished logging the last response. */
  async function logLines(): Promise<Record<string, unknown>[]> {
    await new Promise((resolve) => setImmediate(resolve));
    return logs.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  it('answers /health without checking dependencies', async () => {
    readiness = new Error('database down');
    const res = await fetch(`${baseUrl}/health`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  it('answers /ready with 200 when the dependencies answer', async () => {
    const res = await fetch(`${baseUrl}/ready`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  it('answers /ready with 503 when a dependency fails', async () => {
    readiness = new Error('connection refused');
    const res = await fetch(`${baseUrl}/ready`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { status: 'unavailable' });
    const warning = (await logLines()).find((line) => line.message === 'readiness check failed');
    assert.equal(warning?.level, 'warn');
  });

  it('answers /ready with 503 once shutdown has begun', async () => {
    shuttingDown = true;
    const res = await fetch(`${baseUrl}/ready`);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('connection'), 'close');
    assert.deepEqual(await res.json(), { status: 'unavailable' });
  });

  it('serves Prometheus metrics with request counts by route', async () => {
    await fetch(`${baseUrl}/health`);
    const res = await fetch(`${baseUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const body = await res.text();
    assert.match(body, /^http_requests_total\{method="GET",route="\/health",status="200"\} \d+$/m);
    assert.match(body, /^http_request_duration_seconds_bucket\{.*route="\/health".*\} \d+$/m);
    assert.match(body, /^process_cpu_seconds_total /m);
  });

  it('answers unknown paths with a JSON 404', async () => {
    const res = await fetch(`${baseUrl}/no/such/path`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: 'not found' });
  });

  it('echoes the caller’s X-Request-Id', async () => {
    const res = await fetch(`${baseUrl}/health`, { headers: { 'X-Request-Id': 'abc-123' } });
    await res.arrayBuffer();
    assert.equal(res.headers.get('x-request-id'), 'abc-123');
  });

  it('generates a UUID v4 request id when none (or a malformed one) is sent', async () => {
    for (const headers of [{}, { 'X-Request-Id': 'not a "safe" id' }]) {
      const res = await fetch(`${baseUrl}/health`, { headers });
      await res.arrayBuffer();
      assert.match(res.headers.get('x-request-id') ?? '', UUID_V4);
    }
  });

  it('writes one JSON access line per request', async () => {
    const res = await fetch(`${baseUrl}/health?verbose=1`, { headers: { 'X-Request-Id': 'req-42' } });
    await res.arrayBuffer();
    const lines = await logLines();
    assert.equal(lines.length, 1);
    const [line] = lines;
    assert.ok(line);
    assert.equal(line.level, 'info');
    assert.equal(line.message, 'request completed');
    assert.equal(typeof line.timestamp, 'string');
    assert.equal(new Date(line.timestamp as string).toISOString(), line.timestamp);
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/health');
    assert.equal(line.status, 200);
    assert.equal(line.request_id, 'req-42');
    assert.equal(typeof line.duration_ms, 'number');
  });
});

describe('logger', () => {
  it('honours the level', () => {
    const lines: string[] = [];
    const logger = createLogger('warn', {
      write: (line: string) => {
        lines.push(line);
      },
    });
    logger.info('dropped');
    logger.error({ error: new Error('boom') }, 'kept');
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    assert.equal(line.level, 'error');
    assert.equal(line.message, 'kept');
    assert.equal((line.error as Record<string, unknown>).message, 'boom');
  });
});

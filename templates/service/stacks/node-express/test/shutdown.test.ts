import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import express from 'express';

import { createHttpServer, KEEP_ALIVE_TIMEOUT_MS } from '../src/http.js';
import { createLogger } from '../src/logger.js';

/** A server whose `/slow` answers after `delayMs`, `/stream` sends its headers at once and its body after `delayMs`. */
async function start(delayMs: number) {
  const app = express();
  app.get('/fast', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/slow', async (_req, res) => {
    await sleep(delayMs);
    res.json({ status: 'slow but done' });
  });
  app.get('/stream', async (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('part one, ');
    await sleep(delayMs);
    res.end('part two');
  });
  const http = createHttpServer(app, createLogger('silent'));
  http.server.listen(0, '127.0.0.1');
  await once(http.server, 'listening');
  return { ...http, port: (http.server.address() as AddressInfo).port };
}

/** A raw keep-alive connection: one request written, the whole response read. */
async function openKeepAlive(port: number, path: string) {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const closed = once(socket, 'close').then(() => Date.now());
  let received = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    received += chunk;
  });
  socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n`);
  return { socket, closed, received: () => received };
}

function get(port: number, path: string): Promise<{ res: IncomingMessage; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => {
        resolve({ res, body });
      });
    })
      .on('error', reject)
      .end();
  });
}

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    assert.ok(Date.now() < deadline, 'condition not met in time');
    await sleep(10);
  }
}

describe('graceful shutdown', () => {
  it('keeps idle keep-alive connections for 75 s, longer than a load balancer’s 60 s', async () => {
    const { server, drain } = await start(0);
    assert.equal(server.keepAliveTimeout, 75_000);
    assert.equal(KEEP_ALIVE_TIMEOUT_MS, 75_000);
    assert.ok(server.headersTimeout > server.keepAliveTimeout);
    assert.equal(await drain(1_000), true);
  });

  it('lets a request in flight finish, closes idle keep-alive connections, then stops', async () => {
    const { port, drain } = await start(500);
    const idle = await openKeepAlive(port, '/fast');
    await until(() => idle.received().includes('"ok"'));
    assert.match(idle.received(), /keep-alive/i);

    const inFlight = get(port, '/slow');
    await sleep(100);
    const began = Date.now();
    const drained = drain(5_000);

    // The idle connection is closed at once, not after the keep-alive timeout.
    assert.ok((await idle.closed) - began < 200, 'idle keep-alive connection not closed promptly');
    const { res, body } = await inFlight;
    assert.equal(res.statusCode, 200);
    assert.deepEqual(JSON.parse(body), { status: 'slow but done' });
    // Its headers were not sent yet when shutdown began: it tells the client to reconnect elsewhere.
    assert.equal(res.headers.connection, 'close');
    assert.equal(await drained, true);
    assert.ok(Date.now() - began < 1_500, 'drain took too long');
    // Nothing listens any more.
    await assert.rejects(get(port, '/fast'), { code: 'ECONNREFUSED' });
  });

  it('closes a keep-alive connection as soon as its in-flight response is written', async () => {
    const { port, drain } = await start(300);
    const streaming = await openKeepAlive(port, '/stream');
    await until(() => streaming.received().includes('part one'));
    const began = Date.now();
    const drained = drain(5_000);
    const closedAt = await streaming.closed;
    assert.match(streaming.received(), /part two/);
    assert.ok(closedAt - began < 1_000, 'connection kept open after its response');
    assert.equal(await drained, true);
  });

  it('cuts what is still in flight at the deadline and reports it', async () => {
    const { port, drain } = await start(10_000);
    const stuck = await openKeepAlive(port, '/slow');
    await sleep(50);
    const began = Date.now();
    assert.equal(await drain(300), false);
    await stuck.closed;
    assert.ok(Date.now() - began < 1_000);
  });
});

import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';

import { errorBody } from './errors.js';
import type { Logger } from './logger.js';

/**
 * How long an idle keep-alive connection stays open: longer than the idle timeout of the load
 * balancer in front (60 s on AWS ALB, set explicitly by the Terraform), so that the balancer
 * always closes first and never reuses a connection the service is closing (a spurious 502).
 */
export const KEEP_ALIVE_TIMEOUT_MS = 75_000;

/** An HTTP server and the graceful way to stop it. */
export interface HttpServer {
  readonly server: Server;
  /**
   * Stops the server gracefully: no new connections; idle keep-alive connections closed at once;
   * requests in flight answered (with `Connection: close` while their headers are not yet sent)
   * and their connections closed as soon as each response is written. Resolves `true` once every
   * connection is gone, or `false` at `timeoutMs`, when the remaining connections are cut.
   */
  readonly drain: (timeoutMs: number) => Promise<boolean>;
}

/** An HTTP server for `app` with the keep-alive timeouts above and JSON answers to malformed requests. */
export function createHttpServer(app: RequestListener, logger: Logger): HttpServer {
  const server = createServer(app);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // Must exceed keepAliveTimeout, or a slow request on a reused connection can be cut early.
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;

  const inFlight = new Set<ServerResponse>();
  let draining = false;
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      if (draining) {
        // The connection this response was written on is idle now (or gone): close it rather
        // than leave the client a keep-alive connection to a server that is going away.
        setImmediate(() => {
          server.closeIdleConnections();
        });
      }
    });
  });

  // Requests that Node's parser refuses (bad syntax, oversized headers, header timeout) never
  // reach Express: answer them with the JSON error body too, then close the connection.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, reason] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large']
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout']
          : [400, 'Bad Request'];
    const requestId = randomUUID();
    logger.info({ request_id: requestId, status, error_code: error.code }, 'malformed request refused');
    const body = JSON.stringify(errorBody('bad_request', `malformed HTTP request (${reason})`, requestId));
    socket.end(
      `HTTP/1.1 ${String(status)} ${reason}\r\n` +
        'Content-Type: application/json\r\n' +
        `Content-Length: ${String(Buffer.byteLength(body))}\r\n` +
        `X-Request-Id: ${requestId}\r\n` +
        'X-Content-Type-Options: nosniff\r\n' +
        'Connection: close\r\n\r\n' +
        body,
    );
  });

  const drain = (timeoutMs: number) =>
    new Promise<boolean>((resolve) => {
      draining = true;
      for (const res of inFlight) {
        if (!res.headersSent) {
          res.setHeader('Connection', 'close');
        }
      }
      const deadline = setTimeout(() => {
        server.closeAllConnections();
        resolve(false);
      }, timeoutMs);
      server.close(() => {
        clearTimeout(deadline);
        resolve(true);
      });
      // Node 19+ also does this inside close(); explicit, it does not depend on the version.
      server.closeIdleConnections();
    });

  return { server, drain };
}

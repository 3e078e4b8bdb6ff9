import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';

/** The error codes of the JSON error body, one per HTTP status. */
export const ERROR_CODES = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'validation_failed',
  500: 'internal_error',
  503: 'unavailable',
} as const;

export type ErrorStatus = keyof typeof ERROR_CODES;
export type ErrorCode = (typeof ERROR_CODES)[ErrorStatus];

/** `{"error":{"code":"…","message":"…","request_id":"…"}}`, the body of every non-2xx response. */
export interface ErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly request_id: string;
  };
}

/** An error that becomes a response with its status and the JSON error body. */
export class HttpError extends Error {
  readonly code: ErrorCode;

  constructor(
    readonly status: ErrorStatus,
    message: string,
    /** Extra response headers, such as `Allow` on a 405. */
    readonly headers: Readonly<Record<string, string>> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'HttpError';
    this.code = ERROR_CODES[status];
  }
}

export function errorBody(code: string, message: string, requestId: string): ErrorBody {
  return { error: { code, message, request_id: requestId } };
}

/** Sends the JSON error body with `status`, the request's id and the error's headers. */
export function sendError(req: Request, res: Response, error: HttpError): void {
  // An explicit type: a handler may have set another before it failed, and res.json() keeps it.
  res
    .set(error.headers)
    .type('application/json')
    .status(error.status)
    .json(errorBody(error.code, error.message, req.id));
}

/** The last route: any request no route handled. */
export const notFound: RequestHandler = (req, _res, next) => {
  req.unmatched = true;
  next(new HttpError(404, `no route for ${req.method} ${req.path}`));
};

/**
 * Ends the method chain of a route (`app.route(path).get(…).all(methodNotAllowed('GET'))`): a known
 * path with another method is a 405 with the `Allow` header. Express answers HEAD with the GET
 * handler, so HEAD is allowed wherever GET is.
 */
export function methodNotAllowed(...methods: readonly string[]): RequestHandler {
  const allowed = methods.flatMap((method) => (method === 'GET' ? ['GET', 'HEAD'] : [method]));
  const allow = allowed.join(', ');
  return (req, _res, next) => {
    req.unmatched = true;
    next(new HttpError(405, `${req.method} is not allowed on ${req.path}; allowed: ${allow}`, { Allow: allow }));
  };
}

/**
 * The final error handler: every error becomes the JSON error body, never Express's HTML page.
 * Errors of body-parser and the router carry a 4xx `status` (and body-parser a `type` such as
 * `entity.parse.failed`); anything else is a bug, logged with the request id and answered 500.
 */
export const handleError: ErrorRequestHandler = (error: unknown, req, res, next) => {
  if (res.headersSent) {
    // Too late for an error body: let Express close the connection.
    next(error);
    return;
  }
  const httpError = toHttpError(error);
  if (httpError.status === 500) {
    req.log.error({ error }, 'unhandled error');
  } else if (httpError.status === 503) {
    req.log.warn({ error: httpError.cause ?? httpError }, httpError.message);
  }
  sendError(req, res, httpError);
};

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) {
    return error;
  }
  const status = clientStatus(error);
  switch (status) {
    case undefined:
      return new HttpError(500, 'internal server error');
    case 400:
      return new HttpError(
        400,
        isType(error, 'entity.parse.failed') ? 'malformed JSON in request body' : errorMessage(error, 'bad request'),
      );
    case 413:
      return new HttpError(413, 'request body exceeds the 1 MiB limit');
    case 415:
      return new HttpError(415, errorMessage(error, 'unsupported request body encoding'));
    default:
      // Other client errors (rare: body-parser's 403 on a failed verify) are reported as a 400.
      return new HttpError(400, errorMessage(error, 'bad request'));
  }
}

/** The 4xx status carried by errors such as body-parser's and the router's, if any. */
function clientStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('status' in error)) {
    return undefined;
  }
  const { status } = error;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

function isType(error: unknown, type: string): boolean {
  return typeof error === 'object' && error !== null && 'type' in error && error.type === type;
}

function errorMessage(error: unknown, fallback: string): string {
  return error instanceof Error && error.message !== '' ? error.message : fallback;
}

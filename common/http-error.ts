// The one error that crosses an HTTP boundary in podid's token path: the status and `error` code the caller
// gets, a sentence safe to show it (never a token or secret), an optional Retry-After, and the original
// error as `cause`, kept for debug logs and never put in a response. Dependency-free: the sidecar uses it.

import type { ErrorCode } from './error-codes.ts';

export interface HttpErrorOptions {
  /** Seconds the caller should wait before retrying (sent as `Retry-After`). */
  retryAfterSeconds?: number;
  /** What went wrong underneath (a socket error, an SDK error): for logs at debug level only. */
  cause?: unknown;
}

/** The JSON body every token endpoint answers an error with (IMDS and App Service shape). */
export interface ErrorBody {
  error: ErrorCode;
  error_description: string;
}

export class HttpError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly retryAfterSeconds?: number;

  constructor(status: number, code: ErrorCode, message: string, opts: HttpErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }

  get body(): ErrorBody {
    return { error: this.code, error_description: this.message };
  }

  /** The response headers this error adds (Retry-After when set). */
  get headers(): Record<string, string> {
    return this.retryAfterSeconds ? { 'retry-after': String(this.retryAfterSeconds) } : {};
  }
}

/** 401: the caller did not prove who it is. */
export const unauthorized = (message: string, opts?: HttpErrorOptions) => new HttpError(401, 'unauthorized', message, opts);

/** 429: an upstream throttled; retry after the given seconds. */
export const throttled = (message: string, retryAfterSeconds?: number, opts?: HttpErrorOptions) =>
  new HttpError(429, 'throttled', message, { ...opts, retryAfterSeconds });

/** 502 (an upstream refused or answered nonsense) or 503 (it could not be reached). */
export const unavailable = (status: 500 | 502 | 503, message: string, opts?: HttpErrorOptions) => new HttpError(status, 'unavailable', message, opts);

/** Any error as an HttpError: unknown ones become a 500 whose message says where to look, not what broke. */
export function asHttpError(err: unknown, where: string): HttpError {
  return err instanceof HttpError ? err : unavailable(500, `internal error (see the ${where} logs)`, { cause: err });
}

/** ` (ECONNREFUSED)` for an error with a system error code, else nothing: enough for a reply, the rest stays in `cause`. */
export function errnoSuffix(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? ` (${code})` : '';
}

/** The chain of causes as short strings, for a debug log line (messages only: callers never put secrets in them). */
export function causeChain(err: unknown): string[] {
  const out: string[] = [];
  for (let e: unknown = err instanceof Error ? err.cause : undefined; e !== undefined && out.length < 5; e = e instanceof Error ? e.cause : undefined) {
    out.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  }
  return out;
}

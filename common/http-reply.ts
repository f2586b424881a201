// What a route answers, and writing it: JSON (or plain text, for metrics) with its length. Handlers return a
// Reply instead of writing to the response, so they stay testable and every server writes the same way.
// Type-only imports: the sidecar uses this and must not load node:http through ESM (see node-http.ts).

import type { ServerResponse } from 'node:http';
import type { HttpError } from './http-error.ts';

export interface Reply {
  status: number;
  /** Serialized as JSON; a string is sent as it is (with `contentType`). */
  body: unknown;
  headers?: Record<string, string>;
  contentType?: string;
}

export const ok = (body: unknown): Reply => ({ status: 200, body });

/** 414 for a request target longer than `max` (a query this long is not a token request). */
export function urlTooLong(url: string | undefined, max: number): Reply | undefined {
  if ((url?.length ?? 0) <= max) return undefined;
  return { status: 414, body: { error: 'uri_too_long', error_description: `the request URL is longer than ${max} characters` } };
}

/** An HttpError as a reply: its status, `{error, error_description}` and Retry-After. */
export const errorReply = (e: HttpError): Reply => ({ status: e.status, body: e.body, headers: e.headers });

export function send(res: ServerResponse, reply: Reply): void {
  const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  const contentType = reply.contentType ?? (typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8');
  res.writeHead(reply.status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), ...reply.headers });
  res.end(text);
}

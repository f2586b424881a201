// What a route answers, and writing it: JSON (or plain text, for metrics) with its length. Handlers return a
// Reply instead of writing to the response, so they stay testable and every server writes the same way.
// Type-only imports: the sidecar uses this and must not load node:http through ESM (see builtins.ts).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './http-error.ts';

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
  return errorReply(new HttpError(414, 'uri_too_long', `the request URL is longer than ${max} characters`));
}

/** An HttpError as a reply: its status, `{error, error_description}` and Retry-After. */
export const errorReply = (e: HttpError): Reply => ({ status: e.status, body: e.body, headers: e.headers });

export function send(res: ServerResponse, reply: Reply): void {
  const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  const contentType = reply.contentType ?? (typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8');
  res.writeHead(reply.status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), ...reply.headers });
  res.end(text);
}

/** A request's body as text, at most `max` bytes (413 past it; the rest is read and dropped, so the answer arrives). */
export function readBody(req: IncomingMessage, max: number): Promise<string | HttpError> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= max) chunks.push(c);
    });
    req.on('end', () =>
      resolve(size > max ? new HttpError(413, 'request_too_large', `the request body is larger than ${max} bytes`) : Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', () => resolve(new HttpError(400, 'bad_request', 'the request body could not be read')));
  });
}

// Starting and stopping an HTTP(S) server the same way everywhere: listen and report the base URL; close,
// dropping idle keep-alive connections (or all of them, for test servers). Type-only imports: the sidecar
// uses this and must not load node:http through ESM (see builtins.ts).

import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { urlHost } from './listen.ts';

type AnyServer = HttpServer | HttpsServer;

/**
 * Listens on host:port (port 0: a free one) and resolves to `<scheme>://<host>:<port>`, a URL this machine can
 * dial: with no host (every interface) it names 127.0.0.1.
 */
export function listenOn(server: AnyServer, host: string | undefined, port: number, scheme: 'http' | 'https' = 'http'): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address() as AddressInfo;
      resolve(`${scheme}://${urlHost(host ?? '127.0.0.1')}:${addr.port}`);
    });
  });
}

/** Stops accepting, closes idle keep-alive connections (all connections with `force`), resolves when closed. */
export function closeServer(server: AnyServer, force = false): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    if (force) server.closeAllConnections();
    else server.closeIdleConnections();
  });
}

/** How much a server lets one client hold: connections, time, and the size of a request line. */
export interface ServerLimits {
  /** Open connections at most; more are closed as they arrive. */
  maxConnections: number;
  /** A connection with no traffic for this long is closed (keep-alive or never used). */
  idleTimeoutMs: number;
  /** A request's headers must have arrived within this (slow clients). */
  headersTimeoutMs: number;
  /** Longest request target (path and query); longer ones get 414. Longer than the header limit: 431. */
  maxUrlLength: number;
}

export const defaultServerLimits: ServerLimits = { maxConnections: 4096, idleTimeoutMs: 30_000, headersTimeoutMs: 10_000, maxUrlLength: 8192 };

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/** A JSON error written straight to a socket the HTTP parser gave up on (Node would answer with no body). */
function rawJsonError(status: number, error: string, description: string): string {
  const body = JSON.stringify({ error, error_description: description });
  return `HTTP/1.1 ${status} ${REASONS[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

/** Applies `limits` to a server, and answers requests the parser refuses (oversized headers, garbage) with JSON. */
export function applyLimits(server: AnyServer, limits: ServerLimits): void {
  server.maxConnections = limits.maxConnections;
  server.timeout = limits.idleTimeoutMs;
  server.keepAliveTimeout = limits.idleTimeoutMs;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = Math.max(limits.headersTimeoutMs, limits.idleTimeoutMs);
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
    const reply =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? rawJsonError(431, 'request_too_large', 'the request line or headers are too large (a query this long is not a token request)')
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? rawJsonError(408, 'request_timeout', 'the request did not arrive in time')
          : rawJsonError(400, 'bad_request', 'the request is not valid HTTP');
    socket.end(reply);
  });
}

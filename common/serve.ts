// Starting and stopping an HTTP(S) server the same way everywhere: listen and report the base URL; close,
// dropping idle keep-alive connections (or all of them, for test servers). Type-only imports: the sidecar
// uses this and must not load node:http through ESM (see node-http.ts).

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

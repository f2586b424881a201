// The plain-HTTP port a server keeps apart from its API for Prometheus and probes: /metrics from its registry,
// /healthz and /livez (the process answers), /readyz when the server says when it is ready. The webhook (beside
// its HTTPS admission port) and the controller use it.

import { createServer, type Server } from 'node:http';
import type { Registry } from './prometheus.ts';
import { HttpError } from './http-error.ts';
import { errorReply, send } from './http-reply.ts';
import type { ListenAddress } from './listen.ts';
import { listenOn } from './serve.ts';

export async function startMetricsServer(listen: ListenAddress, registry: Registry, ready?: () => boolean): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      void registry.metrics().then((text) => send(res, { status: 200, body: text, contentType: registry.contentType }));
      return;
    }
    if (path === '/healthz' || path === '/livez') return send(res, { status: 200, body: { status: 'ok' } });
    if (path === '/readyz' && ready) {
      const ok = ready();
      return send(res, { status: ok ? 200 : 503, body: { status: ok ? 'ready' : 'not ready' } });
    }
    send(res, errorReply(new HttpError(404, 'not_found', `no route ${path}; this port serves /metrics, /healthz, /livez${ready ? ', /readyz' : ''}`)));
  });
  return { server, url: await listenOn(server, listen.host, listen.port) };
}

// Forwarding a metadata request unchanged to the real IMDS (other /metadata/* paths, and pods that match
// an AzurePodIdentityException), streaming both ways.

import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { unavailable } from '../common/http-error.ts';
import { errorReply, send } from '../common/http-reply.ts';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);

export function passThrough(req: IncomingMessage, res: ServerResponse, imdsUrl: string, timeoutMs = 10_000): void {
  const target = new URL(req.url ?? '/', imdsUrl);
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
  const upstream = request(target, { method: req.method, headers, timeout: timeoutMs }, (up) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
    res.writeHead(up.statusCode ?? 502, out);
    up.pipe(res);
  });
  const fail = (why: string) => {
    if (res.headersSent) return void res.destroy();
    send(res, errorReply(unavailable(502, `the metadata service at ${imdsUrl} ${why}`)));
  };
  upstream.on('timeout', () => upstream.destroy(new Error('timeout')));
  upstream.on('error', (err) => fail(err.message === 'timeout' ? `did not answer within ${timeoutMs} ms` : 'is unreachable'));
  req.pipe(upstream);
}

// `podid sidecar`: the token API on loopback and the health endpoints on the pod IP, node: built-ins only.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ListenAddress } from '../common/listen.ts';
import { http } from '../common/node-http.ts';
import { closeServer, listenOn } from '../common/serve.ts';
import type { NmiClient } from './nmi-client.ts';
import { TokenCache, UpstreamError } from '../tokens/token-cache.ts';
import { appServiceBody, cacheKey, imdsBody, parseAppServiceRequest, parseImdsRequest, type TokenRequest, type WireError } from '../tokens/wire.ts';

export interface SidecarSettings {
  listen: ListenAddress;
  healthListen: ListenAddress;
  /** The App Service header secret; empty disables the App Service endpoint. */
  identityHeader: string;
  refreshAheadSeconds: number;
  maxEntries: number;
  /** When set, /healthz also waits for a first token for this resource (the pod's identity, no selector). */
  readyResource?: string;
}

export type SidecarLog = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface RunningSidecar {
  tokenUrl: string;
  healthUrl: string;
  close(): Promise<void>;
}

const IMDS_PATH = '/metadata/identity/oauth2/token';
const APP_SERVICE_PATH = '/msi/token';

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export async function startSidecar(settings: SidecarSettings, nmi: NmiClient, log: SidecarLog): Promise<RunningSidecar> {
  const cache = new TokenCache({ refreshAheadSeconds: settings.refreshAheadSeconds, maxEntries: settings.maxEntries });
  let ready = false;

  const tokenServer = http.createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // MSAL asks for `/metadata/identity/oauth2/token/` (trailing slash); App Service paths vary in case.
    const path = url.pathname.replace(/\/+$/, '').toLowerCase();
    let parsed: TokenRequest | WireError;
    if (req.method !== 'GET') parsed = { status: 405, body: { error: 'invalid_request', error_description: 'use GET' } };
    else if (path === IMDS_PATH) parsed = parseImdsRequest(url, req.headers);
    else if (path === APP_SERVICE_PATH && settings.identityHeader) parsed = parseAppServiceRequest(url, req.headers, settings.identityHeader);
    else parsed = { status: 404, body: { error: 'not_found', error_description: `podid's sidecar serves ${IMDS_PATH} and ${APP_SERVICE_PATH}` } };
    if ('status' in parsed) return send(res, parsed.status, parsed.body);
    const request = parsed;
    try {
      const token = await cache.get(cacheKey(request), () => nmi.token(request));
      send(res, 200, request.flavour === 'imds' ? imdsBody(token, Date.now() / 1000) : appServiceBody(token));
    } catch (err) {
      const e = err instanceof UpstreamError ? err : new UpstreamError(500, 'sidecar error');
      const upstream = e.body as { error?: unknown; error_description?: unknown } | undefined;
      const body = typeof upstream?.error === 'string' ? upstream : { error: e.status === 429 ? 'throttled' : 'unavailable', error_description: e.message };
      log('warn', 'token request failed', { status: e.status, resource: request.resource, reason: e.message });
      send(res, e.status, body, e.retryAfterSeconds ? { 'retry-after': String(e.retryAfterSeconds) } : {});
    }
  });
  tokenServer.keepAliveTimeout = 60_000;

  const healthServer = http.createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/livez') return send(res, 200, { status: 'ok' });
    if (path !== '/healthz') return send(res, 404, { error: 'not_found', error_description: 'health endpoints: /healthz, /livez' });
    // Ready once NMI has answered (and, if asked, a first token is cached); after that readiness no longer
    // depends on NMI: the cache serves.
    let waiting = 'waiting for NMI';
    if (!ready && (await nmi.healthy())) {
      waiting = '';
      if (settings.readyResource) {
        const warm: TokenRequest = { flavour: 'imds', resource: settings.readyResource, selector: {} };
        try {
          await cache.get(cacheKey(warm), () => nmi.token(warm));
        } catch (err) {
          waiting = `waiting for a first token for ${settings.readyResource}: ${(err as Error).message}`;
        }
      }
      ready = !waiting;
    }
    send(res, ready ? 200 : 503, { status: ready ? 'ready' : waiting });
  });

  const tokenUrl = await listenOn(tokenServer, settings.listen.host, settings.listen.port);
  const healthUrl = await listenOn(healthServer, settings.healthListen.host, settings.healthListen.port);
  log('info', 'podid sidecar listening', { tokenUrl, healthUrl });
  return { tokenUrl, healthUrl, close: async () => void (await Promise.all([closeServer(tokenServer), closeServer(healthServer)])) };
}

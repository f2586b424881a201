// `podid sidecar`: the token API on loopback and the health endpoints on the pod IP, node: built-ins only.
// Each server is a table of named routes returning a Reply.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { asHttpError, causeChain, HttpError } from '../common/http-error.ts';
import { errorReply, ok, readBody, send, urlTooLong, type Reply } from '../common/http-reply.ts';
import { SidecarMetrics } from './metrics.ts';
import type { ListenAddress } from '../common/listen.ts';
import { http } from '../common/builtins.ts';
import { applyLimits, closeServer, defaultServerLimits, listenOn, type ServerLimits } from '../common/serve.ts';
import type { TokenSource } from './token-source.ts';
import { TokenCache } from '../tokens/token-cache.ts';
import {
  APP_SERVICE_TOKEN_PATH,
  IMDS_TOKEN_PATH,
  LEGACY_MSI_TOKEN_PATH,
  MAX_FORM_BYTES,
  parseLegacyMsiRequest,
  appServiceBody,
  cacheKey,
  imdsBody,
  parseAppServiceRequest,
  parseImdsRequest,
  type Token,
  type TokenRequest,
} from '../tokens/wire.ts';

export interface SidecarSettings {
  listen: ListenAddress;
  healthListen: ListenAddress;
  /** The App Service header secret; empty disables the App Service endpoint. */
  identityHeader: string;
  refreshAheadSeconds: number;
  maxEntries: number;
  /** When set, /healthz also waits for a first token for this resource (the pod's identity, no selector). */
  readyResource?: string;
  /** Connection cap, idle and header timeouts, longest URL (default: sidecarLimits). */
  limits?: ServerLimits;
}

/** One pod's containers are the only clients: a small cap is plenty. */
export const sidecarLimits: ServerLimits = { ...defaultServerLimits, maxConnections: 256 };

export type SidecarLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface RunningSidecar {
  tokenUrl: string;
  healthUrl: string;
  close(): Promise<void>;
}

type Route = (req: IncomingMessage, url: URL) => Reply | Promise<Reply>;

/** Serves `routes` by path (trailing slashes dropped; `caseless` compares lower-cased), 404 naming them otherwise. */
function router(routes: Record<string, Route>, caseless: boolean, what: string, maxUrlLength: number) {
  const table = new Map(Object.entries(routes).map(([path, route]) => [caseless ? path.toLowerCase() : path, route]));
  const known = Object.keys(routes).join(', ');
  return async (req: IncomingMessage, res: ServerResponse) => {
    const tooLong = urlTooLong(req.url, maxUrlLength);
    if (tooLong) return send(res, tooLong);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/\/+$/, '');
    const route = table.get(caseless ? path.toLowerCase() : path);
    send(res, route ? await route(req, url) : errorReply(new HttpError(404, 'not_found', `${what} ${known}`)));
  };
}

export async function startSidecar(settings: SidecarSettings, source: TokenSource, log: SidecarLog): Promise<RunningSidecar> {
  const metrics = new SidecarMetrics();
  const cache = new TokenCache({ refreshAheadSeconds: settings.refreshAheadSeconds, maxEntries: settings.maxEntries, onLookup: (hit) => metrics.lookup(hit) });
  const cached = (request: TokenRequest): Promise<Token> => cache.get(cacheKey(request), () => source.token(request));
  const imdsTokenBody = (t: Token) => imdsBody(t, Date.now() / 1000);
  let ready = false;

  /** One flavour's token route: parse, answer from the cache (or the source), shape the body as the flavour does. */
  const tokenRoute =
    (
      method: 'GET' | 'POST',
      parse: (url: URL, req: IncomingMessage) => TokenRequest | HttpError | Promise<TokenRequest | HttpError>,
      body: (t: Token) => Record<string, string>,
    ): Route =>
    async (req, url) => {
      if (req.method !== method) return errorReply(new HttpError(405, 'invalid_request', `use ${method}`));
      const request = await parse(url, req);
      if (request instanceof HttpError) return errorReply(request);
      try {
        const reply = ok(body(await cached(request)));
        metrics.request(request.flavour, 'ok');
        return reply;
      } catch (err) {
        const e = asHttpError(err, 'sidecar');
        metrics.request(request.flavour, e.code);
        log('warn', 'token request failed', { status: e.status, resource: request.resource, reason: e.message });
        log('debug', 'token request failure causes', { causes: causeChain(e) });
        return errorReply(e);
      }
    };

  // MSAL asks for `/metadata/identity/oauth2/token/` (trailing slash); App Service paths vary in case.
  const tokenRoutes: Record<string, Route> = {
    [IMDS_TOKEN_PATH]: tokenRoute('GET', (url, req) => parseImdsRequest(url, req.headers), imdsTokenBody),
    // MSI_ENDPOINT for msrestazure (Azure CLI 2.45) and go-autorest's adal: a POSTed form, answered like IMDS.
    [LEGACY_MSI_TOKEN_PATH]: tokenRoute(
      'POST',
      async (_url, req) => {
        const text = await readBody(req, MAX_FORM_BYTES);
        return text instanceof HttpError ? text : parseLegacyMsiRequest(new URLSearchParams(text), req.headers);
      },
      imdsTokenBody,
    ),
  };
  if (settings.identityHeader) {
    tokenRoutes[APP_SERVICE_TOKEN_PATH] = tokenRoute('GET', (url, req) => parseAppServiceRequest(url, req.headers, settings.identityHeader), appServiceBody);
  }

  /** Ready once the source can serve (and, if asked, a first token is cached); after that the cache serves. */
  async function readiness(): Promise<Reply> {
    let waiting = source.waitingFor;
    if (!ready && (await source.healthy())) {
      waiting = '';
      if (settings.readyResource) {
        try {
          await cached({ flavour: 'imds', resource: settings.readyResource, selector: {} });
        } catch (err) {
          waiting = `waiting for a first token for ${settings.readyResource}: ${(err as Error).message}`;
        }
      }
      ready = !waiting;
    }
    return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : waiting } };
  }
  const liveness = (): Reply => ok({ status: 'ok' });

  const limits = settings.limits ?? sidecarLimits;
  const tokenServer = http.createServer(router(tokenRoutes, true, "podid's sidecar serves", limits.maxUrlLength));
  const metricsText = (): Reply => ({ status: 200, body: metrics.text(), contentType: 'text/plain; version=0.0.4; charset=utf-8' });
  const healthServer = http.createServer(
    router({ '/healthz': readiness, '/livez': liveness, '/metrics': metricsText }, false, 'health endpoints:', limits.maxUrlLength),
  );
  for (const server of [tokenServer, healthServer]) applyLimits(server, limits);

  const tokenUrl = await listenOn(tokenServer, settings.listen.host, settings.listen.port);
  const healthUrl = await listenOn(healthServer, settings.healthListen.host, settings.healthListen.port);
  log('info', 'podid sidecar listening', { tokenUrl, healthUrl });
  return { tokenUrl, healthUrl, close: async () => void (await Promise.all([closeServer(tokenServer), closeServer(healthServer)])) };
}

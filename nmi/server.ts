// NMI's HTTP server on the node: the sidecar endpoint (caller proven by TokenReview), /host/token for
// the Secrets Store CSI driver, the IMDS endpoint for intercepted pods (caller known by source IP), and
// pass-through of everything else under /metadata to the real IMDS.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ListenAddress } from '../common/listen.ts';
import type { Logger } from '../common/log.ts';
import { closeServer, listenOn } from '../common/serve.ts';
import type { IdentitySelector } from '../identity/select.ts';
import { UpstreamError } from '../tokens/token-cache.ts';
import { imdsBody, parseImdsRequest, resourceOf, selectorOf, type Token } from '../tokens/wire.ts';
import { CallerError, type Reviewer } from './caller.ts';
import type { IdentityStore } from './identity-store.ts';
import { lookupIdentity } from './lookup.ts';
import type { NmiMetrics } from './metrics.ts';
import { passThrough } from './passthrough.ts';
import { normalizeIP, type NodePod, type PodIndex } from './pod-index.ts';
import type { TokenService } from './token-service.ts';

export interface NmiSettings {
  listen: ListenAddress;
  /** The real metadata service, for pass-through (production: http://169.254.169.254). */
  imdsUrl: string;
  /** The node's own addresses: host-network callers of /host/token come from these or loopback. */
  nodeIPs: readonly string[];
  /** How long to wait for a pod the informer has not delivered yet. */
  podWaitMs: number;
  forceNamespaced: boolean;
}

export interface NmiParts {
  pods: PodIndex;
  store: IdentityStore;
  tokens: TokenService;
  reviewer: Reviewer;
  metrics: NmiMetrics;
  log: Logger;
  /** True once the informers have synced. */
  ready: () => boolean;
}

export interface RunningNmi {
  url: string;
  server: Server;
  close(): Promise<void>;
}

type Endpoint = 'sidecar' | 'host' | 'intercept';

class Refusal extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; version=0.0.4' : 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

export async function startNmi(settings: NmiSettings, parts: NmiParts): Promise<RunningNmi> {
  const { pods, store, tokens, reviewer, metrics, log } = parts;
  const loopback = (ip: string) => ip === '::1' || ip.startsWith('127.');

  async function tokenFor(pod: NodePod, selector: IdentitySelector, resource: string): Promise<Token> {
    const found = lookupIdentity(pod, selector, store, { forceNamespaced: settings.forceNamespaced });
    if (!found.ok) throw new Refusal(found.status, found.error, found.message);
    return tokens.token(found.identity, resource);
  }

  async function podNamed(namespace: string, name: string): Promise<NodePod> {
    const pod = await pods.waitByName(namespace, name, settings.podWaitMs);
    if (!pod) throw new Refusal(403, 'pod_not_on_node', `pod ${namespace}/${name} is not a pod of this node (or not yet known to NMI after ${settings.podWaitMs} ms)`);
    return pod;
  }

  async function sidecarToken(req: IncomingMessage, url: URL): Promise<[number, unknown]> {
    const auth = header(req, 'authorization') ?? '';
    if (!auth.startsWith('Bearer ') || auth.length <= 7) throw new Refusal(401, 'unauthorized', 'present the pod\'s projected service-account token as "Authorization: Bearer <token>"');
    const caller = await reviewer.review(auth.slice(7).trim());
    const pod = await podNamed(caller.namespace, caller.podName);
    if (pod.uid && pod.uid !== caller.podUID) throw new Refusal(403, 'pod_not_on_node', `the token was issued for another pod named ${caller.namespace}/${caller.podName} (uid ${caller.podUID})`);
    const resource = resourceOf(url.searchParams);
    if (typeof resource !== 'string') return [resource.status, resource.body];
    const token = await tokenFor(pod, selectorOf(url.searchParams), resource);
    return [200, { access_token: token.accessToken, expires_on: token.expiresOn, resource: token.resource, token_type: 'Bearer', client_id: token.clientId }];
  }

  async function hostToken(req: IncomingMessage, url: URL): Promise<[number, unknown]> {
    const from = normalizeIP(req.socket.remoteAddress ?? '');
    if (!loopback(from) && !settings.nodeIPs.includes(from)) throw new Refusal(403, 'forbidden', '/host/token is for callers on the host network only');
    const name = header(req, 'podname');
    const namespace = header(req, 'podns');
    if (!name || !namespace) throw new Refusal(400, 'invalid_request', 'headers podname and podns are required');
    const resource = resourceOf(url.searchParams);
    if (typeof resource !== 'string') return [resource.status, resource.body];
    const pod = await podNamed(namespace, name);
    const token = await tokenFor(pod, { clientID: header(req, 'clientid') || undefined }, resource);
    return [200, { token: imdsBody(token, Date.now() / 1000), clientid: token.clientId }];
  }

  /** Returns undefined when the request was passed through to the real IMDS. */
  async function interceptedToken(req: IncomingMessage, res: ServerResponse, url: URL): Promise<[number, unknown] | undefined> {
    const parsed = parseImdsRequest(url, req.headers);
    if ('status' in parsed) return [parsed.status, parsed.body];
    const from = normalizeIP(req.socket.remoteAddress ?? '');
    const pod = await pods.waitByIP(from, settings.podWaitMs);
    if (!pod) throw new Refusal(403, 'pod_not_on_node', `no pod of this node has IP ${from}`);
    const found = lookupIdentity(pod, parsed.selector, store, { forceNamespaced: settings.forceNamespaced });
    if (!found.ok && found.exception) {
      passThrough(req, res, settings.imdsUrl);
      return undefined;
    }
    if (!found.ok) throw new Refusal(found.status, found.error, found.message);
    return [200, imdsBody(await tokens.token(found.identity, parsed.resource), Date.now() / 1000)];
  }

  async function serveToken(endpoint: Endpoint, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    try {
      const answer = endpoint === 'sidecar' ? await sidecarToken(req, url) : endpoint === 'host' ? await hostToken(req, url) : await interceptedToken(req, res, url);
      if (!answer) return metrics.served.inc({ endpoint, result: 'passthrough' });
      metrics.served.inc({ endpoint, result: answer[0] === 200 ? 'ok' : String((answer[1] as { error?: unknown }).error ?? answer[0]) });
      send(res, answer[0], answer[1]);
    } catch (err) {
      const known = err instanceof Refusal || err instanceof UpstreamError || err instanceof CallerError;
      if (!known) log.error({ err: (err as Error).message, endpoint }, 'token request failed unexpectedly');
      const e = known ? err : new UpstreamError(500, 'internal error (see NMI logs)');
      const code = e instanceof Refusal ? e.code : e.status === 401 ? 'unauthorized' : e.status === 429 ? 'throttled' : 'unavailable';
      const retry = e instanceof UpstreamError && e.retryAfterSeconds ? { 'retry-after': String(e.retryAfterSeconds) } : undefined;
      metrics.served.inc({ endpoint, result: code });
      log.warn({ endpoint, status: e.status, reason: e.message }, 'token request refused');
      send(res, e.status, { error: code, error_description: e.message }, retry);
    }
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://nmi');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/healthz') return send(res, parts.ready() ? 200 : 503, { status: parts.ready() ? 'ok' : 'waiting for informers' });
    if (path === '/metrics') {
      metrics.indexed.set({ kind: 'pods' }, pods.size);
      for (const [kind, n] of Object.entries(store.counts)) metrics.indexed.set({ kind }, n);
      return void metrics.registry.metrics().then((text) => send(res, 200, text));
    }
    if (req.method !== 'GET' && path !== '/metadata' && !path.startsWith('/metadata/')) return send(res, 405, { error: 'invalid_request', error_description: 'use GET' });
    if (path === '/sidecar/token') return void serveToken('sidecar', req, res, url);
    if (path === '/host/token') return void serveToken('host', req, res, url);
    if (path.toLowerCase() === '/metadata/identity/oauth2/token') return void serveToken('intercept', req, res, url);
    if (path.startsWith('/metadata')) {
      if (header(req, 'x-forwarded-for') !== undefined) return send(res, 400, { error: 'invalid_request', error_description: 'Requests with X-Forwarded-For are not accepted' });
      return passThrough(req, res, settings.imdsUrl);
    }
    send(res, 404, { error: 'not_found', error_description: 'NMI serves /sidecar/token, /host/token, /metadata/*, /healthz and /metrics' });
  });
  server.keepAliveTimeout = 60_000;
  const url = await listenOn(server, settings.listen.host, settings.listen.port);
  log.info({ url }, 'podid NMI listening');
  return { url, server, close: () => closeServer(server) };
}

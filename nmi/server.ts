// NMI's HTTP server on the node: the sidecar endpoint (caller proven by TokenReview), /host/token for
// the Secrets Store CSI driver, the IMDS endpoint for intercepted pods (caller known by source IP), and
// pass-through of everything else under /metadata to the real IMDS.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { asHttpError, causeChain, HttpError, throttled } from '../common/http-error.ts';
import { errorReply, ok, send, urlTooLong, type Reply } from '../common/http-reply.ts';
import type { ListenAddress } from '../common/listen.ts';
import type { Logger } from '../common/log.ts';
import { applyLimits, closeServer, defaultServerLimits, listenOn, type ServerLimits } from '../common/serve.ts';
import {
  HEALTH_PATH,
  HOST_TOKEN_PATH,
  SIDECAR_TOKEN_PATH,
  bearerToken,
  presentedToken,
  hostTokenBody,
  parseHostTokenRequest,
  sidecarTokenBody,
  sidecarTokenQuery,
  type NmiTokenQuery,
} from '../tokens/nmi-contract.ts';
import { IMDS_TOKEN_PATH, forwardedRefusal, header, imdsBody, parseImdsRequest, type Token } from '../tokens/wire.ts';
import type { IdentitySelector } from '../identity/select.ts';
import type { Caller, Reviewer } from './caller.ts';
import { hostTokenPod, type HostTokenAuth } from './host-auth.ts';
import type { IdentityStore } from '../identity/store.ts';
import type { AssignmentGate } from './assignment-gate.ts';
import { lookupIdentity, type AmbiguityPolicy, type Lookup, type LookupOptions } from './lookup.ts';
import type { PodEvents } from '../common/events.ts';
import type { NmiMetrics } from './metrics.ts';
import { passThrough } from './passthrough.ts';
import { RateLimiter } from './rate-limit.ts';
import { normalizeIP, type NodePod, type PodIndex } from './pod-index.ts';
import type { TokenService } from './token-service.ts';

export interface NmiSettings {
  listen: ListenAddress;
  /** The real metadata service, for pass-through (production: http://169.254.169.254). */
  imdsUrl: string;
  /** Addresses besides loopback that /host/token callers may come from (default none: the CSI provider calls localhost). */
  nodeIPs: readonly string[];
  /** Whether /host/token needs the pod's service-account token (default optional: verified when present). */
  hostTokenAuth?: HostTokenAuth;
  /** How long to wait for a pod the informer has not delivered yet. */
  podWaitMs: number;
  forceNamespaced: boolean;
  /** This node: a token naming another node is refused at once instead of waited for. */
  nodeName?: string;
  /** aad-pod-identity's --block-instance-metadata: intercepted pods get 403 for /metadata/instance (VM details). */
  blockInstanceMetadata?: boolean;
  /** A pod holding several identities asking without a selector: serve the first (default, as aad-pod-identity) or refuse (409). */
  ambiguousIdentity?: AmbiguityPolicy;
  /** Connection cap, idle and header timeouts, longest URL (default: defaultServerLimits). */
  limits?: ServerLimits;
  /** Token requests per caller (pod address; for /host/token the pod named): average per second and burst. */
  callerRate?: { ratePerSecond: number; burst: number };
  /** The audience of the tokens sidecars present (--token-audience). Interception refuses a pod with a projected token
   * for it (an injected pod: its SDKs were pointed at the sidecar), since a source address can be forged on a bridge by
   * any pod holding NET_RAW and a token cannot; `interceptInjected: 'serve'` serves such pods by address anyway. */
  sidecarAudience?: string;
  interceptInjected?: InterceptInjected;
}

export const INTERCEPT_INJECTED = ['refuse', 'serve'] as const;
export type InterceptInjected = (typeof INTERCEPT_INJECTED)[number];

/** Whether interception must refuse `pod`: it can prove who it is with a token for the sidecar audience. */
export function provesWithToken(pod: NodePod, sidecarAudience: string | undefined, policy: InterceptInjected = 'refuse'): boolean {
  return policy === 'refuse' && sidecarAudience !== undefined && (pod.tokenAudiences ?? []).includes(sidecarAudience);
}

export interface NmiParts {
  pods: PodIndex;
  store: IdentityStore;
  tokens: TokenService;
  reviewer: Reviewer;
  /** Verifies tokens presented on /host/token (their audience may differ from the sidecar's); default: `reviewer`. */
  hostReviewer?: Reviewer;
  metrics: NmiMetrics;
  log: Logger;
  /** Warning Events on pods (none when absent, e.g. in-process tests). */
  events?: PodEvents;
  /** True once the informers have synced. */
  ready: () => boolean;
  /** Standard mode: holds a type 0 request until its identity is on the node (assignment-gate.ts). */
  assignments?: AssignmentGate;
}

export interface RunningNmi {
  url: string;
  server: Server;
  close(): Promise<void>;
}

type Endpoint = 'sidecar' | 'host' | 'intercept';

/** A token endpoint's handler: a Reply, or undefined when it streamed the answer itself (pass-through). */
type TokenHandler = (ctx: NmiContext, req: IncomingMessage, res: ServerResponse, url: URL) => Promise<Reply | undefined>;
type Route = (ctx: NmiContext, req: IncomingMessage, res: ServerResponse, url: URL) => Promise<Reply | undefined> | Reply | undefined;

/** A parsed value, or the HttpError the parser returned, thrown. */
function must<T>(v: T | HttpError): T {
  if (v instanceof HttpError) throw v;
  return v;
}

const METADATA_PREFIX = '/metadata';

/** What NMI's handlers share: its settings, its parts and the per-caller rate limiter. */
export interface NmiContext {
  settings: NmiSettings;
  parts: NmiParts;
  limiter?: RateLimiter;
  /** The lookup rules from the settings, built once. */
  lookup: LookupOptions;
}

const loopback = (ip: string) => ip === '::1' || ip.startsWith('127.');
const now = () => Date.now() / 1000;

/** The pod's identity for this request; a choice among several is counted, logged and told to the pod's owner. */
export function identityFor(ctx: NmiContext, pod: NodePod, selector: IdentitySelector, endpoint: Endpoint): Lookup {
  const { settings, parts } = ctx;
  const found = lookupIdentity(pod, selector, parts.store, ctx.lookup);
  if (found.ok && found.choseAmong) {
    const chosen = `${found.identity.namespace}/${found.identity.name}`;
    const message =
      `pod ${pod.namespace}/${pod.name} holds ${found.choseAmong.length} identities (${found.choseAmong.join(', ')}) and asked without ` +
      `client_id, object_id or msi_res_id: podid served ${chosen}, the first by namespace/name as aad-pod-identity did. ` +
      `Name the identity in the request, or run NMI with --ambiguous-identity=refuse.`;
    parts.metrics.ambiguous.inc({ endpoint });
    parts.events?.warn(pod, 'AmbiguousIdentity', message);
    // Debug only: this is a hot path, and the Event (deduplicated) and the metric already tell operators.
    parts.log.debug({ endpoint, pod: `${pod.namespace}/${pod.name}`, chosen, held: found.choseAmong }, 'several identities, none named: served the first');
  }
  return found;
}

/** A pod podid will not serve: the error for the caller, and the same words as a Warning Event on the pod (deduplicated). */
function refused(ctx: NmiContext, pod: NodePod, found: Extract<Lookup, { ok: false }>): HttpError {
  // A 409 for an unnamed identity among several is the caller's to fix in its request: no Event.
  if (found.error === 'identity_not_found')
    ctx.parts.events?.warn(pod, 'NoIdentity', `podid refused a token request: ${found.message} (podid explain pod ${pod.namespace}/${pod.name})`);
  return new HttpError(found.status, found.error, found.message);
}

async function tokenFor(ctx: NmiContext, pod: NodePod, q: NmiTokenQuery, endpoint: Endpoint): Promise<Token> {
  const found = identityFor(ctx, pod, q.selector, endpoint);
  if (!found.ok) throw refused(ctx, pod, found);
  await ctx.parts.assignments?.wait(pod, found.identity);
  return ctx.parts.tokens.token(found.identity, q.resource);
}

/**
 * A pod of this node by name, waiting briefly for the informer. Not found is transient (503, Retry-After): the
 * informer may lag a pod that was just scheduled; a token that names another node is permanent (403).
 */
export async function podNamed(ctx: NmiContext, namespace: string, name: string, tokenNode?: string): Promise<NodePod> {
  const { settings } = ctx;
  // A token naming another node is refused before any wait: that pod will never appear here.
  if (tokenNode && settings.nodeName && tokenNode !== settings.nodeName) {
    throw new HttpError(
      403,
      'pod_not_on_node',
      `pod ${namespace}/${name} runs on node ${tokenNode}, not on this node (${settings.nodeName}): ask that node's NMI`,
    );
  }
  const pod = await ctx.parts.pods.waitByName(namespace, name, settings.podWaitMs);
  if (pod) return pod;
  throw new HttpError(503, 'pod_not_yet_known', `pod ${namespace}/${name} is not yet known to this node's NMI (waited ${settings.podWaitMs} ms); retry`, {
    retryAfterSeconds: 1,
  });
}

/** The pod a verified token was issued for: on this node, with the same UID (a recreated namesake is not it). */
export async function podOf(ctx: NmiContext, caller: Caller): Promise<NodePod> {
  // A pod this node saw deleted: its token stays valid for TokenReview a moment longer (and in the review cache), but
  // the pod will never come back: refused at once, not waited for.
  if (ctx.parts.pods.wasForgotten(caller.podUID))
    throw new HttpError(
      401,
      'unauthorized',
      `pod ${caller.namespace}/${caller.podName} (uid ${caller.podUID}) was deleted from this node: its token is no longer accepted`,
    );
  const pod = await podNamed(ctx, caller.namespace, caller.podName, caller.nodeName);
  if (pod.uid && pod.uid !== caller.podUID)
    throw new HttpError(403, 'pod_not_on_node', `the token was issued for another pod named ${caller.namespace}/${caller.podName} (uid ${caller.podUID})`);
  return pod;
}

/** The sidecar contract: the caller is the pod its projected token was issued for (TokenReview). */
export async function sidecarToken(ctx: NmiContext, req: IncomingMessage, _res: ServerResponse, url: URL): Promise<Reply> {
  const pod = await podOf(ctx, await ctx.parts.reviewer.review(must(bearerToken(req.headers))));
  return ok(sidecarTokenBody(await tokenFor(ctx, pod, must(sidecarTokenQuery(url)), 'sidecar')));
}

/** The Secrets Store CSI driver on the host: the pod's token when it sends one (host-auth.ts), else the pod it names. */
export async function hostToken(ctx: NmiContext, req: IncomingMessage, _res: ServerResponse, url: URL): Promise<Reply> {
  const { settings, parts } = ctx;
  const from = normalizeIP(req.socket.remoteAddress ?? '');
  if (!loopback(from) && !settings.nodeIPs.includes(from)) throw new HttpError(403, 'forbidden', '/host/token is for callers on this host only (loopback)');
  const r = must(parseHostTokenRequest(url, req.headers));
  const mode = settings.hostTokenAuth ?? 'optional';
  const token = mode === 'off' ? undefined : presentedToken(req.headers);
  const caller = token ? await (parts.hostReviewer ?? parts.reviewer).review(token) : undefined;
  const who = must(hostTokenPod(mode, r.named, caller));
  if (!who.authenticated) parts.metrics.hostUnauthenticated.inc();
  const pod = caller ? await podOf(ctx, caller) : await podNamed(ctx, who.namespace, who.name);
  return ok(hostTokenBody(await tokenFor(ctx, pod, r.query, 'host'), now()));
}

/** Intercepted metadata traffic: the caller is the pod at the source address; exception pods pass through. */
export async function interceptedToken(ctx: NmiContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<Reply | undefined> {
  const { settings, parts } = ctx;
  const parsed = must(parseImdsRequest(url, req.headers));
  const from = normalizeIP(req.socket.remoteAddress ?? '');
  const pod = await parts.pods.waitByIP(from, settings.podWaitMs);
  if (!pod)
    throw new HttpError(503, 'pod_not_yet_known', `no pod of this node has IP ${from} (yet: waited ${settings.podWaitMs} ms); retry`, {
      retryAfterSeconds: 1,
    });
  const found = identityFor(ctx, pod, parsed.selector, 'intercept');
  if (!found.ok && found.exception) {
    passThrough(req, res, settings.imdsUrl);
    return undefined;
  }
  // After exceptions (they pass through as before), before any identity is served by address.
  if (provesWithToken(pod, settings.sidecarAudience, settings.interceptInjected))
    throw new HttpError(
      403,
      'sidecar_required',
      `pod ${pod.namespace}/${pod.name} has podid's token sidecar: its tokens are served through the sidecar (IDENTITY_ENDPOINT, MSI_ENDPOINT, ` +
        `AZURE_POD_IDENTITY_AUTHORITY_HOST in its environment), proven by its service-account token, not by its address (NMI --intercept-injected=serve allows it)`,
    );
  if (!found.ok) throw refused(ctx, pod, found);
  await parts.assignments?.wait(pod, found.identity);
  return ok(imdsBody(await parts.tokens.token(found.identity, parsed.resource), now()));
}

/** Who a request counts against: host callers all come from loopback, so the pod they name; others their address. */
const callerOf = (endpoint: Endpoint, req: IncomingMessage): string =>
  endpoint === 'host' ? `pod ${header(req.headers, 'podns') ?? ''}/${header(req.headers, 'podname') ?? ''}` : normalizeIP(req.socket.remoteAddress ?? '');

/** Runs a token handler, counting and logging its outcome; every failure answers `{error, error_description}`. */
export async function tokenEndpoint(
  ctx: NmiContext,
  endpoint: Endpoint,
  handle: TokenHandler,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<Reply | undefined> {
  const { metrics, log } = ctx.parts;
  try {
    const caller = ctx.limiter && callerOf(endpoint, req);
    const wait = caller ? ctx.limiter!.take(caller) : undefined;
    if (wait) throw throttled(`too many token requests from ${caller}; retry in ${wait} s`, wait);
    const reply = await handle(ctx, req, res, url);
    metrics.served.inc({ endpoint, result: reply ? 'ok' : 'passthrough' });
    return reply;
  } catch (err) {
    if (!(err instanceof HttpError)) log.error({ endpoint, err }, 'token request failed unexpectedly');
    const e = asHttpError(err, 'NMI');
    metrics.served.inc({ endpoint, result: e.code });
    log.warn({ endpoint, status: e.status, reason: e.message }, 'token request refused');
    log.debug({ endpoint, causes: causeChain(e) }, 'token request refusal causes');
    return errorReply(e);
  }
}

function health(ctx: NmiContext): Reply {
  const ready = ctx.parts.ready();
  return { status: ready ? 200 : 503, body: { status: ready ? 'ok' : 'waiting for informers' } };
}

async function metricsText(ctx: NmiContext): Promise<Reply> {
  const { metrics, pods, store } = ctx.parts;
  metrics.indexed.set({ kind: 'pods' }, pods.size);
  for (const [kind, n] of Object.entries(store.counts)) metrics.indexed.set({ kind }, n);
  return { status: 200, body: await metrics.registry.metrics(), contentType: 'text/plain; version=0.0.4' };
}

/** Other metadata paths go to the real IMDS unchanged, but never on behalf of a proxy. */
export function metadataPassThrough(ctx: NmiContext, req: IncomingMessage, res: ServerResponse, url: URL): Reply | undefined {
  const forwarded = forwardedRefusal(req.headers);
  if (forwarded) return errorReply(forwarded);
  if (ctx.settings.blockInstanceMetadata && url.pathname.toLowerCase().startsWith(`${METADATA_PREFIX}/instance`)) {
    return errorReply(new HttpError(403, 'forbidden', 'the instance metadata is blocked for pods on this node (--block-instance-metadata)'));
  }
  passThrough(req, res, ctx.settings.imdsUrl);
  return undefined;
}

const useGet = (): Reply => errorReply(new HttpError(405, 'invalid_request', 'use GET'));

/** The routes by path; each token endpoint goes through tokenEndpoint. IMDS paths compare case-insensitively. */
const ROUTES: Record<string, Route> = {
  [HEALTH_PATH]: health,
  '/metrics': metricsText,
  [SIDECAR_TOKEN_PATH]: (ctx, req, res, url) => tokenEndpoint(ctx, 'sidecar', sidecarToken, req, res, url),
  [HOST_TOKEN_PATH]: (ctx, req, res, url) => tokenEndpoint(ctx, 'host', hostToken, req, res, url),
  [IMDS_TOKEN_PATH]: (ctx, req, res, url) => tokenEndpoint(ctx, 'intercept', interceptedToken, req, res, url),
};

const NOT_FOUND = errorReply(
  new HttpError(404, 'not_found', `NMI serves ${SIDECAR_TOKEN_PATH}, ${HOST_TOKEN_PATH}, ${METADATA_PREFIX}/*, ${HEALTH_PATH} and /metrics`),
);

/** Which handler answers a request for `path` (trailing slashes removed). */
export function route(req: IncomingMessage, path: string): Route | undefined {
  const metadata = path === METADATA_PREFIX || path.startsWith(`${METADATA_PREFIX}/`);
  if (req.method !== 'GET' && !metadata) return useGet;
  if (metadata) return ROUTES[path.toLowerCase()] ?? metadataPassThrough;
  return ROUTES[path];
}

/** One request: URL limits, the route, its reply (none when a handler streamed the answer itself). */
export async function handleNmiRequest(ctx: NmiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const tooLong = urlTooLong(req.url, (ctx.settings.limits ?? defaultServerLimits).maxUrlLength);
  if (tooLong) return send(res, tooLong);
  const url = new URL(req.url ?? '/', 'http://nmi');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const handler = route(req, path);
  const reply = handler ? await handler(ctx, req, res, url) : NOT_FOUND;
  if (reply) send(res, reply);
}

export async function startNmi(settings: NmiSettings, parts: NmiParts): Promise<RunningNmi> {
  const ctx: NmiContext = {
    settings,
    parts,
    limiter: settings.callerRate ? new RateLimiter(settings.callerRate) : undefined,
    lookup: { forceNamespaced: settings.forceNamespaced, ambiguous: settings.ambiguousIdentity },
  };
  const limits = settings.limits ?? defaultServerLimits;
  const server = createServer(handleNmiRequest.bind(undefined, ctx));
  applyLimits(server, limits);
  const url = await listenOn(server, settings.listen.host, settings.listen.port);
  parts.log.info({ url }, 'podid NMI listening');
  return { url, server, close: () => closeServer(server) };
}

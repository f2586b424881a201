// The admission HTTP application: routes, body limits, error bodies, metrics and request logs.
// Transport (HTTPS, certificate reloads, shutdown) lives in server.ts.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { byteBudget, type ByteBudget } from '../common/byte-budget.ts';
import { HttpError } from '../common/http-error.ts';
import { jsonShapeProblem, type JsonShapeLimits } from '../common/json-shape.ts';
import { readBody, send, type Reply } from '../common/http-reply.ts';
import type { Logger } from '../common/log.ts';
import { BadReview, readAdmissionReview, review, type AdmissionRequest, type AdmissionResponse } from './admission.ts';
import type { InjectionConfig } from './injection-config.ts';
import type { WebhookMetrics } from './metrics.ts';
import { secretSource } from './secrets.ts';
import type { IdentityHints } from './identity-hints.ts';
import { mutate } from './mutate.ts';
import { mutateWorkloadIdentity } from './mutate-workload-identity.ts';
import type { ServiceAccountReader } from './service-accounts.ts';
import type { WorkloadIdentityConfig } from './workload-identity-inject.ts';
import { fixNetRaw } from './netraw-fix.ts';
import { validate } from './validate.ts';
import { kindResourceProblem } from '../podspec/workloads.ts';
import type { ValidationConfig } from './validation-config.ts';
import { AdmissionLog } from './admission-log.ts';

export interface AdmissionResult {
  response: AdmissionResponse;
  outcome: string;
  subject: string;
  /** What was found (e.g. NET_RAW violations), for the request log; never secrets. */
  details?: string[];
}

/** An admission endpoint: request → result; pure, or (workload identity) after a read of the cluster. */
export type AdmissionHandler = (req: AdmissionRequest) => AdmissionResult | Promise<AdmissionResult>;

/** What one admission request may cost, and all of them at once. */
export interface AdmissionLimits {
  /** Largest body (413 past it; the apiserver's own request limit is 3 MiB). */
  maxRequestBytes: number;
  /** Bodies held at once across requests (their declared sizes); past it requests wait in line. */
  maxInflightBytes: number;
  /** How long a request waits in that line before a 503 with Retry-After. */
  maxInflightWaitMs: number;
  /** The review's JSON: deepest nesting and most values, checked before it is parsed (400 past them). */
  json: JsonShapeLimits;
}

/** Defaults: the apiserver's 3 MiB request limit; bodies of ~4 in flight at that size (hundreds at a real review's
 * 3–10 KB); a wait well inside the apiserver's 5 s webhook timeout; JSON far deeper and larger than any pod's. */
export const DEFAULT_ADMISSION_LIMITS: AdmissionLimits = {
  maxRequestBytes: 3 * 1024 * 1024,
  maxInflightBytes: 12 * 1024 * 1024,
  maxInflightWaitMs: 2000,
  json: { maxDepth: 64, maxValues: 200_000 },
};

// A 503 with Retry-After is not a lost admission: the apiserver calls webhooks through client-go's rest.Request,
// which (rest/with_retry.go checkWait: 429 or any 5xx with Retry-After; the review is encoded bytes, so retryable)
// waits and sends it again, up to 10 times, inside the webhook's timeoutSeconds.

/** Requests that may wait for room at once (each costs a socket, not its body: that is not read while it waits). */
const MAX_WAITING = 1024;

export interface AppOptions {
  injection: InjectionConfig;
  validation: ValidationConfig;
  limits: AdmissionLimits;
  logger: Logger;
  /** The admission lines (default: one of its own on `logger`; the server passes its own to write the last count on close). */
  admissionLog?: AdmissionLog;
  metrics: WebhookMetrics;
  /** Extra admission endpoints by path, e.g. `/validate`. */
  endpoints?: Record<string, AdmissionHandler>;
  /** Readiness: false while the server starts or shuts down. */
  ready: () => boolean;
  newSecret?: () => string;
  /** Warnings about identities for labeled pods (when the webhook watches the podid CRDs). */
  identityHints?: IdentityHints;
  /** azure-workload-identity's contract at /mutate-workload-identity (when the webhook may read ServiceAccounts). */
  workloadIdentity?: { wi: WorkloadIdentityConfig; serviceAccounts: ServiceAccountReader };
}

// The admission server's own errors (a body it cannot read, a wrong path, overload) are `{error, message}`, as
// Kubernetes API errors name their text, for the apiserver's log and an operator's curl. The token endpoints'
// `{error, error_description}` (common/http-error.ts) is the OAuth 2.0 shape that Azure SDKs parse; no SDK reads
// this server, so it keeps the Kubernetes word.
const errorBody = (error: string, message: string) => ({ error, message });
const json = (status: number, body: unknown): Reply => ({ status, body });

/** A request's charset, when its Content-Type names one: AdmissionReviews are UTF-8 JSON. */
function charsetProblem(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '');
  const charset = m?.[1]?.toLowerCase();
  if (!charset || charset === 'utf-8' || charset === 'utf8') return undefined;
  return `charset ${JSON.stringify(charset.slice(0, 40))} is not accepted; send the AdmissionReview as UTF-8 JSON`;
}

/** The body as a JSON object or array (what body-parser's strict mode accepted), or undefined. */
function parseJson(text: string): object | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** What the webhook's handlers share: the options, the byte budget, the routes and the admission lines. */
export interface AppContext {
  opts: AppOptions;
  budget: ByteBudget;
  admissionLog: AdmissionLog;
  endpoints: ReadonlyMap<string, AdmissionHandler>;
  probes: ReadonlyMap<string, (ctx: AppContext) => Reply | Promise<Reply>>;
  /** The 404's hint: the admission endpoints this server serves. */
  served: string;
}

const okStatus = (): Reply => json(200, { status: 'ok' });
const readiness = (ctx: AppContext): Reply => (ctx.opts.ready() ? json(200, { status: 'ready' }) : json(503, { status: 'not ready' }));
async function metricsText(ctx: AppContext): Promise<Reply> {
  const { registry } = ctx.opts.metrics;
  return { status: 200, body: await registry.metrics(), contentType: registry.contentType };
}

const PROBES = new Map<string, (ctx: AppContext) => Reply | Promise<Reply>>([
  ['/healthz', okStatus],
  ['/livez', okStatus],
  ['/readyz', readiness],
  ['/metrics', metricsText],
]);

export function appContext(opts: AppOptions): AppContext {
  const newSecret = opts.newSecret ?? secretSource();
  const endpoints = new Map<string, AdmissionHandler>(
    Object.entries({
      '/mutate': (req: AdmissionRequest) => mutate(req, opts.injection, newSecret, opts.identityHints),
      '/validate': (req: AdmissionRequest) => validate(req, opts.validation),
      '/mutate-netraw': (req: AdmissionRequest) => fixNetRaw(req, opts.validation),
      ...(opts.workloadIdentity && {
        '/mutate-workload-identity': (req: AdmissionRequest) =>
          mutateWorkloadIdentity(req, { ...opts.workloadIdentity!, injection: opts.injection, newSecret }),
      }),
      ...opts.endpoints,
    }),
  );
  const { limits } = opts;
  return {
    opts,
    budget: byteBudget({ maxBytes: limits.maxInflightBytes, maxWaitMs: limits.maxInflightWaitMs, maxWaiting: MAX_WAITING }),
    admissionLog: opts.admissionLog ?? new AdmissionLog(opts.logger),
    endpoints,
    probes: PROBES,
    served: `podid serves POST ${[...endpoints.keys()].join(', POST ')}`,
  };
}

/** A malformed request: counted, logged with the reason (never the body), answered as given. */
function badRequest(ctx: AppContext, endpoint: string, reply: Reply, reason: string): Reply {
  ctx.opts.metrics.admissions.inc({ endpoint, result: 'bad-request' });
  ctx.opts.logger.warn({ endpoint, reason }, 'rejected a malformed AdmissionReview');
  return reply;
}

const refused = (ctx: AppContext, endpoint: string, status: number, code: string, message: string): Reply =>
  badRequest(ctx, endpoint, json(status, errorBody(code, message)), message);

/** POST to an admission endpoint: the transport checks (encoding, charset, size, room in the budget), then evaluate. */
export async function admit(ctx: AppContext, endpoint: string, handle: AdmissionHandler, req: IncomingMessage): Promise<Reply> {
  const { limits, metrics, logger } = ctx.opts;
  // The apiserver sends AdmissionReviews uncompressed; anything else is refused before the body is read.
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity') {
    req.resume();
    return refused(
      ctx,
      endpoint,
      415,
      'unsupported_encoding',
      `Content-Encoding ${JSON.stringify(encoding.slice(0, 40))} is not accepted; send the AdmissionReview uncompressed`,
    );
  }
  const charset = charsetProblem(req.headers['content-type']);
  if (charset) {
    req.resume();
    return refused(ctx, endpoint, 415, 'unsupported_encoding', charset);
  }
  // A body declared too large is refused before it is read; one that is not declared reserves the largest size.
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > limits.maxRequestBytes) {
    req.resume();
    return refused(ctx, endpoint, 413, 'request_too_large', `the request body is larger than ${limits.maxRequestBytes} bytes`);
  }
  const release = await ctx.budget.reserve(Number.isFinite(declared) ? declared : limits.maxRequestBytes);
  if (!release) {
    req.resume();
    metrics.admissions.inc({ endpoint, result: 'overloaded' });
    logger.warn({ endpoint, inflightBytes: ctx.budget.inUse, waiting: ctx.budget.waiting }, 'admission request refused: too many bytes in flight');
    return {
      ...json(503, errorBody('overloaded', 'podid is holding as many admission request bytes as it may; retry shortly')),
      headers: { 'retry-after': '1' },
    };
  }
  try {
    return await evaluate(ctx, endpoint, handle, req);
  } finally {
    release();
  }
}

/** The body read and checked (JSON shape, envelope, kind and resource), handed to the endpoint, counted and logged. */
export async function evaluate(ctx: AppContext, endpoint: string, handle: AdmissionHandler, req: IncomingMessage): Promise<Reply> {
  const { limits, metrics, logger } = ctx.opts;
  const text = await readBody(req, limits.maxRequestBytes);
  if (text instanceof HttpError) return refused(ctx, endpoint, text.status, text.code, text.message);
  const end = metrics.latency.startTimer({ endpoint });
  const request = readReview(text, limits.json);
  if (typeof request === 'string') {
    end();
    return refused(ctx, endpoint, 400, 'bad_request', request);
  }
  let result: AdmissionResult;
  try {
    const handled = handle(request);
    result = handled instanceof Promise ? await handled : handled;
  } catch (err) {
    // A bug must not take the server down or leave the apiserver guessing.
    logger.error({ endpoint, uid: request.uid, err: (err as Error).message }, 'admission handler failed');
    result = {
      response: {
        uid: request.uid,
        allowed: false,
        status: { code: 500, message: 'podid failed to evaluate this request; see the podid webhook logs' },
      },
      outcome: 'error',
      subject: `${request.namespace}/${request.name ?? ''}`,
    };
  }
  const seconds = end();
  metrics.admissions.inc({ endpoint, result: result.outcome });
  ctx.admissionLog.record({
    endpoint,
    uid: request.uid,
    kind: request.kind.kind,
    operation: request.operation,
    subject: result.subject,
    dryRun: request.dryRun,
    result: result.outcome,
    allowed: result.response.allowed,
    warnings: result.response.warnings?.length ?? 0,
    details: result.details,
    ms: Math.round(seconds * 1e6) / 1e3,
  });
  return json(200, review(result.response));
}

/** The body as an admission request, or why it is not one (a 400's message). Pure. */
export function readReview(text: string, shape: JsonShapeLimits): AdmissionRequest | string {
  const tooLarge = jsonShapeProblem(text, shape);
  if (tooLarge) return `${tooLarge}; an AdmissionReview of a pod or workload holds far less`;
  const body = parseJson(text);
  if (body === undefined) return 'the request body is not valid JSON (an AdmissionReview object is expected)';
  let request: AdmissionRequest;
  try {
    request = readAdmissionReview(body);
  } catch (err) {
    if (!(err instanceof BadReview)) throw err;
    return err.message;
  }
  return kindResourceProblem(request) ?? request;
}

/** Which handler answers: an admission endpoint (POST), a probe or metrics (GET/HEAD), or a 404 naming the routes. */
export function route(ctx: AppContext, req: IncomingMessage): Reply | Promise<Reply> {
  const path = (req.url ?? '/').split('?', 1)[0]!;
  const handle = ctx.endpoints.get(path);
  if (handle && req.method === 'POST') return admit(ctx, path.slice(1), handle, req);
  const probe = ctx.probes.get(path);
  if (probe && (req.method === 'GET' || req.method === 'HEAD')) return probe(ctx);
  req.resume();
  return json(404, errorBody('not_found', `no route for ${req.method} ${path}; ${ctx.served}`));
}

/** Writes a reply unless one was written already. */
function answer(res: ServerResponse, reply: Reply): void {
  if (!res.headersSent) send(res, reply);
}

/** A request that failed outside the handlers' own error handling: logged, answered 500. */
function failed(ctx: AppContext, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  ctx.opts.logger.error({ path: req.url, reason: (err as Error).message }, 'request failed');
  answer(res, json(500, errorBody('internal_error', 'podid failed to handle the request')));
}

/** One request through the route table to its reply. */
export function handleRequest(ctx: AppContext, req: IncomingMessage, res: ServerResponse): void {
  try {
    const reply = route(ctx, req);
    if (reply instanceof Promise)
      reply.then(
        (r) => answer(res, r),
        (err: unknown) => failed(ctx, req, res, err),
      );
    else answer(res, reply);
  } catch (err) {
    failed(ctx, req, res, err);
  }
}

/**
 * The webhook's request handler, on node:http directly: one route lookup, one body read, one JSON parse and one
 * write per admission. express cost ~a quarter of the CPU at load for routing and middleware podid does not need.
 */
export function createWebhookApp(opts: AppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return handleRequest.bind(undefined, appContext(opts));
}

// The admission HTTP application: routes, body limits, error bodies, metrics and request logs.
// Transport (HTTPS, certificate reloads, shutdown) lives in server.ts.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { byteBudget } from '../common/byte-budget.ts';
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

/** An admission endpoint: pure request → result. */
export type AdmissionHandler = (req: AdmissionRequest) => AdmissionResult;

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

/**
 * The webhook's request handler, on node:http directly: one route lookup, one body read, one JSON parse and one
 * write per admission. express cost ~a quarter of the CPU at load for routing and middleware podid does not need.
 */
export function createWebhookApp(opts: AppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { logger, metrics, limits } = opts;
  const admissionLog = opts.admissionLog ?? new AdmissionLog(logger);
  const budget = byteBudget({ maxBytes: limits.maxInflightBytes, maxWaitMs: limits.maxInflightWaitMs, maxWaiting: MAX_WAITING });
  const newSecret = opts.newSecret ?? secretSource();
  const endpoints = new Map<string, AdmissionHandler>(
    Object.entries({
      '/mutate': (req: AdmissionRequest) => mutate(req, opts.injection, newSecret, opts.identityHints),
      '/validate': (req: AdmissionRequest) => validate(req, opts.validation),
      '/mutate-netraw': (req: AdmissionRequest) => fixNetRaw(req, opts.validation),
      ...opts.endpoints,
    }),
  );
  const served = `podid serves POST ${[...endpoints.keys()].join(', POST ')}`;
  const status = (ready: boolean) => json(ready ? 200 : 503, { status: ready ? 'ready' : 'not ready' });
  const probes = new Map<string, () => Reply | Promise<Reply>>([
    ['/healthz', () => json(200, { status: 'ok' })],
    ['/livez', () => json(200, { status: 'ok' })],
    ['/readyz', () => status(opts.ready())],
    ['/metrics', async () => ({ status: 200, body: await metrics.registry.metrics(), contentType: metrics.registry.contentType })],
  ]);

  async function admit(endpoint: string, handle: AdmissionHandler, req: IncomingMessage): Promise<Reply> {
    const badRequest = (reply: Reply, reason: string) => {
      metrics.admissions.inc({ endpoint, result: 'bad-request' });
      logger.warn({ endpoint, reason }, 'rejected a malformed AdmissionReview');
      return reply;
    };
    // The apiserver sends AdmissionReviews uncompressed; anything else is refused before the body is read.
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity') {
      req.resume();
      const message = `Content-Encoding ${JSON.stringify(encoding.slice(0, 40))} is not accepted; send the AdmissionReview uncompressed`;
      return badRequest(json(415, errorBody('unsupported_encoding', message)), message);
    }
    const charset = charsetProblem(req.headers['content-type']);
    if (charset) {
      req.resume();
      return badRequest(json(415, errorBody('unsupported_encoding', charset)), charset);
    }
    // A body declared too large is refused before it is read; one that is not declared reserves the largest size.
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    if (declared > limits.maxRequestBytes) {
      req.resume();
      const message = `the request body is larger than ${limits.maxRequestBytes} bytes`;
      return badRequest(json(413, errorBody('request_too_large', message)), message);
    }
    const release = await budget.reserve(Number.isFinite(declared) ? declared : limits.maxRequestBytes);
    if (!release) {
      req.resume();
      metrics.admissions.inc({ endpoint, result: 'overloaded' });
      logger.warn({ endpoint, inflightBytes: budget.inUse, waiting: budget.waiting }, 'admission request refused: too many bytes in flight');
      return {
        ...json(503, errorBody('overloaded', 'podid is holding as many admission request bytes as it may; retry shortly')),
        headers: { 'retry-after': '1' },
      };
    }
    try {
      return await evaluate(endpoint, handle, req, badRequest);
    } finally {
      release();
    }
  }

  async function evaluate(
    endpoint: string,
    handle: AdmissionHandler,
    req: IncomingMessage,
    badRequest: (reply: Reply, reason: string) => Reply,
  ): Promise<Reply> {
    const text = await readBody(req, limits.maxRequestBytes);
    if (text instanceof HttpError) return badRequest(json(text.status, errorBody(text.code, text.message)), text.message);
    const end = metrics.latency.startTimer({ endpoint });
    const tooLarge = jsonShapeProblem(text, limits.json);
    if (tooLarge) {
      end();
      const message = `${tooLarge}; an AdmissionReview of a pod or workload holds far less`;
      return badRequest(json(400, errorBody('bad_request', message)), message);
    }
    const body = parseJson(text);
    if (body === undefined) {
      end();
      const message = 'the request body is not valid JSON (an AdmissionReview object is expected)';
      return badRequest(json(400, errorBody('bad_request', message)), message);
    }
    let request: AdmissionRequest;
    try {
      request = readAdmissionReview(body);
    } catch (err) {
      if (!(err instanceof BadReview)) throw err;
      end();
      return badRequest(json(400, errorBody('bad_request', err.message)), err.message);
    }
    const unclassified = kindResourceProblem(request);
    if (unclassified) {
      end();
      return badRequest(json(400, errorBody('bad_request', unclassified)), unclassified);
    }
    let result: AdmissionResult;
    try {
      result = handle(request);
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
    admissionLog.record({
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

  function route(req: IncomingMessage): Reply | Promise<Reply> {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const handle = endpoints.get(path);
    if (handle && req.method === 'POST') return admit(path.slice(1), handle, req);
    const probe = probes.get(path);
    if (probe && (req.method === 'GET' || req.method === 'HEAD')) return probe();
    req.resume();
    return json(404, errorBody('not_found', `no route for ${req.method} ${path}; ${served}`));
  }

  return (req, res) => {
    const answer = (reply: Reply) => {
      if (!res.headersSent) send(res, reply);
    };
    const failed = (err: unknown) => {
      logger.error({ path: req.url, reason: (err as Error).message }, 'request failed');
      answer(json(500, errorBody('internal_error', 'podid failed to handle the request')));
    };
    try {
      const reply = route(req);
      if (reply instanceof Promise) reply.then(answer, failed);
      else answer(reply);
    } catch (err) {
      failed(err);
    }
  };
}

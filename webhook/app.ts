// The admission HTTP application: routes, body limits, error bodies, metrics and request logs.
// Transport (HTTPS, certificate reloads, shutdown) lives in server.ts.

import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../common/log.ts';
import { BadReview, readAdmissionReview, review, type AdmissionRequest, type AdmissionResponse } from './admission.ts';
import type { InjectionConfig } from './injection-config.ts';
import type { WebhookMetrics } from './metrics.ts';
import { secretSource } from './secrets.ts';
import type { IdentityHints } from './identity-hints.ts';
import { mutate } from './mutate.ts';
import { fixNetRaw } from './netraw-fix.ts';
import { validate } from './validate.ts';
import type { ValidationConfig } from './validation-config.ts';

export interface AdmissionResult {
  response: AdmissionResponse;
  outcome: string;
  subject: string;
  /** What was found (e.g. NET_RAW violations), for the request log; never secrets. */
  details?: string[];
}

/** An admission endpoint: pure request → result. */
export type AdmissionHandler = (req: AdmissionRequest) => AdmissionResult;

export interface AppOptions {
  injection: InjectionConfig;
  validation: ValidationConfig;
  maxRequestBytes: number;
  logger: Logger;
  metrics: WebhookMetrics;
  /** Extra admission endpoints by path, e.g. `/validate`. */
  endpoints?: Record<string, AdmissionHandler>;
  /** Readiness: false while the server starts or shuts down. */
  ready: () => boolean;
  newSecret?: () => string;
  /** Warnings about identities for labeled pods (when the webhook watches the podid CRDs). */
  identityHints?: IdentityHints;
}

const errorBody = (error: string, message: string) => ({ error, message });

/** body-parser's error types mapped to a status and a message safe to return (no body content). */
function requestError(err: unknown): { status: number; error: string; message: string } {
  const type = (err as { type?: string }).type;
  switch (type) {
    case 'entity.parse.failed':
      return { status: 400, error: 'bad_request', message: 'the request body is not valid JSON' };
    case 'entity.too.large':
      return {
        status: 413,
        error: 'payload_too_large',
        message: `the request body is larger than the limit (${(err as { limit?: number }).limit} bytes)`,
      };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, error: 'unsupported_encoding', message: (err as Error).message };
    case 'request.aborted':
      return { status: 400, error: 'aborted', message: 'the client aborted the request' };
    default:
      return { status: 500, error: 'internal_error', message: 'podid failed to handle the request' };
  }
}

export function createWebhookApp(opts: AppOptions): express.Express {
  const { logger, metrics } = opts;
  const newSecret = opts.newSecret ?? secretSource();
  const endpoints: Record<string, AdmissionHandler> = {
    '/mutate': (req) => mutate(req, opts.injection, newSecret, opts.identityHints),
    '/validate': (req) => validate(req, opts.validation),
    '/mutate-netraw': (req) => fixNetRaw(req, opts.validation),
    ...opts.endpoints,
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const json = express.json({ limit: opts.maxRequestBytes, type: () => true, strict: true });
  // The apiserver sends AdmissionReviews uncompressed; anything else is refused before the body is read.
  const identityEncoding = (req: Request, res: Response, next: NextFunction) => {
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding === 'identity') return next();
    metrics.admissions.inc({ endpoint: req.path.slice(1), result: 'bad-request' });
    res
      .status(415)
      .json(
        errorBody('unsupported_encoding', `Content-Encoding ${JSON.stringify(encoding.slice(0, 40))} is not accepted; send the AdmissionReview uncompressed`),
      );
  };

  for (const [path, handle] of Object.entries(endpoints)) {
    const endpoint = path.slice(1);
    app.post(path, identityEncoding, json, (req: Request, res: Response) => {
      const end = metrics.latency.startTimer({ endpoint });
      let request: AdmissionRequest;
      try {
        request = readAdmissionReview(req.body);
      } catch (err) {
        if (!(err instanceof BadReview)) throw err;
        metrics.admissions.inc({ endpoint, result: 'bad-request' });
        logger.warn({ endpoint, reason: err.message }, 'rejected a malformed AdmissionReview');
        res.status(400).json(errorBody('bad_request', err.message));
        end();
        return;
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
      res.json(review(result.response));
      const seconds = end();
      metrics.admissions.inc({ endpoint, result: result.outcome });
      (result.details?.length ? logger.warn : logger.info).call(
        logger,
        {
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
        },
        'admission',
      );
    });
  }

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/livez', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const ready = opts.ready();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready' });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.use((req: Request, res: Response) => {
    res.status(404).json(errorBody('not_found', `no route for ${req.method} ${req.path}; podid serves POST ${Object.keys(endpoints).join(', POST ')}`));
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = requestError(err);
    if (req.path in endpoints) metrics.admissions.inc({ endpoint: req.path.slice(1), result: 'bad-request' });
    (e.status >= 500 ? logger.error : logger.warn).call(logger, { path: req.path, status: e.status, reason: e.message }, 'request failed');
    if (!res.headersSent) res.status(e.status).json(errorBody(e.error, e.message));
  });
  return app;
}

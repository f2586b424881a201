// `podid webhook`: the HTTPS admission server, its certificate reloads and graceful shutdown.

import { createServer, type Server } from 'node:https';
import type { ListenAddress } from '../common/listen.ts';
import type { Logger } from '../common/log.ts';
import { closeServer, listenOn } from '../common/serve.ts';
import { AdmissionLog } from './admission-log.ts';
import { createWebhookApp, type AdmissionHandler, type AdmissionLimits, type AppOptions } from './app.ts';
import type { IdentityHints } from './identity-hints.ts';
import type { InjectionConfig } from './injection-config.ts';
import type { ValidationConfig } from './validation-config.ts';
import { X509Certificate } from 'node:crypto';
import { startMetricsServer } from '../common/metrics-server.ts';
import { createWebhookMetrics, type WebhookMetrics } from './metrics.ts';
import { loadTls, watchTls, type TlsFiles, type TlsWatcher } from './tls-files.ts';

export interface WebhookSettings {
  listen: ListenAddress;
  tls: TlsFiles;
  tlsReloadMs: number;
  limits: AdmissionLimits;
  injection: InjectionConfig;
  validation: ValidationConfig;
  endpoints?: Record<string, AdmissionHandler>;
  identityHints?: IdentityHints;
  workloadIdentity?: AppOptions['workloadIdentity'];
  /** Plain-HTTP address serving /metrics apart from the admission port (Prometheus needs no TLS setup). */
  metricsListen?: ListenAddress;
}

export interface RunningWebhook {
  server: Server;
  url: string;
  /** The plain-HTTP metrics URL, when metricsListen is set. */
  metricsUrl?: string;
  metrics: WebhookMetrics;
  tls: TlsWatcher;
  /**
   * Reports not-ready, keeps serving for `drainMs` (while the Service drops this endpoint),
   * then stops accepting, finishes in-flight requests and closes.
   */
  close(drainMs?: number): Promise<void>;
}

export async function startWebhook(settings: WebhookSettings, logger: Logger): Promise<RunningWebhook> {
  const initial = await loadTls(settings.tls);
  const metrics = createWebhookMetrics();
  let accepting = false;
  const admissionLog = new AdmissionLog(logger);
  const app = createWebhookApp({
    injection: settings.injection,
    validation: settings.validation,
    limits: settings.limits,
    logger,
    admissionLog,
    metrics,
    endpoints: settings.endpoints,
    identityHints: settings.identityHints,
    workloadIdentity: settings.workloadIdentity,
    ready: () => accepting,
  });
  const server = createServer({ ...initial.options, minVersion: 'TLSv1.2' }, app);
  const expiry = (options: { cert?: unknown }) => metrics.certExpiry.set(new Date(new X509Certificate(String(options.cert)).validTo).getTime() / 1000);
  expiry(initial.options);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  server.on('tlsClientError', (err) => logger.debug({ reason: err.message }, 'TLS handshake failed'));

  const tls = watchTls(
    settings.tls,
    initial,
    settings.tlsReloadMs,
    (next) => {
      server.setSecureContext({ ...next.options, minVersion: 'TLSv1.2' });
      metrics.tlsReloads.inc({ result: 'loaded' });
      expiry(next.options);
      logger.info({ certFile: settings.tls.certFile }, 'serving certificate reloaded');
    },
    (err) => {
      metrics.tlsReloads.inc({ result: 'rejected' });
      logger.warn({ reason: err.message }, 'serving certificate not reloaded; keeping the current one');
    },
  );

  const url = await listenOn(server, settings.listen.host, settings.listen.port, 'https');
  // Prometheus without TLS: the same registry on a plain-HTTP port of its own.
  const metricsServer = settings.metricsListen && (await startMetricsServer(settings.metricsListen, metrics.registry, () => accepting));
  accepting = true;
  logger.info({ url }, 'podid webhook listening');

  let closing: Promise<void> | undefined;
  const close = (drainMs = 0) =>
    (closing ??= (async () => {
      accepting = false;
      if (drainMs > 0) await new Promise((r) => setTimeout(r, drainMs));
      tls.stop();
      if (metricsServer) await closeServer(metricsServer.server);
      await closeServer(server);
      admissionLog.close();
    })());
  return { server, url, metricsUrl: metricsServer?.url, metrics, tls, close };
}

// Prometheus metrics of the admission server, on a registry of its own (one per server instance).

import { Counter, Gauge, Histogram, Registry } from '../common/prometheus.ts';
import { serverRegistry } from '../common/metrics.ts';

export interface WebhookMetrics {
  registry: Registry;
  admissions: Counter<'endpoint' | 'result'>;
  latency: Histogram<'endpoint'>;
  tlsReloads: Counter<'result'>;
  certExpiry: Gauge;
}

export function createWebhookMetrics(): WebhookMetrics {
  const registry = serverRegistry('webhook');
  return {
    registry,
    admissions: new Counter({
      name: 'podid_admission_requests_total',
      help: 'Admission requests by endpoint and result (injected, unchanged, opted-out, ignored, invalid, bad-request, overloaded, ...).',
      labelNames: ['endpoint', 'result'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'podid_admission_duration_seconds',
      help: 'Time to answer an admission request, from body parsed to response written.',
      labelNames: ['endpoint'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers: [registry],
    }),
    tlsReloads: new Counter({
      name: 'podid_tls_reloads_total',
      help: 'Serving certificate reloads by result (loaded, rejected).',
      labelNames: ['result'],
      registers: [registry],
    }),
    certExpiry: new Gauge({
      name: 'podid_webhook_certificate_expiry_timestamp_seconds',
      help: 'When the serving certificate in use expires (Unix seconds); alert on time() > it - 7d.',
      registers: [registry],
    }),
  };
}

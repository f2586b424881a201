// Prometheus metrics of NMI, on a registry of its own.

import { Counter, Gauge, Histogram, Registry } from '../common/prometheus.ts';
import { serverRegistry } from '../common/metrics.ts';

export interface NmiMetrics {
  registry: Registry;
  served: Counter<'endpoint' | 'result'>;
  cache: Counter<'result'>;
  upstream: Histogram<'provider' | 'outcome'>;
  indexed: Gauge<'kind'>;
  hostUnauthenticated: Counter;
  tokenReviews: Counter<'result'>;
  interceptionRestores: Counter<'result'>;
  ambiguous: Counter<'endpoint'>;
}

export function createNmiMetrics(): NmiMetrics {
  const registry = serverRegistry('nmi');
  return {
    registry,
    served: new Counter({
      name: 'podid_nmi_token_requests_total',
      help: 'Token requests by endpoint (sidecar, host, intercept) and result (ok, or the error code returned).',
      labelNames: ['endpoint', 'result'],
      registers: [registry],
    }),
    cache: new Counter({
      name: 'podid_nmi_token_cache_total',
      help: 'Token lookups that caused no upstream call of their own (hit: cached, or joined one already in flight) or started one (miss); hit ratio = hit / (hit + miss).',
      labelNames: ['result'],
      registers: [registry],
    }),
    upstream: new Histogram({
      name: 'podid_nmi_upstream_duration_seconds',
      help: 'Latency of token calls to IMDS (imds) and Azure AD (msal), by outcome.',
      labelNames: ['provider', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    tokenReviews: new Counter({
      name: 'podid_nmi_tokenreviews_total',
      help: 'TokenReview calls to the Kubernetes API (cache misses) by result: authenticated, rejected (token not accepted), error (API unreachable or refusing).',
      labelNames: ['result'],
      registers: [registry],
    }),
    interceptionRestores: new Counter({
      name: 'podid_nmi_interception_restores_total',
      help: 'Checks that found the interception rules missing or changed, by result: restored, failed.',
      labelNames: ['result'],
      registers: [registry],
    }),
    ambiguous: new Counter({
      name: 'podid_nmi_ambiguous_identity_total',
      help: 'Token requests from pods holding several identities that named none and were served the first (--ambiguous-identity=first), by endpoint.',
      labelNames: ['endpoint'],
      registers: [registry],
    }),
    hostUnauthenticated: new Counter({
      name: 'podid_nmi_host_token_unauthenticated_total',
      help: "/host/token requests served on the podname/podns headers alone, without the pod's service-account token (--host-token-auth=optional or off).",
      registers: [registry],
    }),
    indexed: new Gauge({
      name: 'podid_nmi_indexed_objects',
      help: 'Objects in the informer indexes, by kind (pods of this node, identities, bindings, exceptions).',
      labelNames: ['kind'],
      registers: [registry],
    }),
  };
}

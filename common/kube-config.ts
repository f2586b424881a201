// The KubeConfig every podid process uses: from --kubeconfig, else in-cluster or ~/.kube/config, with one
// connection pool per cluster and credentials instead of one per request.
//
// @kubernetes/client-node 2.0.1 builds a new undici Agent for every API call (dist/config.js:
// applySecurityAuthentication → createDispatcher → `new UndiciAgent(...)`), so each call opens its own TCP and TLS
// connection and none is reused. Measured with bench:nmi against the real apiserver, that made a TokenReview
// cost ~5 ms of NMI CPU and left ~0.2 MiB per call for the GC. Here the dispatcher is built once per (cluster,
// CA, client certificate and key, TLS options) and reused; a rotated certificate gets a new one, and the
// previous one is closed once its requests finish.

import { createHash } from 'node:crypto';
import { ApiException, KubeConfig } from '@kubernetes/client-node';
import type { FailureOf } from './kube-retry.ts';
import { kubeSource } from './kube-source.ts';

type DispatcherFactory = (cluster: { name?: string; server?: string; proxyUrl?: string } | null, opts: Record<string, unknown>) => unknown;

/** At most this many dispatchers are kept: more than one only while a client certificate rotates. */
const KEPT = 4;

/** client-node's errors for withRetry (common/kube-retry.ts): an ApiException's status and Retry-After. */
export const clientNodeFailure: FailureOf = (err) =>
  err instanceof ApiException ? { status: err.code, retryAfter: Number((err.headers as Record<string, string> | undefined)?.['retry-after']) } : {};

export function kubeConfig(kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  const source = kubeSource(kubeconfigPath);
  if (source.kind === 'file') kc.loadFromFile(source.path);
  else kc.loadFromCluster();
  poolConnections(kc);
  return kc;
}

const material = (v: unknown): string => (v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('base64') : JSON.stringify(v));

/** Makes `kc` reuse one dispatcher per TLS identity. A client-node without createDispatcher is left as it is. */
export function poolConnections(kc: KubeConfig): void {
  const target = kc as unknown as { createDispatcher?: DispatcherFactory };
  const build = target.createDispatcher?.bind(kc);
  if (!build) return;
  const kept = new Map<string, unknown>();
  target.createDispatcher = (cluster, opts) => {
    const hash = createHash('sha256').update(JSON.stringify([cluster?.name, cluster?.server, cluster?.proxyUrl]));
    for (const k of ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername']) hash.update(`\0${k}=${material(opts[k])}`);
    const key = hash.digest('hex');
    if (kept.has(key)) return kept.get(key);
    const dispatcher = build(cluster, opts);
    kept.set(key, dispatcher);
    if (kept.size > KEPT) {
      const [oldest, old] = kept.entries().next().value!;
      kept.delete(oldest);
      void (old as { close?: () => Promise<void> } | undefined)?.close?.().catch(() => {});
    }
    return dispatcher;
  };
}

// The ServiceAccounts workload-identity admission reads: one GET per (namespace, name) through podid's own
// client, kept a few seconds so that a Deployment's replicas cost one read, and never kept when absent (a
// ServiceAccount created a moment before its pods must be found: azwi bypasses its cache on a miss too).
// Bounded: the oldest entries go first past `maxEntries`. Needs `get` on serviceaccounts (deploy/ grants it).

import { statusOf, type KubeClient } from '../common/kube-client.ts';
import type { ServiceAccountView } from './workload-identity-inject.ts';

/** The ServiceAccount, undefined when it does not exist; rejects when the apiserver cannot say. */
export type ServiceAccountReader = (namespace: string, name: string) => Promise<ServiceAccountView | undefined>;

export interface ReaderOptions {
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
}

export const DEFAULT_READER_OPTIONS: ReaderOptions = { ttlMs: 5000, maxEntries: 4096 };

interface Entry {
  at: number;
  value: Promise<ServiceAccountView | undefined>;
}

type Fetch = (namespace: string, name: string) => Promise<ServiceAccountView | undefined>;

/** GET /api/v1/namespaces/NS/serviceaccounts/NAME: its name and annotations, undefined on 404. */
export function fetchServiceAccount(kube: () => KubeClient, timeoutMs = 3000): Fetch {
  return async function getServiceAccount(namespace, name) {
    try {
      const sa = await kube().request<{ metadata?: { name?: string; annotations?: Record<string, string> } }>(
        'GET',
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(name)}`,
        { timeoutMs },
      );
      return { name: sa.metadata?.name ?? name, annotations: sa.metadata?.annotations ?? {} };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  };
}

/** `fetch` behind a short-lived cache: concurrent reads of one ServiceAccount share a request. */
export function cachedServiceAccounts(fetch: Fetch, opts: ReaderOptions = DEFAULT_READER_OPTIONS): ServiceAccountReader {
  const entries = new Map<string, Entry>();
  const now = opts.now ?? Date.now;
  return function readServiceAccount(namespace, name) {
    const key = `${namespace}/${name}`;
    const hit = entries.get(key);
    if (hit && now() - hit.at < opts.ttlMs) return hit.value;
    entries.delete(key);
    const value = fetch(namespace, name);
    entries.set(key, { at: now(), value });
    if (entries.size > opts.maxEntries) entries.delete(entries.keys().next().value!);
    // Neither a failure nor an absence is kept.
    value.then(
      (sa) => {
        if (!sa && entries.get(key)?.value === value) entries.delete(key);
      },
      () => {
        if (entries.get(key)?.value === value) entries.delete(key);
      },
    );
    return value;
  };
}

// Who is calling the sidecar endpoint: the pod a projected service-account token was issued for, as a
// TokenReview (authentication.k8s.io/v1) reports it. Pure parsing here; the API call is kubeReviewer in kube.ts.

import { createHash } from 'node:crypto';
import { unauthorized } from '../common/http-error.ts';

export interface Caller {
  namespace: string;
  podName: string;
  podUID: string;
  serviceAccount: string;
  /** The node the pod was bound to when the token was issued (Kubernetes ≥ 1.30 embeds it), if the token says. */
  nodeName?: string;
}

export interface Reviewer {
  /** The caller, or an HttpError (401 `unauthorized`) saying why the token is not accepted. */
  review(token: string): Promise<Caller>;
}

const SA_PREFIX = 'system:serviceaccount:';
const first = (v: unknown): string | undefined => (Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined);

/** TokenReview status → the caller; throws a 401 HttpError for anything but a pod-bound token for `audience`. */
export function callerFromReview(status: unknown, audience: string): Caller {
  const s = (status ?? {}) as {
    authenticated?: boolean;
    error?: string;
    audiences?: string[];
    user?: { username?: string; extra?: Record<string, unknown> };
  };
  if (!s.authenticated) throw unauthorized(`the service-account token was not accepted${s.error ? `: ${s.error}` : ''}`);
  if (!s.audiences?.includes(audience)) throw unauthorized(`the service-account token is not for audience "${audience}"`);
  const username = s.user?.username ?? '';
  if (!username.startsWith(SA_PREFIX)) throw unauthorized('the token does not belong to a service account');
  const [namespace, serviceAccount] = username.slice(SA_PREFIX.length).split(':');
  const podName = first(s.user?.extra?.['authentication.kubernetes.io/pod-name']);
  const podUID = first(s.user?.extra?.['authentication.kubernetes.io/pod-uid']);
  if (!namespace || !serviceAccount || !podName || !podUID) throw unauthorized('the token is not bound to a pod (use a projected service-account token)');
  const nodeName = first(s.user?.extra?.['authentication.kubernetes.io/node-name']);
  return { namespace, podName, podUID, serviceAccount, ...(nodeName ? { nodeName } : {}) };
}

/** Reviews cached briefly by token hash (never the token itself); failures are not cached. */
export interface CachedReviewer extends Reviewer {
  /** Drops the reviews of a pod's tokens: NMI calls it when the pod leaves its node (deleted, or replaced under its
   * name), so the deleted pod's token goes back to TokenReview, which refuses a token whose pod is gone. */
  forgetPod(uid: string): void;
}

export function cachedReviewer(inner: Reviewer, ttlMs = 30_000, maxEntries = 10_000, now = () => Date.now()): CachedReviewer {
  const cache = new Map<string, { caller: Caller; until: number }>();
  const byPod = new Map<string, Set<string>>();
  const drop = (key: string) => {
    const uid = cache.get(key)?.caller.podUID;
    cache.delete(key);
    const keys = uid === undefined ? undefined : byPod.get(uid);
    keys?.delete(key);
    if (keys && !keys.size) byPod.delete(uid!);
  };
  return {
    async review(token) {
      const key = createHash('sha256').update(token).digest('base64url');
      const hit = cache.get(key);
      if (hit && hit.until > now()) return hit.caller;
      const caller = await inner.review(token);
      drop(key);
      cache.set(key, { caller, until: now() + ttlMs });
      byPod.set(caller.podUID, (byPod.get(caller.podUID) ?? new Set()).add(key));
      for (const k of cache.keys()) {
        if (cache.size <= maxEntries) break;
        drop(k);
      }
      return caller;
    },
    forgetPod(uid) {
      for (const key of byPod.get(uid) ?? []) drop(key);
    },
  };
}

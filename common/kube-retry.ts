// A Kubernetes API call retried as kubectl retries: on 429 (APF throttling, or "storage is (re)initializing" just
// after a CRD appears) and 503, after the server's Retry-After (1 s when absent), a few times. Errors of both
// clients: podid's KubeError (daemons) and client-node's ApiException (CLI commands), told apart by shape so that
// the daemons never load client-node.

import { KubeError } from './kube-client.ts';

/** Status and Retry-After of a failed call from either client. */
function failure(err: unknown): { status?: number; retryAfter?: number } {
  if (err instanceof KubeError) return { status: err.status, retryAfter: err.retryAfterSeconds };
  // client-node's ApiException: a numeric HTTP `code` and the response `headers` (socket errors' codes are strings).
  const e = err as { code?: unknown; headers?: unknown } | undefined;
  if (typeof e?.code !== 'number' || !e.headers || typeof e.headers !== 'object') return {};
  return { status: e.code, retryAfter: Number((e.headers as Record<string, string>)['retry-after']) };
}

export async function withRetry<T>(call: () => Promise<T>, attempts = 5, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (err) {
      const { status, retryAfter } = failure(err);
      if (!(status === 429 || status === 503) || i >= attempts) throw err;
      await sleep((retryAfter !== undefined && Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 10) : 1) * 1000);
    }
  }
}

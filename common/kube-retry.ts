// A Kubernetes API call retried as kubectl retries: on 429 (APF throttling, or "storage is (re)initializing" just
// after a CRD appears) and 503, after the server's Retry-After (1 s when absent), a few times.

import { ApiException } from '@kubernetes/client-node';

export async function withRetry<T>(call: () => Promise<T>, attempts = 5, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (err) {
      const retryable = err instanceof ApiException && (err.code === 429 || err.code === 503);
      if (!retryable || i >= attempts) throw err;
      const after = Number((err as ApiException<unknown>).headers?.['retry-after']);
      await sleep((Number.isFinite(after) && after > 0 ? Math.min(after, 10) : 1) * 1000);
    }
  }
}

// A Kubernetes API call retried as kubectl retries: on 429 (APF throttling, or "storage is (re)initializing" just
// after a CRD appears) and 503, after the server's Retry-After (1 s when absent), a few times. Each client says
// how to read its errors: podid's KubeError by default; the CLI's client-node calls pass `clientNodeFailure`
// (common/kube-config.ts), so the daemons never load client-node.

import { KubeError } from './kube-client.ts';

/** The status and Retry-After seconds of a failed call, as far as they can be read. */
export type FailureOf = (err: unknown) => { status?: number; retryAfter?: number };

export const kubeFailure: FailureOf = (err) => (err instanceof KubeError ? { status: err.status, retryAfter: err.retryAfterSeconds } : {});

export interface RetryOptions {
  failure?: FailureOf;
  attempts?: number;
  sleep?: (ms: number) => Promise<unknown>;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function withRetry<T>(call: () => Promise<T>, { failure = kubeFailure, attempts = 5, sleep = pause }: RetryOptions = {}): Promise<T> {
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

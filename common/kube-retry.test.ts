import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubeError } from './kube-client.ts';
import { clientNodeFailure } from './kube-config.ts';
import { withRetry, type FailureOf } from './kube-retry.ts';

const apiError = (code: number, headers: Record<string, string> = {}) => new ApiException(code, 'x', '', headers);
const kubeError = (code: number, headers: Record<string, string> = {}) =>
  new KubeError(code, '', 'x', headers['retry-after'] === undefined ? undefined : Number(headers['retry-after']));

describe('withRetry', () => {
  it.each([
    ['client-node', apiError, clientNodeFailure],
    ['podid', kubeError, undefined],
  ])('retries 429 and 503 of the %s client after Retry-After, then succeeds', async (_client, error, failure?: FailureOf) => {
    const waits: number[] = [];
    const answers: Array<unknown> = [error(429, { 'retry-after': '2' }), error(503), 'ok'];
    const r = await withRetry(
      async () => {
        const a = answers.shift();
        if (a instanceof Error) throw a;
        return a;
      },
      { failure, sleep: async (ms) => void waits.push(ms) },
    );
    expect(r).toBe('ok');
    expect(waits).toEqual([2000, 1000]);
  });

  it.each([
    ['a 404', apiError(404), clientNodeFailure],
    ["podid's 404", kubeError(404), undefined],
    ['a socket error', new Error('ECONNREFUSED'), clientNodeFailure],
    ["client-node's 429 read as podid's (no sniffing)", apiError(429), undefined],
  ])('does not retry %s', async (_n, err, failure?: FailureOf) => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw err;
        },
        { failure, sleep: async () => {} },
      ),
    ).rejects.toBe(err);
    expect(calls).toBe(1);
  });

  it('gives up after the attempts', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw apiError(429);
        },
        { failure: clientNodeFailure, attempts: 3, sleep: async () => {} },
      ),
    ).rejects.toBeInstanceOf(ApiException);
    expect(calls).toBe(3);
  });
});

import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubeError } from './kube-client.ts';
import { withRetry } from './kube-retry.ts';

const apiError = (code: number, headers: Record<string, string> = {}) => new ApiException(code, 'x', '', headers);
const kubeError = (code: number, headers: Record<string, string> = {}) =>
  new KubeError(code, '', 'x', headers['retry-after'] === undefined ? undefined : Number(headers['retry-after']));

describe('withRetry', () => {
  it.each([
    ['client-node', apiError],
    ['podid', kubeError],
  ])('retries 429 and 503 of the %s client after Retry-After, then succeeds', async (_client, error) => {
    const waits: number[] = [];
    const answers: Array<unknown> = [error(429, { 'retry-after': '2' }), error(503), 'ok'];
    const r = await withRetry(
      async () => {
        const a = answers.shift();
        if (a instanceof Error) throw a;
        return a;
      },
      5,
      async (ms) => void waits.push(ms),
    );
    expect(r).toBe('ok');
    expect(waits).toEqual([2000, 1000]);
  });

  it.each([
    ['a 404', apiError(404)],
    ["podid's 404", kubeError(404)],
    ['a socket error', new Error('ECONNREFUSED')],
  ])('does not retry %s', async (_n, err) => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw err;
        },
        5,
        async () => {},
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
        3,
        async () => {},
      ),
    ).rejects.toBeInstanceOf(ApiException);
    expect(calls).toBe(3);
  });
});

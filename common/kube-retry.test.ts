import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { withRetry } from './kube-retry.ts';

const apiError = (code: number, headers: Record<string, string> = {}) => new ApiException(code, 'x', '', headers);

describe('withRetry', () => {
  it('retries 429 and 503 after Retry-After, then succeeds', async () => {
    const waits: number[] = [];
    const answers: Array<unknown> = [apiError(429, { 'retry-after': '2' }), apiError(503), 'ok'];
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

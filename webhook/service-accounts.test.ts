import { describe, expect, it } from 'vitest';
import { cachedServiceAccounts } from './service-accounts.ts';

function counting(answers: Record<string, 'found' | 'absent' | 'fail'>) {
  const calls: string[] = [];
  const fetch = async (ns: string, name: string) => {
    calls.push(`${ns}/${name}`);
    const a = answers[`${ns}/${name}`];
    if (a === 'fail') throw new Error('apiserver unavailable');
    return a === 'found' ? { name, annotations: {} } : undefined;
  };
  return { calls, fetch };
}

describe('ServiceAccount reads for workload identity', () => {
  it("one read serves a Deployment's replicas within the TTL, and another after it", async () => {
    let now = 0;
    const { calls, fetch } = counting({ 'a/x': 'found' });
    const read = cachedServiceAccounts(fetch, { ttlMs: 5000, maxEntries: 10, now: () => now });
    await Promise.all([read('a', 'x'), read('a', 'x'), read('a', 'x')]);
    expect(calls).toEqual(['a/x']);
    now = 5001;
    await read('a', 'x');
    expect(calls).toEqual(['a/x', 'a/x']);
  });

  it.each(['absent', 'fail'] as const)('a ServiceAccount that is %s is asked for again at once', async (answer) => {
    const { calls, fetch } = counting({ 'a/x': answer });
    const read = cachedServiceAccounts(fetch, { ttlMs: 5000, maxEntries: 10, now: () => 0 });
    await read('a', 'x').catch(() => undefined);
    await read('a', 'x').catch(() => undefined);
    expect(calls).toEqual(['a/x', 'a/x']);
  });

  it('holds at most maxEntries', async () => {
    const { calls, fetch } = counting({ 'a/1': 'found', 'a/2': 'found', 'a/3': 'found' });
    const read = cachedServiceAccounts(fetch, { ttlMs: 5000, maxEntries: 2, now: () => 0 });
    for (const n of ['1', '2', '3', '1']) await read('a', n);
    expect(calls).toEqual(['a/1', 'a/2', 'a/3', 'a/1']);
  });
});

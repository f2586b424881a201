import { describe, expect, it } from 'vitest';
import { throttled, unavailable } from '../common/http-error.ts';
import { TokenCache } from './token-cache.ts';
import type { Token } from './wire.ts';

function setup(maxEntries = 10) {
  const clock = { now: 1000 };
  const cache = new TokenCache({ refreshAheadSeconds: 300, maxEntries, now: () => clock.now, random: () => 0.5 });
  let calls = 0;
  const token = (lifetime = 3600): Token => ({ accessToken: `t${++calls}`, expiresOn: clock.now + lifetime, resource: 'r', clientId: 'c' });
  return { clock, cache, token, calls: () => calls };
}

describe('TokenCache', () => {
  it('serves from memory until refresh-ahead time, then refreshes once in the background', async () => {
    const { clock, cache, token, calls } = setup();
    expect((await cache.get('k', async () => token())).accessToken).toBe('t1');
    clock.now += 3000;
    expect((await cache.get('k', async () => token())).accessToken).toBe('t1');
    expect(calls()).toBe(1);
    clock.now += 350; // inside the 300 s (±20%) refresh window: still served, refreshed behind it
    expect((await cache.get('k', async () => token())).accessToken).toBe('t1');
    await new Promise((r) => setTimeout(r, 0));
    expect((await cache.get('k', async () => token())).accessToken).toBe('t2');
  });

  it('reports each lookup: a miss starts the upstream call, joining one in flight or a cached token is a hit', async () => {
    const seen: boolean[] = [];
    const cache = new TokenCache({ refreshAheadSeconds: 300, maxEntries: 10, onLookup: (hit) => seen.push(hit) });
    const fetch = async (): Promise<Token> => ({ accessToken: 'a', expiresOn: Date.now() / 1000 + 3600, resource: 'r', clientId: 'c' });
    await Promise.all([cache.get('k', fetch), cache.get('k', fetch)]);
    await cache.get('k', fetch);
    expect(seen).toEqual([false, true, true]);
  });

  it('coalesces concurrent misses into one upstream call', async () => {
    const { cache, token, calls } = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const fetch = async () => {
      await gate;
      return token();
    };
    const all = Promise.all(Array.from({ length: 100 }, () => cache.get('k', fetch)));
    release();
    expect(new Set((await all).map((t) => t.accessToken))).toEqual(new Set(['t1']));
    expect(calls()).toBe(1);
  });

  it('keeps serving a valid token while the upstream fails, and fails once it expires', async () => {
    const { clock, cache, token } = setup();
    await cache.get('k', async () => token(600));
    clock.now += 500;
    const failing = async (): Promise<Token> => {
      throw unavailable(503, 'NMI down');
    };
    expect((await cache.get('k', failing)).accessToken).toBe('t1');
    clock.now += 200;
    await expect(cache.get('k', failing)).rejects.toThrow('NMI down');
  });

  it('honours Retry-After after a 429', async () => {
    const { clock, cache, token, calls } = setup();
    await expect(cache.get('k', async () => Promise.reject(throttled('slow down', 30)))).rejects.toThrow('slow down');
    await expect(cache.get('k', async () => token())).rejects.toMatchObject({ status: 429, retryAfterSeconds: 30 });
    expect(calls()).toBe(0);
    clock.now += 31;
    expect((await cache.get('k', async () => token())).accessToken).toBe('t1');
  });

  it('is bounded, evicting the least recently used key', async () => {
    const { cache, token, calls } = setup(2);
    await cache.get('a', async () => token());
    await cache.get('b', async () => token());
    await cache.get('a', async () => token());
    await cache.get('c', async () => token());
    expect(cache.size).toBe(2);
    await cache.get('a', async () => token()); // still cached
    expect(calls()).toBe(3);
    await cache.get('b', async () => token()); // evicted, fetched again
    expect(calls()).toBe(4);
  });

  it("bounds each group: one group's many keys evict only its own", async () => {
    const clock = { now: 1000 };
    const cache = new TokenCache({ refreshAheadSeconds: 300, maxEntries: 100, maxPerGroup: 3, now: () => clock.now, random: () => 0.5 });
    let calls = 0;
    const fetch = async () => ({ accessToken: `t${++calls}`, expiresOn: clock.now + 3600, resource: 'r', clientId: 'c' });
    await cache.get('quiet|vault', fetch, 'quiet');
    for (let i = 0; i < 50; i++) await cache.get(`noisy|r${i}`, fetch, 'noisy');
    expect(cache.size).toBe(4);
    const before = calls;
    await cache.get('quiet|vault', fetch, 'quiet'); // still cached
    await cache.get('noisy|r49', fetch, 'noisy'); // the noisy group's newest survives
    expect(calls).toBe(before);
    await cache.get('noisy|r0', fetch, 'noisy'); // its oldest went
    expect(calls).toBe(before + 1);
  });
});

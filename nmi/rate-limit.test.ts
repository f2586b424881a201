import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.ts';

describe('RateLimiter', () => {
  const setup = (maxCallers?: number) => {
    const clock = { now: 1000 };
    return { clock, limiter: new RateLimiter({ ratePerSecond: 2, burst: 4, maxCallers, now: () => clock.now }) };
  };

  it('allows a burst, then asks the caller to wait, then refills at the rate', () => {
    const { clock, limiter } = setup();
    const first = Array.from({ length: 6 }, () => limiter.take('pod-a'));
    expect(first).toEqual([undefined, undefined, undefined, undefined, 1, 1]);
    clock.now += 1; // two requests' worth
    expect([limiter.take('pod-a'), limiter.take('pod-a'), limiter.take('pod-a')]).toEqual([undefined, undefined, 1]);
  });

  it('keeps callers apart: one caller spending its budget costs another nothing', () => {
    const { limiter } = setup();
    for (let i = 0; i < 10; i++) limiter.take('noisy');
    expect(limiter.take('quiet')).toBeUndefined();
  });

  it('forgets the least recently seen callers past the bound (they start with a full bucket)', () => {
    const { limiter } = setup(2);
    for (let i = 0; i < 5; i++) limiter.take('a');
    limiter.take('b');
    limiter.take('c');
    expect(limiter.take('a')).toBeUndefined();
  });
});

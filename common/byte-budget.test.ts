import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { byteBudget } from './byte-budget.ts';

describe('byteBudget', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('grants reservations that fit at once and counts them', async () => {
    const b = byteBudget({ maxBytes: 100, maxWaitMs: 1000, maxWaiting: 4 });
    const r1 = await b.reserve(60);
    const r2 = await b.reserve(40);
    expect(r1 && r2).toBeTypeOf('function');
    expect(b.inUse).toBe(100);
    r1!();
    r1!();
    expect(b.inUse).toBe(40);
  });

  it('queues past the budget in arrival order and admits as bytes come back', async () => {
    const b = byteBudget({ maxBytes: 100, maxWaitMs: 1000, maxWaiting: 4 });
    const first = (await b.reserve(90))!;
    const order: string[] = [];
    const big = b.reserve(50).then((r) => (order.push('big'), r));
    const small = b.reserve(5).then((r) => (order.push('small'), r));
    expect(b.waiting).toBe(2);
    // 5 bytes would fit now, but the line is first come, first served: a stream of small bodies cannot starve a large one.
    await Promise.resolve();
    expect(order).toEqual([]);
    first();
    expect(await big).toBeTypeOf('function');
    expect(await small).toBeTypeOf('function');
    expect(order).toEqual(['big', 'small']);
    expect(b.inUse).toBe(55);
  });

  it('refuses after maxWaitMs, and lets those behind the one that gave up through', async () => {
    const b = byteBudget({ maxBytes: 100, maxWaitMs: 500, maxWaiting: 4 });
    const held = (await b.reserve(60))!;
    const tooBig = b.reserve(80);
    const fits = b.reserve(30);
    vi.advanceTimersByTime(499);
    expect(b.waiting).toBe(2);
    vi.advanceTimersByTime(1);
    expect(await tooBig).toBeUndefined();
    expect(await fits).toBeTypeOf('function');
    expect(b.inUse).toBe(90);
    held();
  });

  it('refuses at once when the line is full', async () => {
    const b = byteBudget({ maxBytes: 10, maxWaitMs: 1000, maxWaiting: 1 });
    await b.reserve(10);
    void b.reserve(1);
    expect(await b.reserve(1)).toBeUndefined();
  });

  it('clamps a reservation larger than the whole budget to it, so it can still run alone', async () => {
    const b = byteBudget({ maxBytes: 10, maxWaitMs: 1000, maxWaiting: 1 });
    const r = await b.reserve(1_000_000);
    expect(r).toBeTypeOf('function');
    expect(b.inUse).toBe(10);
  });
});

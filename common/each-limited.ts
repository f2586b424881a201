// Work over a list with a bound on how much runs at once (API writes: enough in flight to be fast, few enough not
// to be throttled).

/** Runs `fn` over `items`, at most `limit` at once; `fn` gets each item's index too. */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (t: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) await fn(items[i]!, i);
    }),
  );
}

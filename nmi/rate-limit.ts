// Per-caller token buckets: each caller (a pod's address, or the pod a host caller names) may make `rate`
// requests a second on average and `burst` at once; past that it is told how long to wait. Pure: the clock
// is passed in. The number of callers tracked is bounded (the least recently seen are forgotten).

export interface RateLimitOptions {
  ratePerSecond: number;
  burst: number;
  maxCallers?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly opts: Required<RateLimitOptions>;

  constructor(opts: RateLimitOptions) {
    this.opts = { ...opts, maxCallers: opts.maxCallers ?? 100_000, now: opts.now ?? (() => Date.now() / 1000) };
  }

  /** Takes one request for `caller`: undefined when allowed, else the whole seconds to wait. */
  take(caller: string): number | undefined {
    const now = this.opts.now();
    const old = this.buckets.get(caller);
    const tokens = old ? Math.min(this.opts.burst, old.tokens + (now - old.at) * this.opts.ratePerSecond) : this.opts.burst;
    this.buckets.delete(caller);
    if (tokens < 1) {
      this.buckets.set(caller, { tokens, at: now });
      return Math.max(1, Math.ceil((1 - tokens) / this.opts.ratePerSecond));
    }
    this.buckets.set(caller, { tokens: tokens - 1, at: now });
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= this.opts.maxCallers) break;
      this.buckets.delete(key);
    }
    return undefined;
  }
}

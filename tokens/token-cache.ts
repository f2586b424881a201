// Tokens per (identity selector, resource): served from memory, refreshed ahead of expiry with jitter,
// one upstream call per key however many callers miss at once, stale-but-valid tokens kept while the
// upstream fails, 429 Retry-After honoured, and a bounded number of entries (least recently used go first),
// with an optional bound per group (one identity's tokens) so one caller's many resources evict only its own.

import { HttpError, throttled } from '../common/http-error.ts';
import type { Token } from './wire.ts';

export interface CacheOptions {
  /** Refresh when less than this many seconds of validity are left (±20% jitter per token). */
  refreshAheadSeconds: number;
  maxEntries: number;
  /** Entries one group may hold; past it the group's least recently used entry goes (default: no bound). */
  maxPerGroup?: number;
  /** Told of each lookup: hit when it caused no upstream call of its own (cached, or joined one in flight). */
  onLookup?: (hit: boolean) => void;
  now?: () => number;
  random?: () => number;
}

interface Entry {
  group: string;
  token?: Token;
  refreshAt: number;
  inflight?: Promise<Token>;
  /** No upstream call before this time (Retry-After). */
  blockedUntil: number;
}

export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  /** Each group's keys, least recently used first. */
  private readonly groups = new Map<string, Set<string>>();
  private readonly opts: Required<CacheOptions>;

  constructor(opts: CacheOptions) {
    this.opts = {
      ...opts,
      now: opts.now ?? (() => Date.now() / 1000),
      random: opts.random ?? Math.random,
      maxPerGroup: opts.maxPerGroup ?? Infinity,
      onLookup: opts.onLookup ?? (() => {}),
    };
  }

  get size(): number {
    return this.entries.size;
  }

  /** A token for `key` (of `group`), fetching with `fetch` only when needed. */
  async get(key: string, fetch: () => Promise<Token>, group = ''): Promise<Token> {
    const now = this.opts.now();
    let entry = this.entries.get(key);
    // Groups are kept only when bounded: the sidecar's cache (one pod, no per-group bound) skips the bookkeeping.
    const grouped = this.opts.maxPerGroup !== Infinity;
    if (entry) {
      // Re-insert: Map and Set order is the LRU order.
      this.entries.delete(key);
      this.entries.set(key, entry);
      const keys = grouped ? this.groups.get(entry.group) : undefined;
      keys?.delete(key);
      keys?.add(key);
    } else {
      entry = { group, refreshAt: 0, blockedUntil: 0 };
      this.entries.set(key, entry);
      const keys = grouped ? (this.groups.get(group) ?? new Set<string>()) : undefined;
      if (keys) this.groups.set(group, keys.add(key));
      this.evict(keys);
    }
    const valid = entry.token && entry.token.expiresOn > now + 5 ? entry.token : undefined;
    if ((valid && now < entry.refreshAt) || now < entry.blockedUntil) {
      this.opts.onLookup(true);
      if (valid) return valid;
      throw throttled('throttled upstream; retry later', Math.ceil(entry.blockedUntil - now));
    }
    this.opts.onLookup(entry.inflight !== undefined);
    const refresh = (entry.inflight ??= this.refresh(entry, fetch));
    if (valid) {
      refresh.catch(() => {}); // refreshed in the background; the caller keeps the valid token
      return valid;
    }
    return refresh;
  }

  private async refresh(entry: Entry, fetch: () => Promise<Token>): Promise<Token> {
    try {
      const token = await fetch();
      const now = this.opts.now();
      const lifetime = Math.max(0, token.expiresOn - now);
      const ahead = Math.min(this.opts.refreshAheadSeconds, lifetime / 2) * (0.8 + 0.4 * this.opts.random());
      entry.token = token;
      entry.refreshAt = token.expiresOn - ahead;
      return token;
    } catch (err) {
      if (err instanceof HttpError && err.status === 429) entry.blockedUntil = this.opts.now() + (err.retryAfterSeconds ?? 5);
      throw err;
    } finally {
      entry.inflight = undefined;
    }
  }

  /** The group's own least recently used entries past its bound, then the cache's past the total bound. */
  private evict(groupKeys: Set<string> | undefined): void {
    if (groupKeys) {
      for (const key of groupKeys) {
        if (groupKeys.size <= this.opts.maxPerGroup) break;
        this.remove(key);
      }
    }
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.opts.maxEntries) break;
      this.remove(key);
    }
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    const keys = this.groups.get(entry.group);
    keys?.delete(key);
    if (keys && !keys.size) this.groups.delete(entry.group);
  }
}

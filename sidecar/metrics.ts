// The sidecar's counters, in Prometheus' text format on its health port (`/metrics`): two counters written out by
// hand, without a registry or the process metrics (a pod's sidecar loads as little as it can: imports.test.ts).
// Token requests by flavour and result (ok, or the error code the app got), and cache hits and misses (a miss
// asked NMI).

export class SidecarMetrics {
  private readonly requests = new Map<string, number>();
  private readonly cache = { hit: 0, miss: 0 };

  request(flavour: string, result: string): void {
    const key = `flavour="${flavour}",result="${result.replace(/[^a-z0-9_]/gi, '_')}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  lookup(hit: boolean): void {
    this.cache[hit ? 'hit' : 'miss']++;
  }

  text(): string {
    const lines = [
      '# HELP podid_sidecar_token_requests_total Token requests by flavour (imds, appservice, msi) and result (ok, or the error code answered).',
      '# TYPE podid_sidecar_token_requests_total counter',
      ...[...this.requests].map(([labels, n]) => `podid_sidecar_token_requests_total{${labels}} ${n}`),
      '# HELP podid_sidecar_token_cache_total Token lookups answered from the cache (hit) or that asked NMI (miss).',
      '# TYPE podid_sidecar_token_cache_total counter',
      `podid_sidecar_token_cache_total{result="hit"} ${this.cache.hit}`,
      `podid_sidecar_token_cache_total{result="miss"} ${this.cache.miss}`,
    ];
    return `${lines.join('\n')}\n`;
  }
}

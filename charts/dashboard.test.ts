// The chart's Grafana dashboard queries only what podid exports: every metric each query names is registered by
// NMI, the webhook or the controller (histograms with their _bucket/_sum/_count series), and every label a query
// groups or filters by is one of that metric's labels.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createControllerMetrics } from '../controller/metrics.ts';
import { createNmiMetrics } from '../nmi/metrics.ts';
import { createWebhookMetrics } from '../webhook/metrics.ts';

const dashboard = JSON.parse(readFileSync(new URL('./podid/dashboards/podid.json', import.meta.url), 'utf8')) as {
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
};

/** Series name → labels, for every series the three servers export. */
async function exported(): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  for (const { registry } of [createNmiMetrics(), createWebhookMetrics(), createControllerMetrics()]) {
    for (const m of await registry.getMetricsAsJSON()) {
      const labels = new Set([
        'pod',
        'namespace',
        'instance',
        'job',
        ...((m as { values?: Array<{ labels: object }> }).values ?? []).flatMap((v) => Object.keys(v.labels)),
      ]);
      // Label names appear in values only once a series exists: take them from the metric's declaration too.
      for (const l of (registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] })?.labelNames ?? []) labels.add(l);
      const names = String(m.type) === 'histogram' ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name];
      for (const n of names) out.set(n, String(m.type) === 'histogram' ? new Set([...labels, 'le']) : labels);
    }
  }
  return out;
}

const queries = dashboard.panels.flatMap((p) => p.targets.map((t) => [p.title, t.expr] as const));

describe('the Grafana dashboard in charts/podid', () => {
  it('has queries', () => expect(queries.length).toBeGreaterThan(10));

  it.each(queries)('%s: %s names exported metrics and labels', async (_title, expr) => {
    const series = await exported();
    const names = [...expr.matchAll(/\b(?:podid|process|nodejs)_[a-z_]+/g)].map((m) => m[0]);
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect([...series.keys()], `${n} is not exported`).toContain(n);
    const labels = [...expr.matchAll(/by \(([^)]+)\)/g)].flatMap((m) => m[1]!.split(',').map((s) => s.trim()));
    const filters = [...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) => [...m[1]!.matchAll(/(\w+)\s*=/g)].map((x) => x[1]!));
    for (const l of [...labels, ...filters])
      expect(
        names.some((n) => series.get(n)!.has(l)),
        `label ${l} in ${expr}`,
      ).toBe(true);
  });
});

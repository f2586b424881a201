// Prometheus metrics in the text exposition format (version 0.0.4): counters, gauges and histograms with labels, and
// a registry that renders them. podid's servers used prom-client; loading it (with @opentelemetry/api, which it
// requires for exemplars, and its pushgateway and cluster code) cost 5.2 MiB of private memory in every webhook, NMI
// and controller process, a quarter of the webhook's idle footprint (measured on Node 24: issue 25). podid needs
// the part of it below; the names, types and series it exports are unchanged.

export type LabelValues<T extends string> = Partial<Record<T, string | number>>;

export interface MetricConfig<T extends string> {
  name: string;
  help: string;
  labelNames?: readonly T[];
  registers?: Registry[];
  /** Called before each rendering, to read a value kept elsewhere (process and Node.js metrics). */
  collect?: () => void;
}

export interface MetricJson {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  values: Array<{ labels: Record<string, string | number>; value: number; metricName?: string }>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const NEEDS_ESCAPE = /[\\"\n]/;
const escapeLabel = (v: string) => (NEEDS_ESCAPE.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v);
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const formatValue = (n: number) => (Number.isNaN(n) ? 'NaN' : n === Infinity ? '+Inf' : n === -Infinity ? '-Inf' : String(n));

abstract class Metric<T extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly T[];
  abstract readonly type: MetricJson['type'];
  private readonly collectHook?: () => void;
  /** Series by their rendered label set (`a="x",b="y"`, in labelNames order), with the labels as given. */
  protected readonly series = new Map<string, { labels: LabelValues<T> }>();

  constructor(cfg: MetricConfig<T>) {
    if (!NAME.test(cfg.name)) throw new Error(`invalid metric name ${JSON.stringify(cfg.name)}`);
    this.name = cfg.name;
    this.help = cfg.help;
    this.labelNames = cfg.labelNames ?? [];
    this.collectHook = cfg.collect;
    for (const r of cfg.registers ?? []) r.register(this);
  }

  /** The rendered label set of `labels`; a label not declared is a bug and throws. Runs on every count: one pass. */
  protected key(labels: LabelValues<T> = {}): string {
    let out = '';
    let used = 0;
    for (const l of this.labelNames) {
      const v = labels[l];
      if (v === undefined) continue;
      used++;
      out += `${out ? ',' : ''}${l}="${escapeLabel(String(v))}"`;
    }
    let given = 0;
    for (const l in labels) if (labels[l as T] !== undefined) given++;
    if (given !== used) {
      const unknown = Object.keys(labels).find((l) => !this.labelNames.includes(l as T));
      throw new Error(`${this.name}: unknown label ${unknown}`);
    }
    return out;
  }

  collect(): void {
    this.collectHook?.();
  }

  abstract lines(): string[];
  abstract json(): MetricJson['values'];

  render(): string {
    this.collect();
    return [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`, ...this.lines()].join('\n');
  }
}

/** Arguments as prom-client takes them: (labels, value), (value) or (labels). */
function labelsAndValue<T extends string>(a?: LabelValues<T> | number, b?: number): [LabelValues<T>, number | undefined] {
  return typeof a === 'number' ? [{}, a] : [a ?? {}, b];
}

class ValueMetric<T extends string> extends Metric<T> {
  readonly type: 'counter' | 'gauge' = 'gauge';
  protected readonly values = new Map<string, number>();

  protected add(labels: LabelValues<T>, delta: number): void {
    const k = this.key(labels);
    if (!this.series.has(k)) this.series.set(k, { labels });
    this.values.set(k, (this.values.get(k) ?? 0) + delta);
  }

  lines(): string[] {
    // A metric without labels shows 0 before its first change, as Prometheus clients do.
    if (!this.labelNames.length && !this.values.size) return [`${this.name} 0`];
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${formatValue(v)}`);
  }

  json(): MetricJson['values'] {
    return [...this.values].map(([k, value]) => ({ labels: { ...this.series.get(k)!.labels } as Record<string, string | number>, value }));
  }
}

export class Counter<T extends string = string> extends ValueMetric<T> {
  override readonly type = 'counter' as const;

  inc(labels?: LabelValues<T> | number, value?: number): void {
    const [l, v = 1] = labelsAndValue(labels, value);
    if (v < 0) throw new Error(`${this.name}: a counter only goes up`);
    this.add(l, v);
  }

  /** Sets the total when the count is kept elsewhere (process CPU seconds). */
  setTotal(labels: LabelValues<T>, value: number): void {
    this.add(labels, value - (this.values.get(this.key(labels)) ?? 0));
  }
}

export class Gauge<T extends string = string> extends ValueMetric<T> {
  set(labels: LabelValues<T> | number, value?: number): void {
    const [l, v = 0] = labelsAndValue(labels, value);
    this.add(l, v - (this.values.get(this.key(l)) ?? 0));
  }

  inc(labels?: LabelValues<T> | number, value?: number): void {
    const [l, v = 1] = labelsAndValue(labels, value);
    this.add(l, v);
  }

  dec(labels?: LabelValues<T> | number, value?: number): void {
    const [l, v = 1] = labelsAndValue(labels, value);
    this.add(l, -v);
  }
}

export class Histogram<T extends string = string> extends Metric<T> {
  readonly type = 'histogram' as const;
  readonly buckets: readonly number[];
  private readonly data = new Map<string, { counts: number[]; sum: number; count: number }>();

  constructor(cfg: MetricConfig<T> & { buckets: readonly number[] }) {
    super(cfg);
    this.buckets = [...cfg.buckets].sort((a, b) => a - b);
  }

  observe(labels: LabelValues<T> | number, value?: number): void {
    const [l, v = 0] = labelsAndValue(labels, value);
    const k = this.key(l);
    let d = this.data.get(k);
    if (!d) {
      d = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.data.set(k, d);
      this.series.set(k, { labels: l });
    }
    // Cumulative buckets are summed when rendered; here each observation lands in its first bucket.
    const i = this.buckets.findIndex((b) => v <= b);
    if (i >= 0) d.counts[i]!++;
    d.sum += v;
    d.count++;
  }

  /** Starts a timer; calling the result observes the seconds since (and returns them). */
  startTimer(labels: LabelValues<T> = {}): (more?: LabelValues<T>) => number {
    const t0 = process.hrtime.bigint();
    return (more = {}) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      this.observe({ ...labels, ...more }, seconds);
      return seconds;
    };
  }

  lines(): string[] {
    const out: string[] = [];
    for (const [k, d] of this.data) {
      const sep = k ? `${k},` : '';
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += d.counts[i]!;
        out.push(`${this.name}_bucket{${sep}le="${formatValue(b)}"} ${cumulative}`);
      });
      out.push(`${this.name}_bucket{${sep}le="+Inf"} ${d.count}`);
      out.push(`${this.name}_sum${k ? `{${k}}` : ''} ${formatValue(d.sum)}`);
      out.push(`${this.name}_count${k ? `{${k}}` : ''} ${d.count}`);
    }
    return out;
  }

  json(): MetricJson['values'] {
    return [...this.data].flatMap(([k, d]) => {
      const labels = { ...this.series.get(k)!.labels } as Record<string, string | number>;
      return [
        { labels, value: d.sum, metricName: `${this.name}_sum` },
        { labels, value: d.count, metricName: `${this.name}_count` },
      ];
    });
  }
}

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

export class Registry {
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';
  private readonly metricsByName = new Map<string, Metric<string>>();

  register(metric: Metric<any>): void {
    if (this.metricsByName.has(metric.name)) throw new Error(`metric ${metric.name} is already registered`);
    this.metricsByName.set(metric.name, metric);
  }

  getSingleMetric(name: string): AnyMetric | undefined {
    return this.metricsByName.get(name) as AnyMetric | undefined;
  }

  async getSingleMetricAsString(name: string): Promise<string> {
    return `${this.metricsByName.get(name)?.render() ?? ''}\n`;
  }

  /** The exposition text. */
  text(): string {
    return `${[...this.metricsByName.values()].map((m) => m.render()).join('\n')}\n`;
  }

  /** The same, asynchronous as prom-client's, so the servers' callers need not change. */
  async metrics(): Promise<string> {
    return this.text();
  }

  async getMetricsAsJSON(): Promise<MetricJson[]> {
    return [...this.metricsByName.values()].map((m) => {
      m.collect();
      return { name: m.name, help: m.help, type: m.type, values: m.json() };
    });
  }
}

import { describe, expect, it } from 'vitest';
import { maxOpenFiles, procStatusBytes, registerProcessMetrics } from './process-metrics.ts';
import { Counter, Gauge, Histogram, Registry } from './prometheus.ts';

describe('the text exposition format (Prometheus 0.0.4)', () => {
  it.each([
    [
      'a counter without labels shows 0 before its first increment',
      (r: Registry) => new Counter({ name: 'c_total', help: 'C.', registers: [r] }),
      ['# HELP c_total C.', '# TYPE c_total counter', 'c_total 0'],
    ],
    [
      'labels in their declared order, values escaped',
      (r: Registry) => {
        const c = new Counter<'b' | 'a'>({ name: 'c_total', help: 'a\\b\nc', labelNames: ['b', 'a'], registers: [r] });
        c.inc({ a: 'x"y', b: 'line\nbreak' });
        c.inc({ b: 'line\nbreak', a: 'x"y' }, 2);
      },
      ['# HELP c_total a\\\\b\\nc', '# TYPE c_total counter', 'c_total{b="line\\nbreak",a="x\\"y"} 3'],
    ],
    [
      'a gauge set, raised and lowered',
      (r: Registry) => {
        const g = new Gauge<'kind'>({ name: 'g', help: 'G.', labelNames: ['kind'], registers: [r] });
        g.set({ kind: 'pods' }, 5);
        g.inc({ kind: 'pods' });
        g.dec({ kind: 'pods' }, 3);
        g.set({ kind: 'nodes' }, 1.5);
      },
      ['# HELP g G.', '# TYPE g gauge', 'g{kind="pods"} 3', 'g{kind="nodes"} 1.5'],
    ],
    [
      'a histogram: cumulative buckets, +Inf, sum and count',
      (r: Registry) => {
        const h = new Histogram<'e'>({ name: 'h_seconds', help: 'H.', labelNames: ['e'], buckets: [0.5, 0.1], registers: [r] });
        for (const v of [0.05, 0.1, 0.3, 2]) h.observe({ e: 'x' }, v);
      },
      [
        '# HELP h_seconds H.',
        '# TYPE h_seconds histogram',
        'h_seconds_bucket{e="x",le="0.1"} 2',
        'h_seconds_bucket{e="x",le="0.5"} 3',
        'h_seconds_bucket{e="x",le="+Inf"} 4',
        'h_seconds_sum{e="x"} 2.45',
        'h_seconds_count{e="x"} 4',
      ],
    ],
  ] as const)('%s', async (_name, build, expected) => {
    const r = new Registry();
    build(r);
    expect(await r.metrics()).toBe(`${expected.join('\n')}\n`);
  });

  it('refuses a label that was not declared, a falling counter and a name registered twice', () => {
    const r = new Registry();
    const c = new Counter<'a'>({ name: 'c_total', help: 'C.', labelNames: ['a'], registers: [r] });
    expect(() => c.inc({ b: 'x' } as never)).toThrow(/unknown label b/);
    expect(() => c.inc({ a: 'x' }, -1)).toThrow(/only goes up/);
    expect(() => new Gauge({ name: 'c_total', help: 'again', registers: [r] })).toThrow(/already registered/);
    expect(() => new Gauge({ name: 'bad-name', help: 'x' })).toThrow(/invalid metric name/);
  });

  it('times an observation with startTimer', () => {
    const h = new Histogram({ name: 'h', help: 'H.', buckets: [1] });
    const seconds = h.startTimer()();
    expect(seconds).toBeGreaterThanOrEqual(0);
    expect(h.lines()).toContain('h_count 1');
  });
});

describe('process and Node.js metrics', () => {
  it.each([
    ['VmRSS:\t  2048 kB\nVmSize:\t 10 kB', 'VmRSS', 2048 * 1024],
    ['VmSize:\t 10 kB', 'VmRSS', undefined],
  ])('reads %j field %s', (status, field, bytes) => expect(procStatusBytes(status, field)).toBe(bytes));

  it('reads the open-files limit', () => {
    expect(maxOpenFiles('Limit Soft Limit Hard Limit Units\nMax open files            1048576              1048576              files\n')).toBe(1048576);
  });

  it('reports the series every Node exporter names, with live values', async () => {
    const r = new Registry();
    registerProcessMetrics(r);
    const text = await r.metrics();
    for (const name of [
      'process_cpu_seconds_total',
      'process_start_time_seconds',
      'process_resident_memory_bytes',
      'process_open_fds',
      'nodejs_heap_size_used_bytes',
      'nodejs_heap_size_total_bytes',
      'nodejs_external_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ])
      expect(text).toMatch(new RegExp(`^${name} \\d`, 'm'));
    expect(Number(/^process_resident_memory_bytes (\d+)/m.exec(text)![1])).toBeGreaterThan(1024 * 1024);
    expect(text).toContain(`nodejs_version_info{version="${process.version}"`);
  });
});

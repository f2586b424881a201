// The standard process and Node.js metrics every Node exporter names the same way (process_resident_memory_bytes,
// nodejs_heap_size_used_bytes, …), read when Prometheus scrapes: CPU seconds, start time, memory from /proc, open
// and maximum file descriptors, the V8 heap, event-loop delay and active resources. Garbage-collection durations
// are left out: observing them costs a callback per collection (Node builds a deprecated-property wrapper for each
// entry: ~1% of the webhook's CPU under admission load), and the heap figures show what operators watch.

import { fs } from './builtins.ts';
import { Counter, Gauge, type Registry } from './prometheus.ts';

/** A field of /proc/self/status in bytes (`VmRSS:  1234 kB`), or undefined off Linux. */
export function procStatusBytes(status: string, field: string): number | undefined {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** The soft limit on open files from /proc/self/limits, or undefined. */
export function maxOpenFiles(limits: string): number | undefined {
  const m = /^Max open files\s+(\d+)/m.exec(limits);
  return m ? Number(m[1]) : undefined;
}

const readOr = (path: string): string => {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

export function registerProcessMetrics(registry: Registry): void {
  const registers = [registry];
  const cpu = { user: 0, system: 0 };
  const readCpu = () => {
    const u = process.cpuUsage();
    cpu.user = u.user / 1e6;
    cpu.system = u.system / 1e6;
  };
  // One reading for the three, taken by the first to render (they render in this order).
  const user: Counter = new Counter({
    name: 'process_cpu_user_seconds_total',
    help: 'Total user CPU time spent in seconds.',
    registers,
    collect: () => (readCpu(), user.setTotal({}, cpu.user)),
  });
  const system: Counter = new Counter({
    name: 'process_cpu_system_seconds_total',
    help: 'Total system CPU time spent in seconds.',
    registers,
    collect: () => system.setTotal({}, cpu.system),
  });
  const total: Counter = new Counter({
    name: 'process_cpu_seconds_total',
    help: 'Total user and system CPU time spent in seconds.',
    registers,
    collect: () => total.setTotal({}, cpu.user + cpu.system),
  });

  const startSeconds = Math.round((Date.now() - process.uptime() * 1000) / 1000);
  new Gauge({ name: 'process_start_time_seconds', help: 'Start time of the process since unix epoch in seconds.', registers }).set(startSeconds);

  let status = '';
  const gauge = (name: string, help: string, read: () => number) => readGauge(registry, name, help, read);
  gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () => {
    status = readOr('/proc/self/status');
    return procStatusBytes(status, 'VmRSS') ?? process.memoryUsage.rss();
  });
  gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.', () => procStatusBytes(status, 'VmSize') ?? 0);
  gauge('process_heap_bytes', 'Process heap size in bytes.', () => procStatusBytes(status, 'VmData') ?? 0);
  gauge('process_open_fds', 'Number of open file descriptors.', () => {
    try {
      return fs.readdirSync('/proc/self/fd').length;
    } catch {
      return 0;
    }
  });
  const maxFds = maxOpenFiles(readOr('/proc/self/limits'));
  if (maxFds !== undefined) gauge('process_max_fds', 'Maximum number of open file descriptors.', () => maxFds);

  let memory = process.memoryUsage();
  gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', () => (memory = process.memoryUsage()).heapTotal);
  gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', () => memory.heapUsed);
  gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', () => memory.external);

  const delay = process.getBuiltinModule('node:perf_hooks').monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  const seconds = (ns: number) => (delay.count ? ns / 1e9 : 0);
  gauge('nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays.', () => seconds(delay.mean));
  gauge('nodejs_eventloop_lag_p50_seconds', 'The 50th percentile of the recorded event loop delays.', () => seconds(delay.percentile(50)));
  gauge('nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the recorded event loop delays.', () => seconds(delay.percentile(99)));
  gauge('nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay since the last scrape.', () => {
    const max = seconds(delay.max);
    delay.reset();
    return max;
  });

  const resources: Gauge<'type'> = new Gauge<'type'>({
    name: 'nodejs_active_resources',
    help: 'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.',
    labelNames: ['type'],
    registers,
    collect: () => {
      const counts = new Map<string, number>();
      for (const t of process.getActiveResourcesInfo()) counts.set(t, (counts.get(t) ?? 0) + 1);
      for (const [type, n] of counts) resources.set({ type }, n);
    },
  });

  const [major, minor, patch] = process.versions.node.split('.');
  new Gauge<'version' | 'major' | 'minor' | 'patch'>({
    name: 'nodejs_version_info',
    help: 'Node.js version info.',
    labelNames: ['version', 'major', 'minor', 'patch'],
    registers,
  }).set({ version: process.version, major: major!, minor: minor!, patch: patch! }, 1);
}

/** A gauge read from `read` at each scrape. */
function readGauge(registry: Registry, name: string, help: string, read: () => number): void {
  const g: Gauge = new Gauge({ name, help, registers: [registry], collect: () => g.set(read()) });
}

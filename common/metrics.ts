// What every podid server's Prometheus registry carries: the standard process and Node.js metrics, unprefixed
// (process_resident_memory_bytes, nodejs_heap_size_used_bytes, … as every Node exporter names them; one server
// per process, so they never clash), and podid_build_info. Each server adds its own metrics beside them.

import { registerProcessMetrics } from './process-metrics.ts';
import { Gauge, Registry } from './prometheus.ts';
import { podidVersion } from './version.ts';

export function serverRegistry(component: 'webhook' | 'nmi' | 'controller'): Registry {
  const registry = new Registry();
  registerProcessMetrics(registry);
  new Gauge({
    name: 'podid_build_info',
    help: 'Always 1: the podid version, component and Node.js version of this process.',
    labelNames: ['version', 'component', 'nodejs'],
    registers: [registry],
  }).set({ version: podidVersion(), component, nodejs: process.versions.node }, 1);
  return registry;
}

// Prometheus metrics of the controller, on a registry of its own.

import { Counter, Gauge, Histogram, Registry } from '../common/prometheus.ts';
import { serverRegistry } from '../common/metrics.ts';
import type { ReconcilerMetrics } from './reconciler.ts';

export interface ControllerMetrics extends ReconcilerMetrics {
  registry: Registry;
  leader: Gauge;
  assignments: Gauge<'status'>;
}

export function createControllerMetrics(): ControllerMetrics {
  const registry = serverRegistry('controller');
  const arm = new Counter({
    name: 'podid_controller_arm_requests_total',
    help: 'ARM requests by method (GET, PATCH) and outcome (ok, or the ARM error code).',
    labelNames: ['method', 'outcome'],
    registers: [registry],
  });
  const synced = new Histogram({
    name: 'podid_controller_target_sync_seconds',
    help: 'Time to bring one scale set or VM in line (read, PATCH, wait for ARM), by outcome.',
    labelNames: ['outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  return {
    registry,
    leader: new Gauge({ name: 'podid_controller_leader', help: '1 while this replica holds the leader Lease.', registers: [registry] }),
    assignments: new Gauge({
      name: 'podid_controller_assignments',
      help: 'AzureAssignedIdentity objects by status (Created: ARM not done yet; Assigned).',
      labelNames: ['status'],
      registers: [registry],
    }),
    armCall: (method, outcome) => arm.inc({ method, outcome }),
    targetSynced: (seconds, outcome) => synced.observe({ outcome }, seconds),
  };
}

// `podid controller`, wired: leader election, then (as leader) the status mirror behind the printer columns and,
// in standard mode, the informers feeding the reconciler that assigns identities through ARM. Every replica
// serves /healthz, /readyz (the leader once synced, a standby at once) and /metrics on plain HTTP.

import type { KubeClient } from '../common/kube-client.ts';
import type { Mode } from '../common/mode.ts';
import { runWatches } from '../common/kube-watch.ts';
import type { ListenAddress } from '../common/listen.ts';
import type { Logger } from '../common/log.ts';
import { startMetricsServer } from '../common/metrics-server.ts';
import { closeServer } from '../common/serve.ts';
import { API_GROUP_VERSION, type AzurePodIdentityException } from '../identity/crds.ts';
import { danglingBindings } from '../identity/match.ts';
import { IdentityStore } from '../identity/store.ts';
import { dedupedEvents, kubeEvents } from '../common/events.ts';
import { identityWatches } from '../identity/watches.ts';
import type { ArmClient } from './arm-client.ts';
import type { ArmTarget } from './arm-target.ts';
import { desiredState, type ExistingRecord, type ScheduledPod } from './desired.ts';
import { columnWatches, kubeOwnership, kubeRecords, labeledPodWatch, MANAGER, nodeWatch, recordWatch } from './kube.ts';
import { startElection, type Election } from './leader.ts';
import { createControllerMetrics } from './metrics.ts';
import { Reconciler } from './reconciler.ts';

export interface ControllerSettings {
  /** podid's Kubernetes client: the Lease, the informers, the records, the ownership ConfigMaps and Events. */
  kube: KubeClient;
  mode: Mode;
  namespace: string;
  identity: string;
  listen: ListenAddress;
  lease: { name: string; seconds: number; renewDeadlineMs: number; retryMs: number };
  /** Standard mode: ARM and the reconciler's knobs. */
  standard?: {
    arm: ArmClient;
    graceMs: number;
    immutable: ReadonlySet<string>;
    resyncMs: number;
    maxPerRequest: number;
    concurrency: number;
  };
  forceNamespaced: boolean;
  builtinExceptions: AzurePodIdentityException[];
}

export interface RunningController {
  url: string;
  election: Election;
  /** Set once leading in standard mode (tests and benchmarks wait on it). */
  reconciler(): Reconciler | undefined;
  close(): Promise<void>;
}

export async function startController(s: ControllerSettings, log: Logger): Promise<RunningController> {
  const metrics = createControllerMetrics();
  let synced = false;
  let leading = false;
  const { server, url } = await startMetricsServer(s.listen, metrics.registry, () => !leading || synced);

  const election = startElection({
    kube: s.kube,
    namespace: s.namespace,
    name: s.lease.name,
    identity: s.identity,
    leaseSeconds: s.lease.seconds,
    renewDeadlineMs: s.lease.renewDeadlineMs,
    retryMs: s.lease.retryMs,
    log,
  });
  let reconciler: Reconciler | undefined;
  const stops: Array<() => void> = [];
  let closed = false;

  void election.leading.then(async () => {
    if (closed) return;
    leading = true;
    metrics.leader.set(1);
    // Both modes: the CRDs (printer columns, and a Warning Event on each binding whose identity does not exist).
    const store = new IdentityStore();
    for (const e of s.builtinExceptions) store.upsertException(e);
    const events = dedupedEvents(kubeEvents(s.kube, s.identity, log, MANAGER));
    let onIdentities = () => {};
    let bindingTimer: NodeJS.Timeout | undefined;
    const checkBindings = () => {
      bindingTimer ??= setTimeout(() => {
        bindingTimer = undefined;
        for (const b of danglingBindings(store.allBindings(), (ns, name) => store.identity(ns, name) !== undefined))
          events.warn(
            { kind: 'AzureIdentityBinding', apiVersion: API_GROUP_VERSION, name: b.name, namespace: b.namespace, uid: '' },
            'IdentityNotFound',
            `AzureIdentityBinding ${b.namespace}/${b.name} names AzureIdentity ${b.namespace}/${b.azureIdentity}, which does not exist: pods labeled aadpodidbinding=${b.selector} get no token from it`,
          );
      }, 1000);
    };
    stops.push(
      await runWatches(s.kube, [...columnWatches(s.kube, log), ...identityWatches(store, log)], log, () => {
        checkBindings();
        onIdentities();
      }),
      () => clearTimeout(bindingTimer),
    );
    checkBindings();
    if (s.mode === 'standard' && s.standard) {
      const std = s.standard;
      const pods = new Map<string, ScheduledPod>();
      const nodes = new Map<string, ArmTarget | { error: string }>();
      const records = new Map<string, ExistingRecord>();
      reconciler = new Reconciler({
        arm: std.arm,
        ownership: kubeOwnership(s.kube, s.namespace),
        records: kubeRecords(s.kube, records, log),
        log,
        metrics,
        warn: (a, reason, message) => events.warn(a.pod, reason, message),
        graceMs: std.graceMs,
        immutable: std.immutable,
        maxPerRequest: std.maxPerRequest,
        concurrency: std.concurrency,
      });
      let timer: NodeJS.Timeout | undefined;
      const recompute = () => {
        if (!synced || timer) return;
        // Coalesce bursts (a Deployment scaling up): one desired state per 100 ms at most.
        timer = setTimeout(() => {
          timer = undefined;
          const desired = desiredState(pods.values(), store, nodes, { forceNamespaced: s.forceNamespaced });
          reconciler!.update(desired);
          let assigned = 0;
          for (const r of records.values()) if (r.status === 'Assigned') assigned++;
          metrics.assignments.set({ status: 'Assigned' }, assigned);
          metrics.assignments.set({ status: 'Created' }, records.size - assigned);
        }, 100);
      };
      onIdentities = recompute;
      stops.push(await runWatches(s.kube, [labeledPodWatch(pods), nodeWatch(nodes), recordWatch(records)], log, recompute));
      await reconciler.start();
      synced = true;
      log.info({ pods: pods.size, nodes: nodes.size, assignments: records.size, ...store.counts }, 'informers synced; reconciling');
      recompute();
      const resync = setInterval(() => reconciler!.resync(), std.resyncMs);
      stops.push(
        () => clearInterval(resync),
        () => reconciler!.stop(),
        () => clearTimeout(timer),
      );
    } else synced = true;
  });
  return {
    url,
    election,
    reconciler: () => reconciler,
    async close() {
      closed = true;
      for (const stop of stops.splice(0)) stop();
      metrics.leader.set(0);
      await election.stop();
      await closeServer(server);
    },
  };
}

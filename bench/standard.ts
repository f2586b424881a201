// npm run bench:standard — standard mode at scale: 1,000 type 0 identities, 10,000 pods over 50 scale sets,
// podid's reconciler (the one `podid controller` runs) against the ARM emulator over HTTPS, with every ARM
// update taking BENCH_ARM_OPERATION_MS (default 400 ms: 1/100 of the ~40 s a real scale-set identity update
// takes, so the run is short and times scale by 100). Prints:
// 1. time from the pods appearing to every AzureAssignedIdentity Assigned (p50, p99, max) and ARM calls;
// 2. the same for 100 more pods of identities already on their scale sets (no ARM update needed);
// 3. the controller's heap and RSS with 10k pods, 1k identities and the records held;
// 4. MIC's behaviour on the same change for comparison: one serial PATCH per (identity, scale set), ~40 s each.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../common/log.ts';
import { armClient } from '../controller/arm-client.ts';
import { armTargetOf, type ArmTarget } from '../controller/arm-target.ts';
import { desiredState, type ExistingRecord, type RecordPlan, type ScheduledPod } from '../controller/desired.ts';
import { Reconciler, type OwnershipStore, type RecordStore } from '../controller/reconciler.ts';
import { IdentityStore } from '../identity/store.ts';
import { startArm } from '../emulators/arm.ts';
import { Tenant } from '../emulators/tenant.ts';
import { createTestTls } from '../emulators/test-ca.ts';

const PODS = Number(process.env.BENCH_PODS ?? 10_000);
const IDENTITIES = Number(process.env.BENCH_IDENTITIES ?? 1_000);
const SCALE_SETS = Number(process.env.BENCH_SCALE_SETS ?? 50);
const NODES_PER_SET = Number(process.env.BENCH_NODES_PER_SET ?? 4);
const OPERATION_MS = Number(process.env.BENCH_ARM_OPERATION_MS ?? 400);
const CONCURRENCY = Number(process.env.BENCH_ARM_CONCURRENCY ?? 16);
const REAL_OPERATION_S = 40;
const mib = (b: number) => (b / 1024 / 1024).toFixed(1);
const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));

const dir = await mkdtemp(join(tmpdir(), 'podid-bench-standard-'));
const tenant = new Tenant();
const tls = await createTestTls(dir);
const arm = await startArm({ tenant, tls });
arm.compute.operationMs = OPERATION_MS;
const RG = '/subscriptions/bench/resourceGroups/nodes/providers/Microsoft.Compute/virtualMachineScaleSets';
for (let s = 0; s < SCALE_SETS; s++) arm.compute.add(`${RG}/pool-${s}`, 'vmss');
const store = new IdentityStore();
for (let i = 0; i < IDENTITIES; i++) {
  const resourceId = `/subscriptions/bench/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-${i}`;
  tenant.managedIdentities.push({ clientId: `client-${i}`, objectId: `object-${i}`, resourceId });
  store.upsertIdentity({ name: `id-${i}`, namespace: 'apps', namespaced: false, type: 0, clientID: `client-${i}`, resourceID: resourceId });
  store.upsertBinding({ name: `b-${i}`, namespace: 'apps', namespaced: false, azureIdentity: `id-${i}`, selector: `app-${i}` });
}
const nodes = new Map<string, ArmTarget | { error: string }>();
for (let s = 0; s < SCALE_SETS; s++)
  for (let n = 0; n < NODES_PER_SET; n++) nodes.set(`pool-${s}-${n}`, armTargetOf(`azure://${RG}/pool-${s}/virtualMachines/${n}`));
const nodeNames = [...nodes.keys()];
// Each identity's pods (a Deployment of PODS/IDENTITIES replicas) land on random nodes, as a scheduler spreads them.
let seed = 42;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const pod = (i: number): ScheduledPod => ({
  name: `pod-${i}`,
  namespace: 'apps',
  uid: `uid-${i}`,
  labels: { aadpodidbinding: `app-${i % IDENTITIES}` },
  nodeName: nodeNames[Math.floor(random() * nodeNames.length)]!,
});

const assignedAt = new Map<string, number>();
const records = new Map<string, ExistingRecord>();
const owned = new Map<string, { target: ArmTarget; owned: Set<string> }>();
const ownership: OwnershipStore = { load: async () => owned, save: async (t, o) => void owned.set(t.key, { target: t, owned: new Set(o) }) };
const recordStore: RecordStore = {
  existing: () => [...records.values()],
  async apply(plan: RecordPlan) {
    for (const c of [...plan.create, ...plan.update]) {
      const key = `${c.assignment.namespace}/${c.assignment.name}`;
      records.set(key, { name: c.assignment.name, namespace: c.assignment.namespace, status: c.status, ours: true, finalizers: 0 });
      if (c.status === 'Assigned' && !assignedAt.has(key)) assignedAt.set(key, performance.now());
    }
    for (const r of plan.remove) records.delete(`${r.namespace}/${r.name}`);
  },
};
const token = tenant.mint('https://management.azure.com/', { clientId: 'bench', objectId: 'bench' }).accessToken;
const reconciler = new Reconciler({
  arm: armClient({ url: arm.url, token: async () => token, extraCaPem: tls.caPem, pollMs: Math.max(20, OPERATION_MS / 4) }),
  ownership,
  records: recordStore,
  log: createLogger('controller', 'silent'),
  graceMs: 60_000,
  immutable: new Set(),
  concurrency: CONCURRENCY,
});
await reconciler.start();

async function phase(label: string, pods: ScheduledPod[]) {
  const calls = { ...arm.compute.stats, refused: { ...arm.compute.stats.refused } };
  const sizes = arm.compute.patchSizes.length;
  const t0 = performance.now();
  const desired = desiredState(pods, store, nodes, { forceNamespaced: false });
  const fresh = desired.assignments.filter((a) => !assignedAt.has(`${a.namespace}/${a.name}`));
  const planMs = performance.now() - t0;
  reconciler.update(desired);
  for (;;) {
    await reconciler.idle();
    if (desired.assignments.every((a) => assignedAt.has(`${a.namespace}/${a.name}`))) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const waits = fresh.map((a) => assignedAt.get(`${a.namespace}/${a.name}`)! - t0).sort((a, b) => a - b);
  const pct = (p: number) => waits[Math.min(waits.length - 1, Math.floor((p / 100) * waits.length))]!;
  const patches = arm.compute.stats.patches - calls.patches;
  const pairs = [...desired.targets.values()].reduce((n, t) => n + t.identities.size, 0);
  console.log(
    `\n${label}: ${fresh.length} new of ${desired.assignments.length} assignments, ${pairs} (identity, scale set) pairs over ${desired.targets.size} scale sets`,
  );
  console.log(`  desired state computed in ${fmt(planMs)} ms`);
  console.log(`  pod → Assigned: p50 ${fmt(pct(50))} ms, p99 ${fmt(pct(99))} ms, max ${fmt(waits.at(-1)!)} ms with ARM updates of ${OPERATION_MS} ms`);
  console.log(
    `  ARM calls: ${patches} PATCH (largest ${Math.max(0, ...arm.compute.patchSizes.slice(sizes))} identities; ${Object.values(arm.compute.stats.refused).reduce((a, b) => a + b, 0) - Object.values(calls.refused).reduce((a, b) => a + b, 0)} refused), ${arm.compute.stats.gets - calls.gets} GET, ${arm.compute.stats.polls - calls.polls} operation polls`,
  );
  const waves = Math.ceil(desired.targets.size / CONCURRENCY) || 0;
  if (patches) {
    const podidS = (waits.at(-1)! / OPERATION_MS) * REAL_OPERATION_S;
    const micS = pairs * REAL_OPERATION_S;
    console.log(
      `  at ~${REAL_OPERATION_S} s per real ARM update: podid ≈ ${fmt(podidS)} s (${waves} waves of ${CONCURRENCY} scale sets); MIC (one serial PATCH per pair) ≈ ${fmt(micS / 3600)} h — ${fmt(micS / podidS)}× longer`,
    );
  }
  return desired;
}

const all = Array.from({ length: PODS }, (_, i) => pod(i));
console.log(`standard mode: ${PODS} pods, ${IDENTITIES} identities, ${SCALE_SETS} scale sets × ${NODES_PER_SET} nodes, ARM concurrency ${CONCURRENCY}`);
const heapBefore = process.memoryUsage();
await phase('1. all pods appear at once', all);
const more = Array.from({ length: 100 }, (_, i) => ({ ...all[i]!, name: `more-${i}`, uid: `more-${i}` }));
await phase('2. 100 more pods on nodes whose scale sets already carry their identities', [...all, ...more]);
globalThis.gc?.();
const heapAfter = process.memoryUsage();
console.log(
  `\n3. memory with ${records.size} records and ${PODS + 100} pods planned: heap ${mib(heapAfter.heapUsed)} MiB (+${mib(heapAfter.heapUsed - heapBefore.heapUsed)}), RSS ${mib(heapAfter.rss)} MiB (this process also runs the ARM emulator)`,
);
reconciler.stop();
await arm.close();
await rm(dir, { recursive: true, force: true });

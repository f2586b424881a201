// The reconciler against the ARM emulator (HTTPS, tokens the emulated tenant issued): what reaches ARM and what
// the AzureAssignedIdentity records say, for shared and private identities over three scale sets, foreign
// identities, throttling, conflicts, stale ETags, the per-request limit, a refused identity and a leader change.

import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../common/log.ts';
import type { AzureIdentity } from '../identity/crds.ts';
import { IdentityStore } from '../identity/store.ts';
import { startArm, type RunningArm } from '../emulators/arm.ts';
import { Tenant, type ManagedIdentity } from '../emulators/tenant.ts';
import { createTestTls } from '../emulators/test-ca.ts';
import { armClient } from './arm-client.ts';
import { armTargetOf, type ArmTarget } from './arm-target.ts';
import { desiredState, type ExistingRecord, type ScheduledPod } from './desired.ts';
import { idKey } from './plan.ts';
import { Reconciler, type OwnershipStore, type RecordStore } from './reconciler.ts';

const RG = '/subscriptions/sub/resourceGroups/nodes/providers/Microsoft.Compute';
const POOLS = ['pool-a', 'pool-b', 'pool-c'];
const vmss = (pool: string) => `${RG}/virtualMachineScaleSets/${pool}`;
let dir: string;
let tenant: Tenant;
let arm: RunningArm;
let caPem: string;
const mi = (name: string): ManagedIdentity => ({
  clientId: randomUUID(),
  objectId: randomUUID(),
  resourceId: `/subscriptions/sub/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`,
});
const ids: Record<string, ManagedIdentity> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podid-reconciler-'));
  tenant = new Tenant();
  for (const n of ['shared', 'private', 'kubelet', 'team', ...Array.from({ length: 200 }, (_, i) => `bulk-${i}`)])
    tenant.managedIdentities.push((ids[n] = mi(n)));
  const tls = await createTestTls(dir);
  arm = await startArm({ tenant, tls });
  caPem = tls.caPem;
});
afterAll(async () => {
  await arm?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The Kubernetes side, in memory: ownership records and AzureAssignedIdentity objects. */
class Memory implements OwnershipStore, RecordStore {
  owned = new Map<string, { target: ArmTarget; owned: Set<string> }>();
  records = new Map<string, ExistingRecord>();
  async load() {
    return new Map([...this.owned].map(([k, v]) => [k, { target: v.target, owned: new Set(v.owned) }]));
  }
  async save(target: ArmTarget, owned: ReadonlySet<string>) {
    this.owned.set(target.key, { target, owned: new Set(owned) });
  }
  existing() {
    return [...this.records.values()];
  }
  async apply(plan: import('./desired.ts').RecordPlan) {
    for (const c of [...plan.create, ...plan.update])
      this.records.set(`${c.assignment.namespace}/${c.assignment.name}`, {
        name: c.assignment.name,
        namespace: c.assignment.namespace,
        status: c.status,
        ours: true,
        finalizers: 0,
      });
    for (const r of plan.remove) this.records.delete(`${r.namespace}/${r.name}`);
  }
  status(name: string) {
    return this.records.get(`apps/${name}`)?.status;
  }
}

const warnings: string[] = [];
function reconciler(mem: Memory, over: Partial<ConstructorParameters<typeof Reconciler>[0]> = {}): Reconciler {
  const client = armClient({
    url: arm.url,
    token: async () => tenant.mint('https://management.azure.com/', { clientId: 'controller', objectId: 'controller' }).accessToken,
    extraCaPem: caPem,
    pollMs: 5,
  });
  return new Reconciler({
    arm: client,
    ownership: mem,
    records: mem,
    log: createLogger('controller', 'silent'),
    warn: (a, reason) => warnings.push(`${a.name}:${reason}`),
    graceMs: 0,
    immutable: new Set(),
    backoffMs: { min: 10, max: 50 },
    ...over,
  });
}

const nodes = new Map(POOLS.flatMap((p) => [0, 1].map((i) => [`${p}-${i}`, armTargetOf(`azure://${vmss(p)}/virtualMachines/${i}`) as ArmTarget])));
function objects(bindings: Record<string, string[]>): IdentityStore {
  const s = new IdentityStore();
  for (const [name, m] of Object.entries(ids))
    s.upsertIdentity({ name, namespace: 'apps', namespaced: false, type: 0, clientID: m.clientId, resourceID: m.resourceId } satisfies AzureIdentity);
  s.upsertIdentity({
    name: 'missing',
    namespace: 'apps',
    namespaced: false,
    type: 0,
    clientID: 'x',
    resourceID: '/subscriptions/sub/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/missing',
  });
  for (const [selector, names] of Object.entries(bindings))
    for (const n of names) s.upsertBinding({ name: `${selector}-${n}`, namespace: 'apps', namespaced: false, azureIdentity: n, selector });
  return s;
}
const pod = (name: string, nodeName: string, selector: string): ScheduledPod => ({
  name,
  namespace: 'apps',
  uid: name,
  nodeName,
  labels: { aadpodidbinding: selector },
});
const assigned = (pool: string) =>
  arm.compute
    .assigned(vmss(pool))
    .map((k) => k.split('/').pop())
    .sort();

describe('Reconciler (standard mode) against the ARM emulator', () => {
  afterEach(() => {
    warnings.length = 0;
  });

  it('puts shared and private identities on the right scale sets with one PATCH each, then removes only its own after the last pod', async () => {
    for (const p of POOLS) arm.compute.add(vmss(p), 'vmss', { userAssigned: [ids.kubelet!.resourceId] });
    const mem = new Memory();
    const r = reconciler(mem);
    await r.start();
    const store = objects({ web: ['shared'], batch: ['shared', 'private'] });
    const before = arm.compute.stats.patches;
    r.update(
      desiredState(
        [pod('web-1', 'pool-a-0', 'web'), pod('web-2', 'pool-a-1', 'web'), pod('web-3', 'pool-b-0', 'web'), pod('batch-1', 'pool-b-1', 'batch')],
        store,
        nodes,
        { forceNamespaced: false },
      ),
    );
    await r.idle();
    expect(assigned('pool-a')).toEqual(['kubelet', 'shared']);
    expect(assigned('pool-b')).toEqual(['kubelet', 'private', 'shared']);
    expect(assigned('pool-c')).toEqual(['kubelet']);
    expect(arm.compute.stats.patches - before).toBe(2);
    expect(mem.status('web-1-apps-shared')).toBe('Assigned');
    expect(mem.status('batch-1-apps-private')).toBe('Assigned');

    // Someone adds "team" to pool-a outside podid; podid must never take it away.
    arm.compute.setOutside(vmss('pool-a'), [...arm.compute.assigned(vmss('pool-a')), ids.team!.resourceId]);
    r.resync();
    r.update(desiredState([pod('web-3', 'pool-b-0', 'web')], store, nodes, { forceNamespaced: false }));
    await r.idle();
    expect(assigned('pool-a')).toEqual(['kubelet', 'team']);
    expect(assigned('pool-b')).toEqual(['kubelet', 'shared']);
    expect(mem.status('batch-1-apps-private')).toBeUndefined();
    r.update(desiredState([], store, nodes, { forceNamespaced: false }));
    await r.idle();
    expect(POOLS.map(assigned)).toEqual([['kubelet', 'team'], ['kubelet'], ['kubelet']]);
    expect(mem.records.size).toBe(0);
    r.stop();
  });

  it('removes an identity when its grace period ends, with no other event to wake it', async () => {
    arm.compute.add(vmss('pool-c'), 'vmss', { userAssigned: [ids.kubelet!.resourceId] });
    const mem = new Memory();
    const r = reconciler(mem, { graceMs: 300 });
    await r.start();
    const store = objects({ web: ['shared'] });
    r.update(desiredState([pod('web-1', 'pool-c-0', 'web')], store, nodes, { forceNamespaced: false }));
    await r.idle();
    expect(assigned('pool-c')).toEqual(['kubelet', 'shared']);
    // The last pod goes: nothing changes in ARM during the grace period, and nothing else happens after it.
    r.update(desiredState([], store, nodes, { forceNamespaced: false }));
    await new Promise((done) => setTimeout(done, 100));
    expect(assigned('pool-c')).toEqual(['kubelet', 'shared']);
    for (let i = 0; i < 100 && assigned('pool-c').length > 1; i++) await new Promise((done) => setTimeout(done, 20));
    expect(assigned('pool-c')).toEqual(['kubelet']);
    r.stop();
  });

  it('waits out 429 Retry-After, 409 (another update running) and re-reads on 412 (changed since read)', async () => {
    arm.compute.add(vmss('pool-a'), 'vmss');
    const mem = new Memory();
    const r = reconciler(mem);
    await r.start();
    arm.compute.throttle(0, 1, 'PATCH');
    arm.compute.fail({ status: 409, code: 'OperationNotAllowed', message: 'another operation is in progress' }, 1, 'PATCH');
    arm.compute.fail({ status: 412, code: 'PreconditionFailed', message: 'etag changed' }, 1, 'PATCH');
    const refused = { ...arm.compute.stats.refused };
    r.update(desiredState([pod('web-1', 'pool-a-0', 'web')], objects({ web: ['shared'] }), nodes, { forceNamespaced: false }));
    await new Promise<void>((done) => {
      const t = setInterval(() => {
        if (arm.compute.assigned(vmss('pool-a')).length === 1) done(clearInterval(t));
      }, 10);
    });
    await r.idle();
    expect(assigned('pool-a')).toEqual(['shared']);
    for (const code of ['TooManyRequests', 'OperationNotAllowed', 'PreconditionFailed'])
      expect(arm.compute.stats.refused[code]! - (refused[code] ?? 0)).toBe(1);
    expect(mem.status('web-1-apps-shared')).toBe('Assigned');
    r.stop();
  });

  it('a standalone VM (availability-set pool) gets its identities the same way', async () => {
    const vm = `${RG}/virtualMachines/k8s-agent-0`;
    arm.compute.add(vm, 'vm', { systemAssigned: true });
    const mem = new Memory();
    const r = reconciler(mem);
    await r.start();
    const vmNodes = new Map([['k8s-agent-0', armTargetOf(`azure://${vm}`) as ArmTarget]]);
    r.update(desiredState([pod('vm-1', 'k8s-agent-0', 'web')], objects({ web: ['shared'] }), vmNodes, { forceNamespaced: false }));
    await r.idle();
    expect(arm.compute.assigned(vm)).toEqual([idKey(ids.shared!.resourceId)]);
    expect(mem.status('vm-1-apps-shared')).toBe('Assigned');
    r.update(desiredState([], objects({ web: ['shared'] }), vmNodes, { forceNamespaced: false }));
    await r.idle();
    expect(arm.compute.assigned(vm)).toEqual([]);
    r.stop();
  });

  it("chunks 200 identities under ARM's 150-per-request limit", async () => {
    arm.compute.add(vmss('pool-c'), 'vmss');
    const mem = new Memory();
    const r = reconciler(mem);
    await r.start();
    const names = Array.from({ length: 200 }, (_, i) => `bulk-${i}`);
    const sizes = arm.compute.patchSizes.length;
    r.update(desiredState([pod('bulk', 'pool-c-0', 'bulk')], objects({ bulk: names }), nodes, { forceNamespaced: false }));
    await r.idle();
    expect(arm.compute.assigned(vmss('pool-c')).length).toBe(200);
    expect(arm.compute.patchSizes.slice(sizes)).toEqual([150, 50]);
    expect(arm.compute.stats.refused.BadRequest ?? 0).toBe(0);
    r.stop();
  });

  it('an identity ARM refuses (does not exist) is left out and warned about; the others still go through', async () => {
    arm.compute.add(vmss('pool-b'), 'vmss');
    const mem = new Memory();
    const r = reconciler(mem);
    await r.start();
    r.update(desiredState([pod('mixed', 'pool-b-0', 'mixed')], objects({ mixed: ['shared', 'missing'] }), nodes, { forceNamespaced: false }));
    await new Promise<void>((done) => {
      const t = setInterval(() => {
        if (arm.compute.assigned(vmss('pool-b')).length === 1) done(clearInterval(t));
      }, 10);
    });
    await r.idle();
    expect(assigned('pool-b')).toEqual(['shared']);
    expect(mem.status('mixed-apps-shared')).toBe('Assigned');
    expect(mem.status('mixed-apps-missing')).toBe('Created');
    expect(warnings).toContain('mixed-apps-missing:IdentityAssignmentFailed');
    r.stop();
  });

  it('a leader that dies mid-update loses nothing: the next one knows what podid added and removes it after the last pod', async () => {
    arm.compute.add(vmss('pool-a'), 'vmss', { userAssigned: [ids.kubelet!.resourceId] });
    arm.compute.operationMs = 300;
    const mem = new Memory();
    const first = reconciler(mem);
    await first.start();
    const store = objects({ web: ['shared'] });
    first.update(desiredState([pod('web-1', 'pool-a-0', 'web')], store, nodes, { forceNamespaced: false }));
    // Dies once its PATCH is accepted, before the operation finishes and before it writes any Assigned record.
    const patches = arm.compute.stats.patches;
    await new Promise<void>((done) => {
      const t = setInterval(() => {
        if (arm.compute.stats.patches > patches) done(clearInterval(t));
      }, 2);
    });
    first.stop();
    arm.compute.operationMs = 20;
    expect(mem.owned.get(idKey(vmss('pool-a')))?.owned.has(idKey(ids.shared!.resourceId))).toBe(true);

    const second = reconciler(mem);
    await second.start();
    second.update(desiredState([pod('web-1', 'pool-a-0', 'web')], store, nodes, { forceNamespaced: false }));
    await new Promise((r) => setTimeout(r, 400));
    second.resync();
    await second.idle();
    expect(assigned('pool-a')).toEqual(['kubelet', 'shared']);
    expect(mem.status('web-1-apps-shared')).toBe('Assigned');
    second.update(desiredState([], store, nodes, { forceNamespaced: false }));
    await second.idle();
    expect(assigned('pool-a')).toEqual(['kubelet']);
    second.stop();
  });
});

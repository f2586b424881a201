import { describe, expect, it } from 'vitest';
import type { AzureIdentity, AzureIdentityBinding } from '../identity/crds.ts';
import { IdentityStore } from '../identity/store.ts';
import { armTargetOf, type ArmTarget } from './arm-target.ts';
import { assignmentStatus, desiredState, planRecords, type ScheduledPod } from './desired.ts';

const RG = '/subscriptions/s/resourceGroups/nodes/providers/Microsoft.Compute';
const target = (providerID: string) => armTargetOf(providerID) as ArmTarget;
const nodes = new Map<string, ArmTarget | { error: string }>([
  ['pool-a-0', target(`azure://${RG}/virtualMachineScaleSets/pool-a/virtualMachines/0`)],
  ['pool-a-1', target(`azure://${RG}/virtualMachineScaleSets/pool-a/virtualMachines/1`)],
  ['vm-0', target(`azure://${RG}/virtualMachines/vm-0`)],
  ['kind', armTargetOf('kind://docker/kind/kind-worker')],
]);
const MI = (n: string) => `/subscriptions/s/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${n}`;
const identity = (name: string, over: Partial<AzureIdentity> = {}): AzureIdentity => ({
  name,
  namespace: 'apps',
  namespaced: false,
  type: 0,
  clientID: `${name}-client`,
  resourceID: MI(name),
  ...over,
});
const binding = (name: string, azureIdentity: string, selector: string): AzureIdentityBinding => ({
  name,
  namespace: 'apps',
  namespaced: false,
  azureIdentity,
  selector,
});
const pod = (name: string, nodeName: string, selector: string): ScheduledPod => ({
  name,
  namespace: 'apps',
  uid: `${name}-uid`,
  nodeName,
  labels: { aadpodidbinding: selector },
});

function store(): IdentityStore {
  const s = new IdentityStore();
  for (const i of [
    identity('shared'),
    identity('private'),
    identity('sp', { type: 1, resourceID: undefined }),
    identity('clientonly', { resourceID: undefined }),
  ])
    s.upsertIdentity(i);
  for (const b of [
    binding('shared', 'shared', 'web'),
    binding('private', 'private', 'batch'),
    binding('shared-batch', 'shared', 'batch'),
    binding('sp', 'sp', 'sp'),
    binding('co', 'clientonly', 'co'),
  ])
    s.upsertBinding(b);
  return s;
}

describe('desiredState', () => {
  const d = desiredState(
    [
      pod('web-1', 'pool-a-0', 'web'),
      pod('web-2', 'pool-a-1', 'web'),
      pod('batch-1', 'vm-0', 'batch'),
      pod('sp-1', 'pool-a-0', 'sp'),
      pod('lost', 'kind', 'web'),
      pod('co', 'vm-0', 'co'),
      pod('other', 'pool-a-0', 'none'),
    ],
    store(),
    nodes,
    { forceNamespaced: false },
  );

  it('one entry per scale set (its instances share it) and per VM, with the identities its pods need', () => {
    expect(Object.fromEntries([...d.targets].map(([k, v]) => [k.split('/').pop(), [...v.identities].sort()]))).toEqual({
      'pool-a': [MI('shared')],
      'vm-0': [MI('private'), MI('shared')],
    });
  });

  it('an AzureAssignedIdentity per pod and identity, for every type', () => {
    expect(d.assignments.map((a) => a.name).sort()).toEqual(
      [
        'batch-1-apps-private',
        'batch-1-apps-shared',
        'co-apps-clientonly',
        'lost-apps-shared',
        'sp-1-apps-sp',
        'web-1-apps-shared',
        'web-2-apps-shared',
      ].sort(),
    );
  });

  it('names what cannot be assigned and why', () => {
    expect(d.problems.map((p) => [p.assignment.name, p.reason])).toEqual([
      ['lost-apps-shared', expect.stringMatching(/node kind: .*not an Azure VM/)],
      ['co-apps-clientonly', expect.stringMatching(/has no resourceID/)],
    ]);
  });

  it.each([
    ['web-1-apps-shared', new Set([MI('shared').toLowerCase()]), 'Assigned'],
    ['web-1-apps-shared', new Set<string>(), 'Created'],
    ['sp-1-apps-sp', new Set<string>(), 'Assigned'],
    ['lost-apps-shared', new Set([MI('shared').toLowerCase()]), 'Created'],
  ])('%s with %o on its target is %s', (name, onTarget, status) => {
    const a = d.assignments.find((x) => x.name === name)!;
    expect(assignmentStatus(a, () => onTarget)).toBe(status);
  });
});

describe('planRecords', () => {
  const d = desiredState([pod('web-1', 'pool-a-0', 'web'), pod('web-2', 'pool-a-1', 'web')], store(), nodes, { forceNamespaced: false });
  const [w1, w2] = d.assignments;
  it('creates the missing, updates changed statuses, adopts MIC objects and deletes the rest', () => {
    const plan = planRecords(
      [
        { assignment: w1!, status: 'Assigned' },
        { assignment: w2!, status: 'Created' },
      ],
      [
        { name: 'web-1-apps-shared', namespace: 'apps', status: 'Created', ours: true, finalizers: 0 },
        { name: 'gone-apps-shared', namespace: 'apps', status: 'Assigned', ours: true, finalizers: 0 },
      ],
    );
    expect(plan.create.map((c) => c.assignment.name)).toEqual(['web-2-apps-shared']);
    expect(plan.update.map((u) => [u.assignment.name, u.status, u.adopt])).toEqual([['web-1-apps-shared', 'Assigned', false]]);
    expect(plan.remove.map((r) => r.name)).toEqual(['gone-apps-shared']);
    const mic = planRecords(
      [{ assignment: w1!, status: 'Assigned' }],
      [{ name: 'web-1-apps-shared', namespace: 'apps', status: 'Assigned', ours: false, finalizers: 1 }],
    );
    expect(mic.update.map((u) => u.adopt)).toEqual([true]);
    const same = planRecords(
      [{ assignment: w1!, status: 'Assigned' }],
      [{ name: 'web-1-apps-shared', namespace: 'apps', status: 'Assigned', ours: true, finalizers: 0 }],
    );
    expect(same).toEqual({ create: [], update: [], remove: [] });
  });
});

import { describe, expect, it } from 'vitest';
import { armTargetOf } from './arm-target.ts';

const SUB = '/subscriptions/0000/resourceGroups/MC_rg_cluster_westeurope/providers/Microsoft.Compute';

describe('armTargetOf', () => {
  it.each([
    [
      'a scale-set instance → its scale set',
      `azure://${SUB}/virtualMachineScaleSets/aks-nodepool1-123-vmss/virtualMachines/3`,
      'vmss',
      `${SUB}/virtualMachineScaleSets/aks-nodepool1-123-vmss`,
    ],
    [
      'a lower-cased provider ID (older cloud providers)',
      `azure://${SUB.toLowerCase()}/virtualmachinescalesets/pool/virtualmachines/0`,
      'vmss',
      `${SUB.toLowerCase()}/virtualmachinescalesets/pool`,
    ],
    ['a standalone VM', `azure://${SUB}/virtualMachines/k8s-agent-0`, 'vm', `${SUB}/virtualMachines/k8s-agent-0`],
  ])('%s', (_name, providerID, kind, id) => {
    const t = armTargetOf(providerID);
    expect(t).toEqual({ kind, id, key: id.toLowerCase() });
  });

  it.each([
    ['no provider ID', undefined, /no spec.providerID/],
    ['kind', 'kind://docker/kind/kind-worker', /not an Azure VM/],
    ['an AWS node', 'aws:///eu-west-1a/i-0abc', /not an Azure VM/],
    ['a scale set without an instance', `azure://${SUB}/virtualMachineScaleSets/pool`, /not an Azure VM/],
    ['a VM with an instance suffix', `azure://${SUB}/virtualMachines/vm/virtualMachines/0`, /not an Azure VM/],
  ])('%s is refused with a reason', (_name, providerID, message) => {
    const t = armTargetOf(providerID);
    expect('error' in t && t.error).toMatch(message);
  });
});

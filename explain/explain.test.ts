import { describe, expect, it } from 'vitest';
import type { AzureAssignedIdentity, AzureIdentity, AzureIdentityBinding } from '../identity/crds.ts';
import { explainPod, explanationText, type ExplainInput } from './explain.ts';

const RID = '/subscriptions/s/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/reader';
const reader: AzureIdentity = {
  name: 'reader',
  namespace: 'apps',
  namespaced: false,
  type: 0,
  clientID: '11111111-1111-1111-1111-111111111111',
  resourceID: RID,
};
const binding = (selector: string, azureIdentity = 'reader', namespaced = false, namespace = 'apps'): AzureIdentityBinding => ({
  name: `${selector}-binding`,
  namespace,
  namespaced,
  azureIdentity,
  selector,
});
const aai = (status: 'Created' | 'Assigned'): AzureAssignedIdentity => ({
  name: 'web-apps-reader',
  namespace: 'apps',
  namespaced: false,
  identityName: 'reader',
  bindingName: 'web-binding',
  pod: 'web',
  podNamespace: 'apps',
  nodeName: 'node-1',
  status,
});
const drop = { securityContext: { capabilities: { drop: ['ALL'] } } };
const wiClient = { 'azure.workload.identity/client-id': '00000000-0000-0000-0000-0000000000c1' };
const pod = (labels: Record<string, string>, over: { sidecar?: boolean; nodeName?: string; app?: object } = {}) => ({
  metadata: { name: 'web', namespace: 'apps', labels },
  spec: {
    nodeName: over.nodeName ?? 'node-1',
    initContainers: over.sidecar === false ? [] : [{ name: 'podid-token', image: 'podid', restartPolicy: 'Always', ...drop }],
    containers: [{ name: 'app', image: 'app', ...(over.app ?? drop) }],
  },
});
const input = (over: Partial<ExplainInput>): ExplainInput => ({
  pod: pod({ aadpodidbinding: 'web' }),
  identities: [reader],
  bindings: [binding('web')],
  exceptions: [],
  assignments: [aai('Assigned')],
  namespaceLabels: {},
  webhookInstalled: true,
  mode: 'managed',
  forceNamespaced: false,
  ...over,
});
const blocks = (x: ExplainInput) =>
  explainPod(x)
    .findings.filter((f) => f.verdict !== 'ok')
    .map((f) => `${f.verdict} ${f.step}: ${f.message}`);

describe('podid explain pod', () => {
  it.each<[string, Partial<ExplainInput>, RegExp]>([
    [
      'workload identity, the ServiceAccount without a client ID',
      { pod: pod({ 'azure.workload.identity/use': 'true' }), serviceAccount: { name: 'default', annotations: {} } },
      /^warn workload-identity: azure.workload.identity\/use=true, but its ServiceAccount apps\/default has no azure.workload.identity\/client-id/,
    ],
    [
      'workload identity, no ServiceAccount',
      { pod: pod({ 'azure.workload.identity/use': 'true' }), serviceAccount: undefined },
      /^warn workload-identity: .*ServiceAccount apps\/default does not exist/,
    ],
  ])('a pod of the other model, warned: %s', (_n, over, message) => {
    expect(
      blocks(input(over)).some((f) => message.test(f)),
      blocks(input(over)).join('\n'),
    ).toBe(true);
  });

  it('a workload-identity pod whose ServiceAccount names a client ID: that step is ok', () => {
    const e = explainPod(input({ pod: pod({ 'azure.workload.identity/use': 'true' }), serviceAccount: { name: 'default', annotations: wiClient } }));
    expect(e.findings.find((f) => f.step === 'workload-identity')).toMatchObject({ verdict: 'ok', message: expect.stringMatching(/names client 0{8}-.*c1:/) });
  });

  it('a served pod: every step ok, the identity named', () => {
    const e = explainPod(input({}));
    expect(e.serves).toEqual(['apps/reader']);
    expect(blocks(input({}))).toEqual([]);
    expect(explanationText(e)).toMatch(/=> gets tokens for apps\/reader\n$/);
  });

  it.each<[string, Partial<ExplainInput>, RegExp]>([
    ['no label', { pod: pod({}) }, /^blocks label: pod apps\/web has no aadpodidbinding label/],
    ['no binding for the selector', { bindings: [] }, /^blocks resolution: .*no AzureIdentityBinding has selector web/],
    [
      'a namespaced binding elsewhere',
      { bindings: [binding('web', 'reader', true, 'other')] },
      /^blocks resolution: .*namespaced bindings elsewhere: other\/web-binding/,
    ],
    ['the binding names a missing identity', { identities: [] }, /^blocks resolution: .*AzureIdentity apps\/reader/],
    [
      'an exception',
      { exceptions: [{ name: 'csi', namespace: 'apps', namespaced: false, podLabels: { app: 'csi' } }], pod: pod({ aadpodidbinding: 'web', app: 'csi' }) },
      /^blocks resolution: .*AzurePodIdentityException apps\/csi/,
    ],
    [
      'standard mode, ARM not done',
      { mode: 'standard', assignments: [aai('Created')] },
      /^blocks assignment: AzureAssignedIdentity apps\/web-apps-reader is Created/,
    ],
    ['standard mode, no record yet', { mode: 'standard', assignments: [] }, /^blocks assignment: no AzureAssignedIdentity for apps\/reader/],
    [
      'standard mode, no resourceID',
      { mode: 'standard', identities: [{ ...reader, resourceID: undefined }] },
      /^blocks assignment: standard mode cannot assign .*no resourceID/,
    ],
  ])('%s', (_n, over, first) => {
    const found = blocks(input(over));
    expect(
      found.some((f) => first.test(f)),
      found.join('\n'),
    ).toBe(true);
    expect(explanationText(explainPod(input(over)))).toMatch(/=> gets no token\n$/);
  });

  it.each<[string, Partial<ExplainInput>, RegExp]>([
    ['no sidecar: webhook not installed', { webhookInstalled: false, pod: pod({ aadpodidbinding: 'web' }, { sidecar: false }) }, /not installed/],
    [
      'no sidecar: namespace skipped',
      { namespaceLabels: { 'podid.io/control-plane': 'true' }, pod: pod({ aadpodidbinding: 'web' }, { sidecar: false }) },
      /labeled podid.io\/control-plane/,
    ],
    ['no sidecar: created before podid', { pod: pod({ aadpodidbinding: 'web' }, { sidecar: false }) }, /created before podid was installed/],
    ['a container holding NET_RAW', { pod: pod({ aadpodidbinding: 'web' }, { app: {} }) }, /^warn netraw: NET_RAW: container "app" does not drop NET_RAW/],
    [
      'labeled for both identity models',
      { pod: pod({ aadpodidbinding: 'web', 'azure.workload.identity/use': 'true' }), serviceAccount: { name: 'default', annotations: wiClient } },
      /^warn workload-identity: the pod is labeled for both aad-pod-identity/,
    ],
  ])('warns: %s', (_n, over, message) => {
    expect(
      blocks(input(over)).some((f) => message.test(f)),
      blocks(input(over)).join('\n'),
    ).toBe(true);
    expect(explainPod(input(over)).serves).toEqual(['apps/reader']);
  });
});

import { describe, expect, it } from 'vitest';
import { adoptionPatch, assignmentName, assignmentObject } from '../identity/assigned.ts';
import { desiredAssignments, planAssignments, planTakeover, type ForeignAssignment } from './assignments.ts';
import { IdentityStore } from '../identity/store.ts';
import type { NodePod } from './pod-index.ts';

const pod = (name: string, labels: Record<string, string>, namespace = 'apps'): NodePod => ({
  name,
  namespace,
  labels,
  uid: `u-${name}`,
  ips: [],
  serviceAccount: 'default',
  hostNetwork: false,
});

function store(): IdentityStore {
  const s = new IdentityStore();
  s.upsertIdentity({ name: 'reader', namespace: 'apps', namespaced: false, type: 0, clientID: '11111111-1111-1111-1111-111111111111' });
  s.upsertBinding({ name: 'reader-binding', namespace: 'apps', namespaced: false, azureIdentity: 'reader', selector: 'reader' });
  s.upsertException({ name: 'skip', namespace: 'apps', namespaced: false, podLabels: { skip: 'yes' } });
  return s;
}

describe('AzureAssignedIdentity planning', () => {
  it('wants one object per matched (pod, identity); none for unlabeled, unbound or excepted pods', () => {
    const desired = desiredAssignments(
      [pod('a', { aadpodidbinding: 'reader' }), pod('b', {}), pod('c', { aadpodidbinding: 'nobody' }), pod('d', { aadpodidbinding: 'reader', skip: 'yes' })],
      store(),
      { forceNamespaced: false },
    );
    expect(desired.map((d) => `${d.namespace}/${d.name}`)).toEqual(['apps/a-apps-reader']);
  });

  it('creates what is missing and deletes what no pod needs', () => {
    const desired = desiredAssignments([pod('a', { aadpodidbinding: 'reader' }), pod('e', { aadpodidbinding: 'reader' })], store(), {
      forceNamespaced: false,
    });
    const plan = planAssignments(desired, [
      { namespace: 'apps', name: 'a-apps-reader' },
      { namespace: 'apps', name: 'gone-apps-reader' },
    ]);
    expect(plan.create.map((a) => a.name)).toEqual(['e-apps-reader']);
    expect(plan.remove).toEqual([{ namespace: 'apps', name: 'gone-apps-reader' }]);
  });

  it('names objects like aad-pod-identity and keeps them within 253 characters', () => {
    expect(assignmentName('Web-1', 'apps', 'reader')).toBe('web-1-apps-reader');
    const long = assignmentName('p'.repeat(200), 'n'.repeat(60), 'i'.repeat(60));
    expect(long.length).toBeLessThanOrEqual(253);
    expect(long).not.toBe(assignmentName('p'.repeat(200), 'n'.repeat(60), 'j'.repeat(60)));
  });

  it('builds the object in aad-pod-identity shape, labeled with the node, status Assigned', () => {
    const [a] = desiredAssignments([pod('a', { aadpodidbinding: 'reader' })], store(), { forceNamespaced: false });
    const obj = assignmentObject(a!, 'node-1') as any;
    expect(obj.metadata.labels['podid.io/node']).toBe('node-1');
    expect(obj.spec).toMatchObject({
      pod: 'a',
      podNamespace: 'apps',
      nodeName: 'node-1',
      azureIdentityRef: { metadata: { name: 'reader' }, spec: { clientID: '11111111-1111-1111-1111-111111111111' } },
    });
    expect(obj.status).toEqual({ status: 'Assigned' });
  });
});

describe("taking over MIC's leftover AzureAssignedIdentity objects", () => {
  const foreign = (name: string, over: Partial<ForeignAssignment> = {}): ForeignAssignment => ({
    name,
    namespace: 'apps',
    nodeName: 'node-1',
    labels: { nodename: 'node-1' },
    finalizers: ['azureassignedidentity.finalizers.aadpodidentity.k8s.io'],
    ...over,
  });
  const desired = desiredAssignments([pod('a', { aadpodidbinding: 'reader' })], store(), { forceNamespaced: false });

  it("adopts what a pod still needs, deletes the rest, and leaves podid's own and other nodes' objects alone", () => {
    const plan = planTakeover(
      [
        foreign('a-apps-reader'), // still needed: adopt
        foreign('gone-apps-reader'), // its pod is gone: delete
        foreign('b-apps-reader', { nodeName: 'node-2', labels: { nodename: 'node-2' } }), // another node's
        foreign('c-apps-reader', { labels: { 'podid.io/node': 'node-1' } }), // podid's own
        foreign('d-apps-reader', { nodeName: undefined }), // MIC's label alone names the node
      ],
      desired,
      'node-1',
    );
    expect(plan.adopt.map((f) => f.name)).toEqual(['a-apps-reader']);
    expect(plan.remove.map((f) => f.name)).toEqual(['gone-apps-reader', 'd-apps-reader']);
  });

  it("adoption adds podid's labels (to MIC's, or as new labels) and clears the finalizers", () => {
    expect(adoptionPatch(foreign('a'), 'node-1')).toEqual([
      { op: 'add', path: '/metadata/labels/podid.io~1node', value: 'node-1' },
      { op: 'add', path: '/metadata/labels/app.kubernetes.io~1managed-by', value: 'podid-nmi' },
      { op: 'add', path: '/metadata/finalizers', value: [] },
    ]);
    expect(adoptionPatch(foreign('a', { labels: {} }), 'node-1')[0]).toEqual({
      op: 'add',
      path: '/metadata/labels',
      value: { 'podid.io/node': 'node-1', 'app.kubernetes.io/managed-by': 'podid-nmi' },
    });
  });
});

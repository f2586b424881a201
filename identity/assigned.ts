// AzureAssignedIdentity objects as podid writes them: aad-pod-identity's names and shape, podid's labels. NMI
// writes them in managed mode (always Assigned), the controller in standard mode (Created, then Assigned once ARM
// has put the identity on the node).

import { createHash } from 'node:crypto';
import type { AssignedStatus, AzureIdentity, AzureIdentityBinding } from './crds.ts';

/** The node an object is for: NMI watches its own node's objects by it. */
export const NODE_LABEL = 'podid.io/node';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

/** One pod's use of one identity through one binding. */
export interface Assignment<P extends { name: string; namespace: string } = { name: string; namespace: string }> {
  name: string;
  namespace: string;
  pod: P;
  identity: AzureIdentity;
  binding: AzureIdentityBinding;
}

/** aad-pod-identity's `<pod>-<namespace>-<identity>`, shortened with a hash when over 253 characters. */
export function assignmentName(pod: string, podNamespace: string, identity: string): string {
  const full = `${pod}-${podNamespace}-${identity}`.toLowerCase();
  if (full.length <= 253) return full;
  return `${full.slice(0, 240)}-${createHash('sha256').update(full).digest('hex').slice(0, 12)}`;
}

/** The AzureAssignedIdentity object for an assignment, in aad-pod-identity's shape. */
export function assignmentObject(a: Assignment, nodeName: string, status: AssignedStatus = 'Assigned', manager = 'podid-nmi'): Record<string, unknown> {
  const ref = (kind: string, o: { name: string; namespace: string }, spec: Record<string, unknown>) => ({
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind,
    metadata: { name: o.name, namespace: o.namespace },
    spec,
  });
  const { name: _n, namespace: _ns, namespaced: _b, ...identitySpec } = a.identity;
  return {
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzureAssignedIdentity',
    metadata: { name: a.name, namespace: a.namespace, labels: { [NODE_LABEL]: nodeName, [MANAGED_BY_LABEL]: manager } },
    spec: {
      azureIdentityRef: ref('AzureIdentity', a.identity, identitySpec),
      azureBindingRef: ref('AzureIdentityBinding', a.binding, { azureIdentity: a.binding.azureIdentity, selector: a.binding.selector }),
      pod: a.pod.name,
      podNamespace: a.pod.namespace,
      nodeName,
    },
    status: { status },
  };
}

/** The JSON Patch that makes an adopted object (MIC's) podid's: `manager`'s labels, and no finalizers. */
export function adoptionPatch(f: { labels: Readonly<Record<string, string>> }, nodeName: string, manager = 'podid-nmi'): Array<Record<string, unknown>> {
  const labels = { [NODE_LABEL]: nodeName, [MANAGED_BY_LABEL]: manager };
  const pointer = (key: string) => `/metadata/labels/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
  // JSON Patch cannot add into a labels map that is not there.
  const labelOps = Object.keys(f.labels).length
    ? Object.entries(labels).map(([k, v]) => ({ op: 'add', path: pointer(k), value: v }))
    : [{ op: 'add', path: '/metadata/labels', value: labels }];
  return [...labelOps, { op: 'add', path: '/metadata/finalizers', value: [] }];
}

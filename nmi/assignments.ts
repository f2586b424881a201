// AzureAssignedIdentity bookkeeping, pure: which objects should exist for the pods NMI serves on its node
// (managed mode: identities count as assigned to the node pool, status Assigned), and what to create or
// delete to get there from what the cluster holds.

import { createHash } from 'node:crypto';
import type { AzureIdentity, AzureIdentityBinding } from '../identity/crds.ts';
import { resolvePod, type MatchOptions } from '../identity/match.ts';
import type { IdentityStore } from './identity-store.ts';
import type { NodePod } from './pod-index.ts';

export const NODE_LABEL = 'podid.io/node';

export interface Assignment {
  name: string;
  namespace: string;
  pod: NodePod;
  identity: AzureIdentity;
  binding: AzureIdentityBinding;
}

export interface ExistingAssignment {
  name: string;
  namespace: string;
}

/** aad-pod-identity's `<pod>-<namespace>-<identity>`, shortened with a hash when over 253 characters. */
export function assignmentName(pod: string, podNamespace: string, identity: string): string {
  const full = `${pod}-${podNamespace}-${identity}`.toLowerCase();
  if (full.length <= 253) return full;
  return `${full.slice(0, 240)}-${createHash('sha256').update(full).digest('hex').slice(0, 12)}`;
}

export function desiredAssignments(pods: Iterable<NodePod>, store: IdentityStore, opts: MatchOptions): Assignment[] {
  const out: Assignment[] = [];
  for (const pod of pods) {
    const r = resolvePod(pod, store.objectsFor(pod), opts);
    if (r.kind !== 'matched') continue;
    for (const { identity, binding } of r.identities) {
      out.push({ name: assignmentName(pod.name, pod.namespace, identity.name), namespace: pod.namespace, pod, identity, binding });
    }
  }
  return out;
}

export function planAssignments(
  desired: readonly Assignment[],
  existing: readonly ExistingAssignment[],
): { create: Assignment[]; remove: ExistingAssignment[] } {
  const key = (o: { namespace: string; name: string }) => `${o.namespace}/${o.name}`;
  const want = new Set(desired.map(key));
  const have = new Set(existing.map(key));
  return { create: desired.filter((a) => !have.has(key(a))), remove: existing.filter((e) => !want.has(key(e))) };
}

/** The AzureAssignedIdentity object for an assignment, in aad-pod-identity's shape. */
export function assignmentObject(a: Assignment, nodeName: string): Record<string, unknown> {
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
    metadata: { name: a.name, namespace: a.namespace, labels: { [NODE_LABEL]: nodeName, 'app.kubernetes.io/managed-by': 'podid-nmi' } },
    spec: {
      azureIdentityRef: ref('AzureIdentity', a.identity, identitySpec),
      azureBindingRef: ref('AzureIdentityBinding', a.binding, { azureIdentity: a.binding.azureIdentity, selector: a.binding.selector }),
      pod: a.pod.name,
      podNamespace: a.pod.namespace,
      nodeName,
    },
    status: { status: 'Assigned' },
  };
}

/** An AzureAssignedIdentity as the cluster holds it, for taking over MIC's leftovers. */
export interface ForeignAssignment {
  name: string;
  namespace: string;
  /** spec.nodename (MIC's spelling) or spec.nodeName. */
  nodeName?: string;
  labels: Record<string, string>;
  finalizers: string[];
}

/**
 * MIC's leftovers on this node (objects podid did not write: no podid.io/node label), on NMI's start: adopt the
 * ones a pod still needs (add podid's labels, drop MIC's finalizers), and delete the rest after dropping their
 * finalizers, since no MIC is left to honour them. Objects of other nodes are left to their own NMI.
 */
export function planTakeover(
  foreign: readonly ForeignAssignment[],
  desired: readonly Assignment[],
  nodeName: string,
): { adopt: ForeignAssignment[]; remove: ForeignAssignment[] } {
  const want = new Set(desired.map((a) => `${a.namespace}/${a.name}`));
  const mine = foreign.filter((f) => f.labels[NODE_LABEL] === undefined && (f.nodeName === nodeName || f.labels.nodename === nodeName));
  return {
    adopt: mine.filter((f) => want.has(`${f.namespace}/${f.name}`)),
    remove: mine.filter((f) => !want.has(`${f.namespace}/${f.name}`)),
  };
}

/** The JSON Patch that makes an adopted object podid's: its labels, and no finalizers. */
export function adoptionPatch(f: ForeignAssignment, nodeName: string): Array<Record<string, unknown>> {
  const labels = { [NODE_LABEL]: nodeName, 'app.kubernetes.io/managed-by': 'podid-nmi' };
  const pointer = (key: string) => `/metadata/labels/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
  const labelOps = Object.keys(f.labels).length
    ? Object.entries(labels).map(([k, v]) => ({ op: 'add', path: pointer(k), value: v }))
    : [{ op: 'add', path: '/metadata/labels', value: labels }];
  return [...labelOps, { op: 'add', path: '/metadata/finalizers', value: [] }];
}

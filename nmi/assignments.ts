// AzureAssignedIdentity bookkeeping, pure: which objects should exist for the pods NMI serves on its node
// (managed mode: identities count as assigned to the node pool, status Assigned), and what to create or
// delete to get there from what the cluster holds.

import { assignmentName, NODE_LABEL, type Assignment as AssignmentOf } from '../identity/assigned.ts';
import { resolvePod, type MatchOptions } from '../identity/match.ts';
import type { IdentityStore } from '../identity/store.ts';
import type { NodePod } from './pod-index.ts';

export type Assignment = AssignmentOf<NodePod>;

export interface ExistingAssignment {
  name: string;
  namespace: string;
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

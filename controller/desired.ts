// What standard mode wants, pure: for every pod scheduled on a node, the identities it matches (the same
// resolution NMI uses); per scale set or VM, the type 0 identities its nodes' pods need; and, once ARM's state is
// known, each AzureAssignedIdentity's status.

import { assignmentName, type Assignment } from '../identity/assigned.ts';
import { IdentityType, type AssignedStatus, type PodRef } from '../identity/crds.ts';
import { resolvePod, type MatchOptions } from '../identity/match.ts';
import type { IdentityStore } from '../identity/store.ts';
import type { ArmTarget } from './arm-target.ts';
import { idKey } from './plan.ts';

export interface ScheduledPod extends PodRef {
  uid: string;
  nodeName: string;
}

export interface PlannedAssignment extends Assignment<ScheduledPod> {
  /** The scale set or VM the pod's node is (type 0 only; undefined when the node cannot be mapped). */
  target?: ArmTarget;
}

export interface Desired {
  assignments: PlannedAssignment[];
  /** Per target key: the target and the identity resource ids its pods need. */
  targets: Map<string, { target: ArmTarget; identities: Set<string> }>;
  /** Type 0 identities that cannot be assigned, with why: a node without an Azure provider ID, no resourceID. */
  problems: Array<{ assignment: PlannedAssignment; reason: string }>;
}

/** Whether ARM has to put this identity on the pod's node before it can serve (type 0, standard mode). */
export const needsArm = (a: { identity: { type: number } }): boolean => a.identity.type === IdentityType.UserAssignedMSI;

export function desiredState(
  pods: Iterable<ScheduledPod>,
  store: IdentityStore,
  nodes: ReadonlyMap<string, ArmTarget | { error: string }>,
  opts: MatchOptions,
): Desired {
  const out: Desired = { assignments: [], targets: new Map(), problems: [] };
  for (const pod of pods) {
    const r = resolvePod(pod, store.objectsFor(pod), opts);
    if (r.kind !== 'matched') continue;
    for (const { identity, binding } of r.identities) {
      const a: PlannedAssignment = { name: assignmentName(pod.name, pod.namespace, identity.name), namespace: pod.namespace, pod, identity, binding };
      out.assignments.push(a);
      if (!needsArm(a)) continue;
      const node = nodes.get(pod.nodeName);
      if (!node) {
        out.problems.push({ assignment: a, reason: `node ${pod.nodeName} is not known yet` });
        continue;
      }
      if ('error' in node) {
        out.problems.push({ assignment: a, reason: `node ${pod.nodeName}: ${node.error}` });
        continue;
      }
      if (!identity.resourceID) {
        out.problems.push({ assignment: a, reason: `AzureIdentity ${identity.namespace}/${identity.name} has no resourceID, which ARM needs to assign it` });
        continue;
      }
      a.target = node;
      const entry = out.targets.get(node.key) ?? { target: node, identities: new Set<string>() };
      entry.identities.add(identity.resourceID);
      out.targets.set(node.key, entry);
    }
  }
  return out;
}

/** Assigned once ARM shows the identity on the node's scale set or VM (types 1–3 need nothing from ARM). */
export function assignmentStatus(a: PlannedAssignment, onTarget: (targetKey: string) => ReadonlySet<string> | undefined): AssignedStatus {
  if (!needsArm(a)) return 'Assigned';
  if (!a.target || !a.identity.resourceID) return 'Created';
  return onTarget(a.target.key)?.has(idKey(a.identity.resourceID)) ? 'Assigned' : 'Created';
}

export interface ExistingRecord {
  name: string;
  namespace: string;
  status?: string;
  /** Carries podid's labels and no finalizers (anything else is MIC's, to adopt or delete). */
  ours: boolean;
  /** Its labels (an adopted object keeps them). */
  labels?: Readonly<Record<string, string>>;
  finalizers: number;
}

export interface RecordPlan {
  create: Array<{ assignment: PlannedAssignment; status: AssignedStatus }>;
  /** Existing objects whose status (or, for MIC's, labels and finalizers) must change. */
  update: Array<{ assignment: PlannedAssignment; status: AssignedStatus; adopt: boolean }>;
  remove: ExistingRecord[];
}

/** AzureAssignedIdentity objects: what to create, update and delete to match the desired assignments. */
export function planRecords(
  desired: ReadonlyArray<{ assignment: PlannedAssignment; status: AssignedStatus }>,
  existing: readonly ExistingRecord[],
): RecordPlan {
  const key = (o: { namespace: string; name: string }) => `${o.namespace}/${o.name}`;
  const have = new Map(existing.map((e) => [key(e), e]));
  const want = new Set(desired.map((d) => key(d.assignment)));
  const plan: RecordPlan = { create: [], update: [], remove: existing.filter((e) => !want.has(key(e))) };
  for (const d of desired) {
    const e = have.get(key(d.assignment));
    if (!e) plan.create.push(d);
    else if (!e.ours || e.status !== d.status) plan.update.push({ ...d, adopt: !e.ours });
  }
  return plan;
}

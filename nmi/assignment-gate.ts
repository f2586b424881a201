// Standard mode: a type 0 identity serves a pod only once podid-controller has put it on the node's scale set or
// VM, which its AzureAssignedIdentity says (status Assigned). NMI waits for that, bounded, and otherwise answers
// 503 with Retry-After naming the stage, instead of asking IMDS too early and relaying "Identity not found".

import { HttpError } from '../common/http-error.ts';
import { Waiters } from '../common/waiters.ts';
import { assignmentName } from '../identity/assigned.ts';
import { IdentityType, type AzureIdentity } from '../identity/crds.ts';

export interface AssignmentGate {
  /** Resolves when `identity` may be asked for on behalf of `pod`; throws HttpError 503 otherwise. */
  wait(pod: { name: string; namespace: string }, identity: AzureIdentity): Promise<void>;
}

/** This node's AzureAssignedIdentity statuses by namespace/name, with waiters for a status to become Assigned. */
export class AssignmentStates {
  private readonly statuses = new Map<string, string>();
  private readonly waiters = new Waiters<string>();

  set(namespace: string, name: string, status: string | undefined): void {
    const key = `${namespace}/${name}`;
    this.statuses.set(key, status ?? '');
    if (status === 'Assigned') this.waiters.wake(key, status);
  }

  remove(namespace: string, name: string): void {
    this.statuses.delete(`${namespace}/${name}`);
  }

  /** The status once Assigned, or whatever it is after `timeoutMs` (undefined: no object). */
  async waitAssigned(namespace: string, name: string, timeoutMs: number): Promise<string | undefined> {
    const key = `${namespace}/${name}`;
    if (this.statuses.get(key) === 'Assigned' || timeoutMs <= 0) return this.statuses.get(key);
    await this.waiters.wait(key, timeoutMs);
    return this.statuses.get(key);
  }
}

export function standardModeGate(states: AssignmentStates, waitMs: number): AssignmentGate {
  return {
    async wait(pod, identity) {
      if (identity.type !== IdentityType.UserAssignedMSI) return;
      const name = assignmentName(pod.name, pod.namespace, identity.name);
      const status = await states.waitAssigned(pod.namespace, name, waitMs);
      if (status === 'Assigned') return;
      const who = `AzureIdentity ${identity.namespace}/${identity.name}`;
      const message = status
        ? `${who} is not on this node yet: AzureAssignedIdentity ${pod.namespace}/${name} is ${status} (podid-controller is assigning it through ARM; waited ${waitMs} ms); retry`
        : `${who} is not on this node yet: no AzureAssignedIdentity ${pod.namespace}/${name} (podid-controller, --mode=standard, has not planned it; waited ${waitMs} ms); retry`;
      throw new HttpError(503, 'identity_not_assigned', message, { retryAfterSeconds: 5 });
    },
  };
}

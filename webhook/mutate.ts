// /mutate: an admission request in, an admission response out. No I/O.

import { allow, deny, isPodRequest, patchResponse, type AdmissionRequest, type AdmissionResponse } from './admission.ts';
import { planInjection, type InjectionOutcome } from './inject.ts';
import type { InjectionConfig } from './injection-config.ts';
import { displayName, podName, type Pod } from '../podspec/pod.ts';
import type { IdentityHints } from './identity-hints.ts';
import { readPodShape } from '../podspec/read-pod.ts';
import { bothModelsWarning } from '../podspec/workload-identity.ts';
import type { WorkloadIdentityOutcome } from './workload-identity-inject.ts';

export type MutateOutcome = InjectionOutcome | WorkloadIdentityOutcome | 'ignored' | 'invalid' | 'unavailable';

export interface MutateResult {
  response: AdmissionResponse;
  outcome: MutateOutcome;
  /** For logs: namespace/name (or generateName*) of the pod. */
  subject: string;
}

/**
 * What both mutating endpoints admit: a Pod being created, read into the shape podid needs; anything else is
 * allowed untouched, and a pod that cannot be read is denied naming the field.
 */
export function createdPod(req: AdmissionRequest): { pod: Pod } | MutateResult {
  const subject = `${req.namespace}/${req.name ?? ''}`;
  if (!isPodRequest(req) || req.subResource || req.operation !== 'CREATE') return { response: allow(req.uid), outcome: 'ignored', subject };
  const read = readPodShape(req.object);
  if (!read.ok) return { response: deny(req.uid, 400, `podid could not read the pod: ${read.message}`), outcome: 'invalid', subject };
  return { pod: read.pod };
}

/** `hints`, when the webhook has the identity objects: a warning for a labeled pod podid will not serve. */
export function mutate(req: AdmissionRequest, cfg: InjectionConfig, newSecret: () => string, hints?: IdentityHints): MutateResult {
  const read = createdPod(req);
  if (!('pod' in read)) return read;
  const plan = planInjection(read.pod, cfg, newSecret);
  const meta = read.pod.metadata;
  const labels = meta?.labels ?? {};
  const hint = hints?.({ name: podName(meta), namespace: req.namespace, labels });
  const bothModels = bothModelsWarning(labels);
  const warnings = [...plan.warnings, ...(hint ? [hint] : []), ...(bothModels ? [bothModels] : [])];
  return {
    response: patchResponse(req.uid, plan.patch, warnings),
    outcome: plan.outcome,
    subject: displayName(read.pod.metadata, req.namespace),
  };
}

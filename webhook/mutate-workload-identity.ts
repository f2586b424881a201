// /mutate-workload-identity: azure-workload-identity's pods (the use label, selected by the webhook
// configuration's objectSelector) get what azwi's webhook gives them. The one I/O is reading the pod's
// ServiceAccount, passed in; the rest is workload-identity-inject.ts.

import { deny, patchResponse, type AdmissionRequest } from './admission.ts';
import type { InjectionConfig } from './injection-config.ts';
import { createdPod, type MutateResult } from './mutate.ts';
import { displayName } from '../podspec/pod.ts';
import { bothModelsWarning, usesWorkloadIdentity } from '../podspec/workload-identity.ts';
import type { ServiceAccountReader } from './service-accounts.ts';
import { planWorkloadIdentity, serviceAccountName, type WorkloadIdentityConfig } from './workload-identity-inject.ts';

export interface WorkloadIdentityDeps {
  wi: WorkloadIdentityConfig;
  injection: InjectionConfig;
  newSecret: () => string;
  serviceAccounts: ServiceAccountReader;
}

export async function mutateWorkloadIdentity(req: AdmissionRequest, deps: WorkloadIdentityDeps): Promise<MutateResult> {
  const read = createdPod(req);
  if (!('pod' in read)) return read;
  const pod = read.pod;
  const named = displayName(pod.metadata, req.namespace);
  const labels = pod.metadata?.labels ?? {};
  let sa;
  if (usesWorkloadIdentity(labels)) {
    const saName = serviceAccountName(pod);
    try {
      sa = await deps.serviceAccounts(req.namespace, saName);
    } catch (err) {
      // Fail closed: without the ServiceAccount the pod would start without its identity. The apiserver retries.
      const reason = (err as Error).message.slice(0, 200);
      return {
        response: deny(req.uid, 503, `podid could not read ServiceAccount ${req.namespace}/${saName} for workload identity (${reason}); retry`),
        outcome: 'unavailable',
        subject: named,
      };
    }
  }
  const plan = planWorkloadIdentity(pod, req.namespace, sa, deps.wi, deps.injection, deps.newSecret);
  if (!plan.ok) return { response: deny(req.uid, 400, `podid (workload identity): ${plan.message}`), outcome: 'invalid', subject: named };
  const both = bothModelsWarning(labels);
  return { response: patchResponse(req.uid, plan.patch, [...plan.warnings, ...(both ? [both] : [])]), outcome: plan.outcome, subject: named };
}

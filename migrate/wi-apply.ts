// `podid migrate workload-identity --apply`: the plan's ServiceAccount annotations and pod-template labels, as JSON
// merge patches through the apiserver. Only Kubernetes objects; never Azure (the federated credentials are printed
// for the operator to create). What the plan warns about is left alone: a ServiceAccount two identities would need,
// and the workloads that use it; a bare pod (it must be recreated).

import type { KubeClient } from '../common/kube-client.ts';
import { conflictedServiceAccounts, type Patch, type WiPlan } from './workload-identity.ts';

export interface Applied {
  patch: Patch;
  result: 'patched' | 'skipped' | 'failed';
  reason?: string;
}

const pathOf = (p: Patch): string => {
  const [group, version, resource] = p.target.resource.split('/').length === 3 ? p.target.resource.split('/') : ['', ...p.target.resource.split('/')];
  const root = group ? `/apis/${group}/${version}` : `/api/${version}`;
  return `${root}/namespaces/${encodeURIComponent(p.target.namespace)}/${resource}/${encodeURIComponent(p.target.name)}`;
};

export async function applyPlan(kube: KubeClient, plan: WiPlan): Promise<Applied[]> {
  const conflicted = conflictedServiceAccounts(plan);
  const out: Applied[] = [];
  for (const move of plan.moves)
    for (const patch of move.patches) {
      if (patch.manual) {
        out.push({ patch, result: 'skipped', reason: patch.manual });
        continue;
      }
      if (conflicted.has(patch.serviceAccount)) {
        out.push({ patch, result: 'skipped', reason: `ServiceAccount ${patch.serviceAccount} would need several identities` });
        continue;
      }
      try {
        await kube.request('PATCH', pathOf(patch), { body: patch.mergePatch, contentType: 'application/merge-patch+json' });
        out.push({ patch, result: 'patched' });
      } catch (err) {
        out.push({ patch, result: 'failed', reason: (err as Error).message });
      }
    }
  return out;
}

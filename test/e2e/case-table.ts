// Drives every row of the shared NET_RAW case table through the real apiserver (dry run), whatever
// enforces the rule there: podid's webhook or an exported policy.

import { netRawCases, type NetRawCase } from '../netraw-cases.ts';
import type { ClusterInfo } from './global-setup.ts';
import { api } from './kube.ts';

const RESOURCES: Record<string, string> = {
  Pod: 'pods',
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
  ReplicaSet: 'replicasets',
  ReplicationController: 'replicationcontrollers',
  Job: 'jobs',
  CronJob: 'cronjobs',
};

/** Submits one row; ephemeral containers go through the subresource, as they cannot be set on create. */
async function submit(cluster: ClusterInfo, ns: string, row: NetRawCase): Promise<{ status: number; body: any }> {
  const base = row.kind.group ? `/apis/${row.kind.group}/v1` : '/api/v1';
  const object: Record<string, any> = {
    ...row.object,
    metadata: { ...(row.object.metadata as object), name: undefined, generateName: 'case-' },
  };
  const spec: Record<string, unknown> = object.spec;
  if (!spec.ephemeralContainers) return api(cluster, 'POST', `${base}/namespaces/${ns}/${RESOURCES[row.kind.kind]}?dryRun=All`, object);
  const { ephemeralContainers, ...rest } = spec;
  const created = await api(cluster, 'POST', `${base}/namespaces/${ns}/pods`, { ...object, spec: rest });
  const path = `${base}/namespaces/${ns}/pods/${created.body.metadata.name}`;
  // On the real node the scheduler and the kubelet write the pod's status meanwhile, so the update is made
  // against the pod as it is now, again on a 409 conflict.
  let current = created;
  for (let attempt = 1; ; attempt++) {
    const withDebug = { ...current.body, spec: { ...current.body.spec, ephemeralContainers } };
    const res = await api(cluster, 'PUT', `${path}/ephemeralcontainers?dryRun=All`, withDebug);
    if (res.status !== 409 || attempt === 5) return res;
    current = await api(cluster, 'GET', path);
  }
}

/**
 * Returns one line per row where the apiserver's answer disagrees with the table; `denialCheck` may add a
 * complaint about a denial's message.
 */
export async function disagreementsWithTable(
  cluster: ClusterInfo,
  ns: string,
  denialCheck: (row: NetRawCase, message: string) => string | undefined,
): Promise<string[]> {
  const out: string[] = [];
  for (const row of netRawCases) {
    const res = await submit(cluster, row.namespace === 'kube-system' ? 'kube-system' : ns, row);
    const allowed = res.status === 200 || res.status === 201;
    const message = String(res.body?.message ?? '');
    if (row.apiserverRejects) {
      if (allowed) out.push(`${row.name}: the apiserver was expected to refuse it itself`);
    } else if (allowed !== row.allowed) {
      out.push(`${row.name}: apiserver said ${res.status} ${message}`);
    } else if (!allowed) {
      const complaint = denialCheck(row, message);
      if (complaint) out.push(`${row.name}: ${complaint}`);
    }
  }
  return out;
}

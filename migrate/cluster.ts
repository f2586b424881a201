// Reads what `podid migrate check` and `podid migrate workload-identity` need from a cluster, read-only, through
// podid's own client: pods and the workloads that carry pod templates, the aad-pod-identity objects, the keys (never
// the values it does not need) of the Secrets type 1 identities name, and the command lines of MIC and NMI.

import type { KubeClient } from '../common/kube-client.ts';
import { API_GROUP, API_VERSION } from '../identity/crds.ts';
import { parseAzureIdentity } from '../identity/parse.ts';
import type { ClusterSnapshot } from './check.ts';

/** The kinds the webhooks check (podspec/workloads.ts), as the API lists them; each item gets its apiVersion and kind. */
const WORKLOAD_LISTS: [path: string, apiVersion: string, kind: string][] = [
  ['/api/v1/pods', 'v1', 'Pod'],
  ['/api/v1/replicationcontrollers', 'v1', 'ReplicationController'],
  ['/apis/apps/v1/deployments', 'apps/v1', 'Deployment'],
  ['/apis/apps/v1/statefulsets', 'apps/v1', 'StatefulSet'],
  ['/apis/apps/v1/daemonsets', 'apps/v1', 'DaemonSet'],
  ['/apis/apps/v1/replicasets', 'apps/v1', 'ReplicaSet'],
  ['/apis/batch/v1/jobs', 'batch/v1', 'Job'],
  ['/apis/batch/v1/cronjobs', 'batch/v1', 'CronJob'],
];

type Obj = Record<string, any>;

/** Every pod and workload in the cluster, as the API returns them with apiVersion and kind. */
export async function readWorkloads(kube: KubeClient): Promise<Obj[]> {
  const lists = await Promise.all(
    WORKLOAD_LISTS.map(async ([path, apiVersion, kind]) => (await kube.list<Obj>(path)).items.map((o) => ({ apiVersion, kind, ...o }))),
  );
  return lists.flat();
}

/** The aad-pod-identity objects of one kind (plural), in every namespace. */
export const readCustomResources = async (kube: KubeClient, plural: string): Promise<unknown[]> =>
  (await kube.list(`/apis/${API_GROUP}/${API_VERSION}/${plural}`)).items;

/** MIC and NMI are aad-pod-identity's images (mcr.microsoft.com/oss/azure/aad-pod-identity/{mic,nmi}). */
const isAadPodIdentity = (c: Obj) => /aad-pod-identity\/(mic|nmi)/.test(String(c.image ?? ''));

export async function readCluster(kube: KubeClient, exemptNamespaces: string[]): Promise<ClusterSnapshot> {
  const [workloads, identities, bindings] = await Promise.all([
    readWorkloads(kube),
    readCustomResources(kube, 'azureidentities'),
    readCustomResources(kube, 'azureidentitybindings'),
  ]);
  const secrets = new Map<string, Record<string, Buffer>>();
  for (const raw of identities) {
    const parsed = parseAzureIdentity(raw);
    const ref = parsed.ok && parsed.value.type === 1 ? parsed.value.clientPassword : undefined;
    if (!ref) continue;
    try {
      const secret = await kube.request<{ data?: Record<string, string> }>(
        'GET',
        `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/secrets/${encodeURIComponent(ref.name)}`,
      );
      secrets.set(`${ref.namespace}/${ref.name}`, Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])));
    } catch {
      // A Secret that is missing (or not readable) is checkMigration's finding to make, not a failure to read the cluster.
    }
  }
  const aadPodIdentityFlags = workloads
    .filter((w) => w.kind === 'Deployment' || w.kind === 'DaemonSet')
    .flatMap((w) => (w.spec?.template?.spec?.containers ?? []) as Obj[])
    .filter(isAadPodIdentity)
    .flatMap((c) => [...((c.args ?? []) as string[]), ...((c.command ?? []) as string[]).filter((a) => a.startsWith('-'))]);
  return { workloads, identities, bindings, secrets, aadPodIdentityFlags, exemptNamespaces };
}

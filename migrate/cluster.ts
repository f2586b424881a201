// Reads what `podid migrate check` needs from a cluster, read-only: pods and workloads, the aad-pod-identity
// objects, the keys (never the values it does not need) of the Secrets type 1 identities name, and the
// command lines of MIC and NMI.

import { AppsV1Api, BatchV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Container } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION } from '../identity/crds.ts';
import { parseAzureIdentity } from '../identity/parse.ts';
import type { ClusterSnapshot } from './check.ts';

const withKind = (apiVersion: string, kind: string) => (items: object[]) => items.map((o) => ({ apiVersion, kind, ...o }));

/** MIC and NMI are aad-pod-identity's images (mcr.microsoft.com/oss/azure/aad-pod-identity/{mic,nmi}). */
const isAadPodIdentity = (c: V1Container) => /aad-pod-identity\/(mic|nmi)/.test(c.image ?? '');

export async function readCluster(kc: KubeConfig, exemptNamespaces: string[]): Promise<ClusterSnapshot> {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const crs = async (plural: string) =>
    ((await custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural })) as { items: unknown[] }).items;
  const [pods, deployments, statefulsets, daemonsets, replicasets, jobs, cronjobs, rcs, identities, bindings] = await Promise.all([
    core.listPodForAllNamespaces().then((l) => withKind('v1', 'Pod')(l.items)),
    apps.listDeploymentForAllNamespaces().then((l) => withKind('apps/v1', 'Deployment')(l.items)),
    apps.listStatefulSetForAllNamespaces().then((l) => withKind('apps/v1', 'StatefulSet')(l.items)),
    apps.listDaemonSetForAllNamespaces().then((l) => withKind('apps/v1', 'DaemonSet')(l.items)),
    apps.listReplicaSetForAllNamespaces().then((l) => withKind('apps/v1', 'ReplicaSet')(l.items)),
    batch.listJobForAllNamespaces().then((l) => withKind('batch/v1', 'Job')(l.items)),
    batch.listCronJobForAllNamespaces().then((l) => withKind('batch/v1', 'CronJob')(l.items)),
    core.listReplicationControllerForAllNamespaces().then((l) => withKind('v1', 'ReplicationController')(l.items)),
    crs('azureidentities'),
    crs('azureidentitybindings'),
  ]);
  const secrets = new Map<string, Record<string, Buffer>>();
  for (const raw of identities) {
    const parsed = parseAzureIdentity(raw);
    const ref = parsed.ok && parsed.value.type === 1 ? parsed.value.clientPassword : undefined;
    if (!ref) continue;
    const secret = await core.readNamespacedSecret({ name: ref.name, namespace: ref.namespace }).catch(() => undefined);
    if (secret)
      secrets.set(`${ref.namespace}/${ref.name}`, Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])));
  }
  const aadPodIdentityFlags = [
    ...(await apps.listDeploymentForAllNamespaces()).items.flatMap((d) => d.spec?.template.spec?.containers ?? []),
    ...(await apps.listDaemonSetForAllNamespaces()).items.flatMap((d) => d.spec?.template.spec?.containers ?? []),
  ]
    .filter(isAadPodIdentity)
    .flatMap((c) => [...(c.args ?? []), ...(c.command ?? []).filter((a) => a.startsWith('-'))]);
  return {
    workloads: [...pods, ...deployments, ...statefulsets, ...daemonsets, ...replicasets, ...jobs, ...cronjobs, ...rcs],
    identities,
    bindings,
    secrets,
    aadPodIdentityFlags,
    exemptNamespaces,
  };
}

// What `podid migrate workload-identity` reads, read-only, through podid's own client: the workloads that carry pod
// templates (the kinds the webhooks check), the aad-pod-identity objects, the ServiceAccounts' annotations, and the
// cluster's service-account issuer (the apiserver's OIDC discovery document) unless one is given.

import type { KubeClient } from '../common/kube-client.ts';
import { API_GROUP, API_VERSION } from '../identity/crds.ts';
import type { WiSnapshot } from './workload-identity.ts';

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

async function listAs(kube: KubeClient, path: string, apiVersion: string, kind: string): Promise<object[]> {
  const { items } = await kube.list<object>(path);
  return items.map((o) => ({ apiVersion, kind, ...o }));
}

/** The issuer the apiserver signs service-account tokens as (--service-account-issuer), from its discovery document. */
export async function clusterIssuer(kube: KubeClient): Promise<string> {
  const doc = await kube.request<{ issuer?: unknown }>('GET', '/.well-known/openid-configuration');
  if (typeof doc.issuer !== 'string' || !doc.issuer) throw new Error('the discovery document names no issuer');
  return doc.issuer;
}

export async function readWiSnapshot(kube: KubeClient, issuer: string | undefined): Promise<WiSnapshot> {
  const crs = (plural: string) => kube.list<object>(`/apis/${API_GROUP}/${API_VERSION}/${plural}`).then((l) => l.items);
  const [workloads, identities, bindings, serviceAccounts, found] = await Promise.all([
    Promise.all(WORKLOAD_LISTS.map(([path, apiVersion, kind]) => listAs(kube, path, apiVersion, kind))).then((lists) => lists.flat()),
    crs('azureidentities'),
    crs('azureidentitybindings'),
    kube.list<{ metadata?: { namespace?: string; name?: string; annotations?: Record<string, string> } }>('/api/v1/serviceaccounts'),
    issuer ? Promise.resolve(issuer) : clusterIssuer(kube),
  ]);
  return {
    workloads,
    identities,
    bindings,
    serviceAccounts: new Map(serviceAccounts.items.map((sa) => [`${sa.metadata?.namespace}/${sa.metadata?.name}`, sa.metadata?.annotations ?? {}])),
    issuer: found,
  };
}

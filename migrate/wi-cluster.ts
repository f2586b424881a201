// What `podid migrate workload-identity` reads, read-only: what cluster.ts reads for `migrate check` (workloads and
// the aad-pod-identity objects), the ServiceAccounts' annotations, and the cluster's service-account issuer (the
// apiserver's OIDC discovery document) unless one is given.

import type { KubeClient } from '../common/kube-client.ts';
import { readCustomResources, readWorkloads } from './cluster.ts';
import type { WiSnapshot } from './workload-identity.ts';

/** The issuer the apiserver signs service-account tokens as (--service-account-issuer), from its discovery document. */
export async function clusterIssuer(kube: KubeClient): Promise<string> {
  const doc = await kube.request<{ issuer?: unknown }>('GET', '/.well-known/openid-configuration');
  if (typeof doc.issuer !== 'string' || !doc.issuer) throw new Error('the discovery document names no issuer');
  return doc.issuer;
}

export async function readWiSnapshot(kube: KubeClient, issuer: string | undefined): Promise<WiSnapshot> {
  const [workloads, identities, bindings, serviceAccounts, found] = await Promise.all([
    readWorkloads(kube),
    readCustomResources(kube, 'azureidentities'),
    readCustomResources(kube, 'azureidentitybindings'),
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

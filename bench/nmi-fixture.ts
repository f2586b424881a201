// A big node for the NMI benchmark: N identities (user-assigned, each its own client ID, all attached to the
// emulated node), one binding per identity, and pods spread over the bindings with their own IPs.

import { randomUUID } from 'node:crypto';
import type { AzureIdentity, AzureIdentityBinding } from '../identity/crds.ts';
import type { NodePod } from '../nmi/pod-index.ts';

export interface Fixture {
  identities: AzureIdentity[];
  bindings: AzureIdentityBinding[];
  pods: NodePod[];
}

export function bigNode(podCount: number, identityCount: number): Fixture {
  const identities: AzureIdentity[] = [];
  const bindings: AzureIdentityBinding[] = [];
  for (let i = 0; i < identityCount; i++) {
    const ns = `team-${i % 50}`;
    identities.push({ name: `id-${i}`, namespace: ns, namespaced: false, type: 0, clientID: randomUUID(), objectID: randomUUID() });
    bindings.push({ name: `id-${i}-binding`, namespace: ns, namespaced: false, azureIdentity: `id-${i}`, selector: `sel-${i}` });
  }
  const pods: NodePod[] = [];
  for (let p = 0; p < podCount; p++) {
    const ip = `10.${(p >> 16) & 255}.${(p >> 8) & 255}.${p & 255}`;
    pods.push({
      name: `pod-${p}`,
      namespace: `team-${p % 50}`,
      uid: randomUUID(),
      labels: { app: `app-${p % 200}`, aadpodidbinding: `sel-${p % identityCount}` },
      ips: [ip],
      serviceAccount: 'default',
      hostNetwork: false,
    });
  }
  return { identities, bindings, pods };
}

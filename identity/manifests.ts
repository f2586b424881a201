// The objects `podid identity create` and `podid exception add` write, as aad-pod-identity's docs write them
// (camelCase), and the table `podid identity list` prints: which pods each identity serves. Pure.

import { API_GROUP_VERSION, BINDING_LABEL, IdentityType, type AzureIdentity, type AzureIdentityBinding, type PodRef } from './crds.ts';
import { resolvePod, type IdentityObjects, type MatchOptions } from './match.ts';

export const CREATED_BY = { 'app.kubernetes.io/managed-by': 'podid-cli' };

export interface IdentitySpec {
  name: string;
  namespace: string;
  type: IdentityType;
  clientID?: string;
  resourceID?: string;
  tenantID?: string;
  /** Types 1 and 2: the Secret holding the client secret or certificate. */
  secret?: string;
  selector: string;
  bindingName?: string;
}

/** An error naming what a type needs, or undefined when the spec is complete. */
export function identitySpecProblem(s: IdentitySpec): string | undefined {
  if (s.type === IdentityType.UserAssignedMSI && !s.clientID && !s.resourceID)
    return '--type 0 needs --client-id or --resource-id (standard mode needs --resource-id)';
  if (s.type !== IdentityType.UserAssignedMSI && (!s.clientID || !s.tenantID)) return `--type ${s.type} needs --client-id and --tenant-id`;
  if ((s.type === IdentityType.ServicePrincipal || s.type === IdentityType.ServicePrincipalCertificate) && !s.secret)
    return `--type ${s.type} needs --secret, the Secret holding the ${s.type === 1 ? 'client secret' : 'certificate'}`;
  return undefined;
}

export function identityManifests(s: IdentitySpec): [Record<string, unknown>, Record<string, unknown>] {
  const meta = (name: string) => ({ name, namespace: s.namespace, labels: CREATED_BY });
  return [
    {
      apiVersion: API_GROUP_VERSION,
      kind: 'AzureIdentity',
      metadata: meta(s.name),
      spec: {
        type: s.type,
        ...(s.resourceID ? { resourceID: s.resourceID } : {}),
        ...(s.clientID ? { clientID: s.clientID } : {}),
        ...(s.tenantID ? { tenantID: s.tenantID } : {}),
        ...(s.secret ? { clientPassword: { name: s.secret, namespace: s.namespace } } : {}),
      },
    },
    {
      apiVersion: API_GROUP_VERSION,
      kind: 'AzureIdentityBinding',
      metadata: meta(s.bindingName ?? `${s.name}-binding`),
      spec: { azureIdentity: s.name, selector: s.selector },
    },
  ];
}

export function exceptionManifest(name: string, namespace: string, podLabels: Record<string, string>): Record<string, unknown> {
  return { apiVersion: API_GROUP_VERSION, kind: 'AzurePodIdentityException', metadata: { name, namespace, labels: CREATED_BY }, spec: { podLabels } };
}

export interface IdentityRow {
  identity: string;
  type: number;
  clientID: string;
  selectors: string[];
  pods: string[];
}

/** Each identity with the selectors that bind it and the labeled pods it serves (NMI's resolution). */
export function identityRows(objects: IdentityObjects, pods: readonly PodRef[], opts: MatchOptions): IdentityRow[] {
  const key = (o: { namespace: string; name: string }) => `${o.namespace}/${o.name}`;
  const served = new Map<string, string[]>();
  for (const pod of pods) {
    if (!pod.labels[BINDING_LABEL]) continue;
    const r = resolvePod(pod, objects, opts);
    if (r.kind !== 'matched') continue;
    for (const { identity } of r.identities) served.set(key(identity), [...(served.get(key(identity)) ?? []), key(pod)]);
  }
  return objects.identities
    .map((i: AzureIdentity) => ({
      identity: key(i),
      type: i.type,
      clientID: i.clientID ?? '',
      selectors: objects.bindings.filter((b: AzureIdentityBinding) => b.namespace === i.namespace && b.azureIdentity === i.name).map((b) => b.selector),
      pods: served.get(key(i)) ?? [],
    }))
    .sort((a, b) => a.identity.localeCompare(b.identity));
}

export function identityTable(rows: readonly IdentityRow[]): string {
  const cells = [
    ['IDENTITY', 'TYPE', 'CLIENTID', 'SELECTORS', 'PODS'],
    ...rows.map((r) => [r.identity, String(r.type), r.clientID || '-', r.selectors.join(',') || '-', podsCell(r.pods)]),
  ];
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  return cells.map((c) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

const podsCell = (pods: readonly string[]) => (pods.length === 0 ? '0' : `${pods.length} (${pods.slice(0, 3).join(', ')}${pods.length > 3 ? ', …' : ''})`);

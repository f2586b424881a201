// `kubectl get azureidentity,azureidentitybinding` columns for both field casings. A CRD's printer column reads
// one JSON path and cannot fall back from `.spec.clientID` to `.spec.ClientID`, and podid never rewrites a
// user's spec (GitOps tools would see drift). So the controller, the one writer, mirrors the parsed values into
// `.status` (a subresource: `kubectl apply` of the spec never touches it), and the columns read `.status`.
// Pure: what status an object should carry, and the JSON Patch that puts it there.

import type { AzureIdentity, AzureIdentityBinding } from '../identity/crds.ts';

export type ColumnStatus = Record<string, string | number>;

export function identityColumns(i: AzureIdentity): ColumnStatus {
  return { type: i.type, ...(i.clientID ? { clientID: i.clientID } : {}), ...(i.resourceID ? { resourceID: i.resourceID } : {}) };
}

export function bindingColumns(b: AzureIdentityBinding): ColumnStatus {
  return { azureIdentity: b.azureIdentity, selector: b.selector };
}

/** The JSON Patch bringing `.status` to carry `want` (other status fields kept), or undefined when it already does. */
export function columnsPatch(rawStatus: unknown, want: ColumnStatus): Array<Record<string, unknown>> | undefined {
  const status = rawStatus && typeof rawStatus === 'object' && !Array.isArray(rawStatus) ? (rawStatus as Record<string, unknown>) : undefined;
  if (!status) return [{ op: 'add', path: '/status', value: want }];
  const ops = Object.entries(want)
    .filter(([k, v]) => status[k] !== v)
    .map(([k, v]) => ({ op: 'add', path: `/status/${k}`, value: v }));
  return ops.length ? ops : undefined;
}

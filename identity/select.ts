// Choosing one identity among those a pod holds, by the selectors token requests carry
// (IMDS `client_id`, `object_id`, `msi_res_id`/`mi_res_id`; App Service `principal_id`).

import type { AzureIdentity } from './crds.ts';

export interface IdentitySelector {
  clientID?: string;
  objectID?: string;
  resourceID?: string;
}

export type Selection = { ok: true; identity: AzureIdentity } | { ok: false; reason: 'none' | 'ambiguous' | 'not-held'; message: string };

const same = (a: string | undefined, b: string | undefined): boolean => a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

function describe(sel: IdentitySelector): string {
  const parts: string[] = [];
  if (sel.clientID) parts.push(`client_id=${sel.clientID}`);
  if (sel.objectID) parts.push(`object_id=${sel.objectID}`);
  if (sel.resourceID) parts.push(`msi_res_id=${sel.resourceID}`);
  return parts.join(' and ');
}

const label = (i: AzureIdentity): string => `${i.namespace}/${i.name}${i.clientID ? ` (client_id ${i.clientID})` : ''}`;

/** Every selector given must match; with none given, the pod must hold exactly one identity. */
export function selectIdentity(held: readonly AzureIdentity[], sel: IdentitySelector): Selection {
  if (held.length === 0) return { ok: false, reason: 'none', message: 'the pod holds no identity' };
  const given = Boolean(sel.clientID || sel.objectID || sel.resourceID);
  if (!given) {
    if (held.length === 1) return { ok: true, identity: held[0]! };
    return {
      ok: false,
      reason: 'ambiguous',
      message: `the pod holds ${held.length} identities (${held.map(label).join(', ')}); pick one with client_id, object_id or msi_res_id`,
    };
  }
  const hit = held.find(
    (i) =>
      (!sel.clientID || same(i.clientID, sel.clientID)) &&
      (!sel.objectID || same(i.objectID, sel.objectID)) &&
      (!sel.resourceID || same(i.resourceID, sel.resourceID)),
  );
  if (hit) return { ok: true, identity: hit };
  return {
    ok: false,
    reason: 'not-held',
    message: `the pod holds no identity with ${describe(sel)}; it holds ${held.map(label).join(', ')}`,
  };
}

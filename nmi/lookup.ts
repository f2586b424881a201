// Pod + request selector → the one identity to use, or an error that names the step that failed and the
// HTTP status the sidecar contract gives it (sidecar/README.md).

import type { AzureIdentity, AzureIdentityBinding, PodRef } from '../identity/crds.ts';
import { explainResolution, resolvePod, type MatchOptions } from '../identity/match.ts';
import { selectIdentity, type IdentitySelector } from '../identity/select.ts';
import type { IdentityStore } from './identity-store.ts';

export type Lookup =
  { ok: true; identity: AzureIdentity; binding: AzureIdentityBinding } | { ok: false; status: number; error: string; message: string; exception?: true };

export function lookupIdentity(pod: PodRef, selector: IdentitySelector, store: IdentityStore, opts: MatchOptions): Lookup {
  const r = resolvePod(pod, store.objectsFor(pod), opts);
  if (r.kind === 'exception') return { ok: false, status: 403, error: 'pod_exception', message: explainResolution(pod, r), exception: true };
  // Permanent (400, as the real IMDS answers an unknown identity): SDKs retry 404 for up to a minute.
  if (r.kind !== 'matched') return { ok: false, status: 400, error: 'identity_not_found', message: explainResolution(pod, r) };
  const chosen = selectIdentity(
    r.identities.map((b) => b.identity),
    selector,
  );
  if (!chosen.ok) {
    const status = chosen.reason === 'ambiguous' ? 409 : 400;
    return {
      ok: false,
      status,
      error: status === 409 ? 'ambiguous_identity' : 'identity_not_found',
      message: `pod ${pod.namespace}/${pod.name}: ${chosen.message}`,
    };
  }
  const bound = r.identities.find((b) => b.identity === chosen.identity)!;
  return { ok: true, identity: bound.identity, binding: bound.binding };
}

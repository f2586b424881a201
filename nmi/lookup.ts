// Pod + request selector → the one identity to use, or an error that names the step that failed and the
// HTTP status the sidecar contract gives it (sidecar/README.md).

import type { ErrorCode } from '../common/error-codes.ts';
import type { AzureIdentity, AzureIdentityBinding, PodRef } from '../identity/crds.ts';
import { explainResolution, resolvePod, type MatchOptions } from '../identity/match.ts';
import { selectIdentity, type IdentitySelector } from '../identity/select.ts';
import type { IdentityStore } from '../identity/store.ts';

/**
 * A pod holding several identities asked without a selector: `first` serves the first by namespace/name, as
 * aad-pod-identity served the first it held (its clients, such as the Secrets Store CSI provider, never name
 * one); `refuse` answers 409 listing them.
 */
export type AmbiguityPolicy = 'first' | 'refuse';
export const AMBIGUITY_POLICIES: readonly AmbiguityPolicy[] = ['first', 'refuse'];

export interface LookupOptions extends MatchOptions {
  ambiguous?: AmbiguityPolicy;
}

export type Lookup =
  | { ok: true; identity: AzureIdentity; binding: AzureIdentityBinding; /** Set when chosen among several by `first`. */ choseAmong?: string[] }
  | { ok: false; status: number; error: ErrorCode; message: string; exception?: true };

const label = (i: AzureIdentity) => `${i.namespace}/${i.name}`;

export function lookupIdentity(pod: PodRef, selector: IdentitySelector, store: IdentityStore, opts: LookupOptions): Lookup {
  const r = resolvePod(pod, store.objectsFor(pod), opts);
  if (r.kind === 'exception') return { ok: false, status: 403, error: 'pod_exception', message: explainResolution(pod, r), exception: true };
  // Permanent (400, as the real IMDS answers an unknown identity): SDKs retry 404 for up to a minute.
  if (r.kind !== 'matched') return { ok: false, status: 400, error: 'identity_not_found', message: explainResolution(pod, r) };
  const held = r.identities.map((b) => b.identity);
  const chosen = selectIdentity(held, selector);
  if (!chosen.ok && chosen.reason === 'ambiguous' && (opts.ambiguous ?? 'first') === 'first') {
    const first = [...r.identities].sort((a, b) => label(a.identity).localeCompare(label(b.identity)))[0]!;
    return { ok: true, identity: first.identity, binding: first.binding, choseAmong: held.map(label).sort() };
  }
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

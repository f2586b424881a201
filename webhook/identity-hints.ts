// Admission warnings for a labeled pod that podid will not serve as its owner expects: its label matches no
// AzureIdentityBinding, its bindings name identities that do not exist, or it matches an
// AzurePodIdentityException. `kubectl apply` shows them as `Warning:` lines, at the moment the owner can act.
// Pure: the identity objects come from the webhook's informers (nmi/kube.ts startInformers).

import type { PodRef } from '../identity/crds.ts';
import { explainResolution, resolvePod, type IdentityObjects, type MatchOptions } from '../identity/match.ts';

/** A warning for this pod, or undefined when podid will serve it (or it asks nothing of podid). */
export type IdentityHints = (pod: PodRef) => string | undefined;

export function identityHints(objectsFor: (pod: PodRef) => IdentityObjects, opts: MatchOptions): IdentityHints {
  return (pod) => {
    const r = resolvePod(pod, objectsFor(pod), opts);
    if (r.kind === 'matched' || r.kind === 'unlabeled') return undefined;
    const consequence = r.kind === 'exception' ? 'podid will not serve it tokens' : 'it gets no token until that is fixed';
    return `podid: ${explainResolution(pod, r)}: ${consequence}`;
  };
}

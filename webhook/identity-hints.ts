// Admission warnings for a labeled pod that podid will not serve as its owner expects: its label matches no
// AzureIdentityBinding, its bindings name identities that do not exist, or it matches an
// AzurePodIdentityException, or (standard mode) it would be served a type 0 identity podid-controller cannot assign.
// `kubectl apply` shows them as `Warning:` lines, at the moment the owner can act.
// Pure: the identity objects come from the webhook's informers (identity/watches.ts).

import { IdentityType, type PodRef } from '../identity/crds.ts';
import { explainResolution, resolvePod, type IdentityObjects, type MatchOptions } from '../identity/match.ts';

/** A warning for this pod, or undefined when podid will serve it (or it asks nothing of podid). */
export type IdentityHints = (pod: PodRef) => string | undefined;

export function identityHints(objectsFor: (pod: PodRef) => IdentityObjects, opts: MatchOptions & { standard?: boolean }): IdentityHints {
  return (pod) => {
    const r = resolvePod(pod, objectsFor(pod), opts);
    if (r.kind === 'matched' && opts.standard) {
      // Standard mode assigns type 0 identities to the node through ARM, which needs their resource ID.
      const unassignable = r.identities.filter(({ identity: i }) => i.type === IdentityType.UserAssignedMSI && !i.resourceID);
      if (unassignable.length)
        return `podid: pod ${pod.namespace}/${pod.name} would use ${unassignable.map(({ identity: i }) => `AzureIdentity ${i.namespace}/${i.name}`).join(', ')} (type 0) without a resourceID: in standard mode podid-controller cannot assign it to the node (ARM needs the resource ID): it gets no token until spec.resourceID is set`;
    }
    if (r.kind === 'matched' || r.kind === 'unlabeled') return undefined;
    const consequence = r.kind === 'exception' ? 'podid will not serve it tokens' : 'it gets no token until that is fixed';
    return `podid: ${explainResolution(pod, r)}: ${consequence}`;
  };
}

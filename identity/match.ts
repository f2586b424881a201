// Pod → binding → identity resolution, with exceptions and namespaced behaviour.
// Pure: callers pass the objects they hold (an informer cache, a test table).

import { BINDING_LABEL, type AzureIdentity, type AzureIdentityBinding, type AzurePodIdentityException, type PodRef } from './crds.ts';

export interface IdentityObjects {
  identities: readonly AzureIdentity[];
  bindings: readonly AzureIdentityBinding[];
  exceptions: readonly AzurePodIdentityException[];
}

export interface MatchOptions {
  /** aad-pod-identity's --forceNamespaced: every binding serves only pods of its own namespace. */
  forceNamespaced: boolean;
}

export interface BoundIdentity {
  identity: AzureIdentity;
  binding: AzureIdentityBinding;
}

export type Resolution =
  | { kind: 'exception'; exception: AzurePodIdentityException }
  | { kind: 'unlabeled' }
  | { kind: 'no-binding'; selector: string; outOfNamespace: AzureIdentityBinding[] }
  | { kind: 'no-identity'; selector: string; dangling: AzureIdentityBinding[] }
  | { kind: 'matched'; selector: string; identities: BoundIdentity[]; dangling: AzureIdentityBinding[] };

export function exceptionFor(pod: PodRef, exceptions: readonly AzurePodIdentityException[]): AzurePodIdentityException | undefined {
  return exceptions.find(
    (ex) => ex.namespace === pod.namespace && Object.keys(ex.podLabels).length > 0 && Object.entries(ex.podLabels).every(([k, v]) => pod.labels[k] === v),
  );
}

/** A binding is namespaced when forced globally or when it or its identity says so. */
function servesNamespace(binding: AzureIdentityBinding, identity: AzureIdentity | undefined, ns: string, opts: MatchOptions): boolean {
  const namespaced = opts.forceNamespaced || binding.namespaced || identity?.namespaced === true;
  return !namespaced || binding.namespace === ns;
}

const key = (namespace: string, name: string): string => `${namespace}/${name}`;

/**
 * Resolves a pod to the identities it may use. Identities are returned in a stable order
 * (binding namespace, then binding name) and each identity at most once.
 */
export function resolvePod(pod: PodRef, objects: IdentityObjects, opts: MatchOptions): Resolution {
  const exception = exceptionFor(pod, objects.exceptions);
  if (exception) return { kind: 'exception', exception };
  const selector = pod.labels[BINDING_LABEL];
  if (!selector) return { kind: 'unlabeled' };

  const identities = new Map(objects.identities.map((i) => [key(i.namespace, i.name), i]));
  const candidates = objects.bindings
    .filter((b) => b.selector === selector)
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  const bound: BoundIdentity[] = [];
  const dangling: AzureIdentityBinding[] = [];
  const outOfNamespace: AzureIdentityBinding[] = [];
  const seen = new Set<string>();
  for (const binding of candidates) {
    const identity = identities.get(key(binding.namespace, binding.azureIdentity));
    if (!servesNamespace(binding, identity, pod.namespace, opts)) {
      outOfNamespace.push(binding);
      continue;
    }
    if (!identity) {
      dangling.push(binding);
      continue;
    }
    const id = key(identity.namespace, identity.name);
    if (seen.has(id)) continue;
    seen.add(id);
    bound.push({ identity, binding });
  }
  if (bound.length) return { kind: 'matched', selector, identities: bound, dangling };
  if (dangling.length) return { kind: 'no-identity', selector, dangling };
  return { kind: 'no-binding', selector, outOfNamespace };
}

/** One sentence an operator can act on, for logs, errors and events. */
export function explainResolution(pod: PodRef, r: Resolution): string {
  const who = `pod ${pod.namespace}/${pod.name}`;
  switch (r.kind) {
    case 'exception':
      return `${who} matches AzurePodIdentityException ${r.exception.namespace}/${r.exception.name}: its metadata requests bypass podid`;
    case 'unlabeled':
      return `${who} has no ${BINDING_LABEL} label, so no AzureIdentityBinding applies to it`;
    case 'no-binding': {
      const base = `${who} has ${BINDING_LABEL}=${r.selector} but no AzureIdentityBinding has selector ${r.selector}`;
      if (!r.outOfNamespace.length) return base;
      const names = r.outOfNamespace.map((b) => `${b.namespace}/${b.name}`).join(', ');
      return `${base} in namespace ${pod.namespace} (namespaced bindings elsewhere: ${names})`;
    }
    case 'no-identity': {
      const refs = r.dangling.map((b) => `${b.namespace}/${b.name} → AzureIdentity ${b.namespace}/${b.azureIdentity}`).join(', ');
      return `${who} has ${BINDING_LABEL}=${r.selector}, but its bindings name identities that do not exist: ${refs}`;
    }
    case 'matched':
      return `${who} may use ${r.identities.map((b) => `${b.identity.namespace}/${b.identity.name}`).join(', ')}`;
  }
}

/** Bindings whose AzureIdentity does not exist in their namespace: no pod can use them. */
export function danglingBindings(
  bindings: Iterable<AzureIdentityBinding>,
  identityExists: (namespace: string, name: string) => boolean,
): AzureIdentityBinding[] {
  return [...bindings].filter((b) => !identityExists(b.namespace, b.azureIdentity));
}

// The AzureIdentity, AzureIdentityBinding and AzurePodIdentityException objects a server knows (NMI, the webhook, the controller), indexed so
// that one pod's lookup touches only the bindings with its selector and the exceptions of its namespace.

import type { AzureIdentity, AzureIdentityBinding, AzurePodIdentityException, PodRef } from './crds.ts';
import { BINDING_LABEL } from './crds.ts';
import type { IdentityObjects } from './match.ts';

const key = (o: { namespace: string; name: string }) => `${o.namespace}/${o.name}`;

export class IdentityStore {
  private readonly identities = new Map<string, AzureIdentity>();
  private readonly bindings = new Map<string, AzureIdentityBinding>();
  private readonly bySelector = new Map<string, Map<string, AzureIdentityBinding>>();
  private readonly exceptions = new Map<string, Map<string, AzurePodIdentityException>>();

  get counts(): { identities: number; bindings: number; exceptions: number } {
    let exceptions = 0;
    for (const m of this.exceptions.values()) exceptions += m.size;
    return { identities: this.identities.size, bindings: this.bindings.size, exceptions };
  }

  upsertIdentity(i: AzureIdentity): void {
    this.identities.set(key(i), i);
  }

  removeIdentity(namespace: string, name: string): void {
    this.identities.delete(`${namespace}/${name}`);
  }

  identity(namespace: string, name: string): AzureIdentity | undefined {
    return this.identities.get(`${namespace}/${name}`);
  }

  upsertBinding(b: AzureIdentityBinding): void {
    this.removeBinding(b.namespace, b.name);
    this.bindings.set(key(b), b);
    const group = this.bySelector.get(b.selector) ?? new Map<string, AzureIdentityBinding>();
    group.set(key(b), b);
    this.bySelector.set(b.selector, group);
  }

  allBindings(): IterableIterator<AzureIdentityBinding> {
    return this.bindings.values();
  }

  removeBinding(namespace: string, name: string): void {
    const k = `${namespace}/${name}`;
    const old = this.bindings.get(k);
    if (!old) return;
    this.bindings.delete(k);
    const group = this.bySelector.get(old.selector);
    group?.delete(k);
    if (group && !group.size) this.bySelector.delete(old.selector);
  }

  upsertException(e: AzurePodIdentityException): void {
    const group = this.exceptions.get(e.namespace) ?? new Map<string, AzurePodIdentityException>();
    group.set(e.name, e);
    this.exceptions.set(e.namespace, group);
  }

  removeException(namespace: string, name: string): void {
    const group = this.exceptions.get(namespace);
    group?.delete(name);
    if (group && !group.size) this.exceptions.delete(namespace);
  }

  /** Just the objects that can decide this pod's identities, for identity/'s resolvePod. */
  objectsFor(pod: PodRef): IdentityObjects {
    const selector = pod.labels[BINDING_LABEL];
    const bindings = selector ? [...(this.bySelector.get(selector)?.values() ?? [])] : [];
    const identities: AzureIdentity[] = [];
    for (const b of bindings) {
      const i = this.identities.get(`${b.namespace}/${b.azureIdentity}`);
      if (i) identities.push(i);
    }
    return { identities, bindings, exceptions: [...(this.exceptions.get(pod.namespace)?.values() ?? [])] };
  }
}

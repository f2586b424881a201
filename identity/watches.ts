// The podid CRDs' watches into an IdentityStore, for every process that resolves identities: NMI, the webhook (its
// admission hints) and the controller. Objects that do not parse are logged and left out.

import { nameOf, type Meta, type Watch } from '../common/kube-watch.ts';
import type { Logger } from '../common/log.ts';
import { API_GROUP, API_VERSION } from './crds.ts';
import type { Parsed } from './fields.ts';
import { parseAzureIdentity, parseAzureIdentityBinding, parseAzurePodIdentityException } from './parse.ts';
import type { IdentityStore } from './store.ts';

/**
 * Watches of the three podid CRDs into `store`; objects that do not parse are logged and left out. NMI, the webhook
 * and the controller run them with `runWatches`.
 */
export function identityWatches(store: IdentityStore, log: Logger): Watch<Meta>[] {
  const invalid = (kind: string, o: Meta, errors: { field: string; message: string }[]) =>
    log.warn({ kind, object: `${nameOf(o).namespace}/${nameOf(o).name}`, errors: errors.map((e) => `${e.field}: ${e.message}`) }, 'ignoring invalid object');
  function crdWatch<T>(
    plural: string,
    kind: string,
    parse: (o: unknown) => Parsed<T>,
    upsert: (v: T) => void,
    remove: (namespace: string, name: string) => void,
  ): Watch<Meta> {
    return {
      path: `/apis/${API_GROUP}/${API_VERSION}/${plural}`,
      upsert: (o) => {
        const r = parse(o);
        if (r.ok) upsert(r.value);
        else invalid(kind, o, r.errors);
      },
      remove: (o) => remove(nameOf(o).namespace, nameOf(o).name),
    };
  }
  return [
    // prettier-ignore
    crdWatch('azureidentities', 'AzureIdentity', parseAzureIdentity, (v) => store.upsertIdentity(v), (ns, n) => store.removeIdentity(ns, n)),
    // prettier-ignore
    crdWatch('azureidentitybindings', 'AzureIdentityBinding', parseAzureIdentityBinding, (v) => store.upsertBinding(v), (ns, n) => store.removeBinding(ns, n)),
    // prettier-ignore
    crdWatch('azurepodidentityexceptions', 'AzurePodIdentityException', parseAzurePodIdentityException, (v) => store.upsertException(v), (ns, n) => store.removeException(ns, n)),
  ];
}

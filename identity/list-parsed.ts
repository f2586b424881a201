// For the CLI commands (explain, identity, exception), which sign in as the user does (client-node runs kubeconfig
// exec plugins such as kubelogin): the podid objects of one CRD, parsed; objects that do not parse are left out.

import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { clientNodeFailure } from '../common/kube-config.ts';
import { withRetry } from '../common/kube-retry.ts';
import { API_GROUP, API_VERSION } from './crds.ts';
import type { Parsed } from './fields.ts';

/** One namespace's objects, or all of them. */
export async function listParsed<T>(kc: KubeConfig, plural: string, parse: (o: unknown) => Parsed<T>, namespace?: string): Promise<T[]> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const ref = { group: API_GROUP, version: API_VERSION, plural };
  const res = (await withRetry(() => (namespace ? custom.listNamespacedCustomObject({ ...ref, namespace }) : custom.listClusterCustomObject(ref)), {
    failure: clientNodeFailure,
  })) as {
    items: unknown[];
  };
  return res.items.flatMap((o) => {
    const r = parse(o);
    return r.ok ? [r.value] : [];
  });
}

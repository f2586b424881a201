// What `podid explain pod` reads, read-only: the pod, its namespace's labels, the podid objects, the pod's
// AzureAssignedIdentity objects and whether podid's webhook is installed.

import { AdmissionregistrationV1Api, ApiException, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { withRetry } from '../common/kube-retry.ts';
import type { AzurePodIdentityException } from '../identity/crds.ts';
import { API_GROUP, API_VERSION } from '../identity/crds.ts';
import type { Parsed } from '../identity/fields.ts';
import { parseAzureAssignedIdentity, parseAzureIdentity, parseAzureIdentityBinding, parseAzurePodIdentityException } from '../identity/parse.ts';
import type { ExplainInput } from './explain.ts';

export class PodNotFound extends Error {}

export async function readForPod(
  kc: KubeConfig,
  namespace: string,
  name: string,
  opts: Pick<ExplainInput, 'mode' | 'forceNamespaced'> & { builtinExceptions: AzurePodIdentityException[] },
): Promise<ExplainInput> {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  let pod;
  try {
    pod = await withRetry(() => core.readNamespacedPod({ namespace, name }));
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) throw new PodNotFound(`pod ${namespace}/${name} not found`);
    throw err;
  }
  const list = async <T>(plural: string, parse: (o: unknown) => Parsed<T>): Promise<T[]> => {
    const items = ((await withRetry(() => custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural }))) as { items: unknown[] }).items;
    return items.flatMap((o) => {
      const r = parse(o);
      return r.ok ? [r.value] : [];
    });
  };
  const [ns, identities, bindings, exceptions, assignments, webhookInstalled] = await Promise.all([
    withRetry(() => core.readNamespace({ name: namespace })),
    list('azureidentities', parseAzureIdentity),
    list('azureidentitybindings', parseAzureIdentityBinding),
    list('azurepodidentityexceptions', parseAzurePodIdentityException),
    list('azureassignedidentities', parseAzureAssignedIdentity),
    admission.readMutatingWebhookConfiguration({ name: 'podid' }).then(
      () => true,
      () => false,
    ),
  ]);
  return {
    // The typed client's object, as plain JSON (the pure side reads it like the API's).
    pod: JSON.parse(JSON.stringify(pod)),
    identities,
    bindings,
    exceptions: [...exceptions, ...opts.builtinExceptions],
    assignments: assignments.filter((a) => a.podNamespace === namespace && a.pod === name),
    namespaceLabels: ns.metadata?.labels ?? {},
    webhookInstalled,
    mode: opts.mode,
    forceNamespaced: opts.forceNamespaced,
  };
}

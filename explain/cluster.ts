// What `podid explain pod` reads, read-only: the pod, its namespace's labels, the podid objects, the pod's
// AzureAssignedIdentity objects, whether podid's webhook is installed, and for a workload-identity pod its
// ServiceAccount.

import { AdmissionregistrationV1Api, ApiException, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { clientNodeFailure } from '../common/kube-config.ts';
import { withRetry } from '../common/kube-retry.ts';
import type { AzurePodIdentityException } from '../identity/crds.ts';
import { parseAzureAssignedIdentity, parseAzureIdentity, parseAzureIdentityBinding, parseAzurePodIdentityException } from '../identity/parse.ts';
import { listParsed } from '../identity/list-parsed.ts';
import { usesWorkloadIdentity } from '../podspec/workload-identity.ts';
import type { ExplainInput } from './explain.ts';

export class PodNotFound extends Error {}

/** A ServiceAccount's name and annotations, or undefined when it does not exist. */
async function readServiceAccount(
  core: CoreV1Api,
  namespace: string,
  name: string,
): Promise<{ name: string; annotations?: Record<string, string> } | undefined> {
  try {
    const sa = await withRetry(() => core.readNamespacedServiceAccount({ namespace, name }), { failure: clientNodeFailure });
    return { name, annotations: sa.metadata?.annotations };
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return undefined;
    throw err;
  }
}

export async function readForPod(
  kc: KubeConfig,
  namespace: string,
  name: string,
  opts: Pick<ExplainInput, 'mode' | 'forceNamespaced'> & { builtinExceptions: AzurePodIdentityException[] },
): Promise<ExplainInput> {
  const core = kc.makeApiClient(CoreV1Api);
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  let pod;
  try {
    pod = await withRetry(() => core.readNamespacedPod({ namespace, name }), { failure: clientNodeFailure });
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) throw new PodNotFound(`pod ${namespace}/${name} not found`);
    throw err;
  }
  const [ns, identities, bindings, exceptions, assignments, webhookInstalled] = await Promise.all([
    withRetry(() => core.readNamespace({ name: namespace }), { failure: clientNodeFailure }),
    listParsed(kc, 'azureidentities', parseAzureIdentity),
    listParsed(kc, 'azureidentitybindings', parseAzureIdentityBinding),
    listParsed(kc, 'azurepodidentityexceptions', parseAzurePodIdentityException),
    listParsed(kc, 'azureassignedidentities', parseAzureAssignedIdentity),
    admission.readMutatingWebhookConfiguration({ name: 'podid' }).then(
      () => true,
      () => false,
    ),
  ]);
  const plain = JSON.parse(JSON.stringify(pod)) as { metadata?: { labels?: Record<string, string> }; spec?: { serviceAccountName?: string } };
  const serviceAccount = usesWorkloadIdentity(plain.metadata?.labels ?? {})
    ? await readServiceAccount(core, namespace, plain.spec?.serviceAccountName || 'default')
    : undefined;
  return {
    // The typed client's object, as plain JSON (the pure side reads it like the API's).
    pod: plain,
    serviceAccount,
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

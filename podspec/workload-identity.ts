// azure-workload-identity's contract as it shows on a pod and its ServiceAccount, for podid's warnings and
// `podid explain pod`: the names come from its documentation (docs/book/src/topics/
// service-account-labels-and-annotations.md) and its webhook (pkg/webhook/consts.go, webhook.go: pods are
// selected by the label with the value "true"; the client ID comes from the ServiceAccount's annotation).
// Pure.

import { BINDING_LABEL } from '../identity/crds.ts';
import { WI_ANNOTATIONS, WI_USE_LABEL } from '../tokens/workload-identity-contract.ts';

export { WI_USE_LABEL };
/** The ServiceAccount annotation naming the identity's client ID (AZURE_CLIENT_ID). */
export const WI_CLIENT_ID_ANNOTATION = WI_ANNOTATIONS.clientId;

export const usesWorkloadIdentity = (labels: Readonly<Record<string, string>>): boolean => labels[WI_USE_LABEL] === 'true';

/**
 * A pod labeled for both models gets both sets of variables when azwi's webhook runs too. @azure/identity's
 * DefaultAzureCredential tries EnvironmentCredential, then WorkloadIdentityCredential, then ManagedIdentityCredential
 * (4.13.1: dist/esm/credentials/defaultAzureCredential.js, prodCredentialFunctions), so workload identity wins and
 * podid's sidecar serves only code that asks for a managed identity by name.
 */
export function bothModelsWarning(labels: Readonly<Record<string, string>>): string | undefined {
  if (!labels[BINDING_LABEL] || !usesWorkloadIdentity(labels)) return undefined;
  return (
    `the pod is labeled for both aad-pod-identity (${BINDING_LABEL}=${labels[BINDING_LABEL]}) and workload identity (${WI_USE_LABEL}=true): ` +
    "with azure-workload-identity's webhook installed, DefaultAzureCredential uses workload identity first and podid's sidecar " +
    'serves only ManagedIdentityCredential; keep one label'
  );
}

/** What is wrong with a workload-identity pod's ServiceAccount, or undefined when it names a client ID. */
export function serviceAccountProblem(
  sa: { name: string; annotations?: Record<string, string> } | undefined,
  namespace: string,
  name: string,
): string | undefined {
  if (!sa) return `its ServiceAccount ${namespace}/${name} does not exist`;
  if (!sa.annotations?.[WI_CLIENT_ID_ANNOTATION]) return `its ServiceAccount ${namespace}/${name} has no ${WI_CLIENT_ID_ANNOTATION} annotation`;
  return undefined;
}

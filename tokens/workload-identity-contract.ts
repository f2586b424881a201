// azure-workload-identity's contract, written once: the label, annotations and pod-level names its webhook reads,
// and the environment and token file it gives a pod. podid's webhook serves the same contract
// (webhook/workload-identity-inject.ts), its sidecar reads the same variables in proxy mode (sidecar/federated-client.ts)
// and `podid migrate workload-identity` writes the same annotations. No imports: the sidecar loads it.
//
// Source: azure-workload-identity v1.5.1, pkg/webhook/consts.go and webhook.go (the released layout; a later
// change on its main branch names the volume and mount per pod, see docs/workload-identity.md).

/** The pod label azwi's webhook selects on (objectSelector matchLabels, value "true"). */
export const WI_USE_LABEL = 'azure.workload.identity/use';

/** ServiceAccount annotations (the first three) and pod annotations (the rest) azwi reads. */
export const WI_ANNOTATIONS = {
  clientId: 'azure.workload.identity/client-id',
  tenantId: 'azure.workload.identity/tenant-id',
  /** On the pod, else on the ServiceAccount: the projected token's expirationSeconds. */
  tokenExpiration: 'azure.workload.identity/service-account-token-expiration',
  /** `;`-separated container names that get neither the variables nor the mount. */
  skipContainers: 'azure.workload.identity/skip-containers',
  /** Present (any value): a token proxy for SDKs that speak only IMDS. */
  injectProxySidecar: 'azure.workload.identity/inject-proxy-sidecar',
  proxySidecarPort: 'azure.workload.identity/proxy-sidecar-port',
} as const;

/** What each container is given. */
export const WI_ENV = {
  clientId: 'AZURE_CLIENT_ID',
  tenantId: 'AZURE_TENANT_ID',
  federatedTokenFile: 'AZURE_FEDERATED_TOKEN_FILE',
  authorityHost: 'AZURE_AUTHORITY_HOST',
} as const;

/** The projected volume: its name, mount, file, audience and lifetime bounds. */
export const WI_TOKEN = {
  volumeName: 'azure-identity-token',
  mountPath: '/var/run/secrets/azure/tokens',
  fileName: 'azure-identity-token',
  path: '/var/run/secrets/azure/tokens/azure-identity-token',
  audience: 'api://AzureADTokenExchange',
  defaultExpirationSeconds: 3600,
  minExpirationSeconds: 3600,
  maxExpirationSeconds: 86400,
} as const;

export const WI_DEFAULT_PROXY_PORT = 8000;
/** Azure public cloud's authority (azwi: go-autorest's PublicCloud.ActiveDirectoryEndpoint). */
export const WI_DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com/';
/** The client assertion type of a federated token exchange (RFC 7523). */
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** A federated credential's subject for a ServiceAccount, as the apiserver writes `sub`. */
export const serviceAccountSubject = (namespace: string, name: string): string => `system:serviceaccount:${namespace}:${name}`;

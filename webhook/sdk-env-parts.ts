// The variable sets podid can inject, each selecting one managed-identity source in the Azure SDKs. The
// SDKs (MSAL, azure-identity) pick the source from variables in this order:
//   IDENTITY_ENDPOINT + IDENTITY_HEADER + IDENTITY_SERVER_THUMBPRINT → Service Fabric
//   IDENTITY_ENDPOINT + IDENTITY_HEADER                              → App Service
//   MSI_ENDPOINT (+ MSI_SECRET)                                      → Cloud Shell / Machine Learning
//   IDENTITY_ENDPOINT + IMDS_ENDPOINT                                → Azure Arc
//   otherwise IMDS, whose host AZURE_POD_IDENTITY_AUTHORITY_HOST overrides.
// (msal-node's selectManagedIdentitySource, MSAL Go's managedidentity.GetSource and Python azure-identity's
// ManagedIdentityCredential all test the App Service pair before MSI_ENDPOINT.) Older clients read only
// MSI_ENDPOINT: msrestazure (Azure CLI 2.45) and go-autorest's adal (getMSIType) POST a form to it when
// MSI_SECRET is unset, which the sidecar serves at /oauth2/token.

import { APP_SERVICE_TOKEN_PATH, LEGACY_MSI_TOKEN_PATH } from '../tokens/wire.ts';
import type { EnvVar } from '../podspec/pod.ts';

/** Where the sidecar serves tokens inside the pod, and the pod's App Service header secret. */
export interface SidecarEndpoint {
  port: number;
  identityHeader: string;
}

export interface EnvPart {
  /** The variables this part adds, pointing at the sidecar. */
  vars(addr: SidecarEndpoint): EnvVar[];
  /** Variables that, set by the container, would turn this part into another flow (or leak podid's header). */
  conflicts: readonly string[];
  /** Why the part was left out, given the variables of it (or its conflicts) the container sets. */
  warning(containerName: string, present: readonly string[]): string;
  /** Added only where this other part is in place too (its variables change what this one means to SDKs). */
  requires?: EnvPart;
}

export const IMDS_HOST_VAR = 'AZURE_POD_IDENTITY_AUTHORITY_HOST';
export const IDENTITY_ENDPOINT = 'IDENTITY_ENDPOINT';
export const IDENTITY_HEADER = 'IDENTITY_HEADER';

const sidecarBase = (addr: SidecarEndpoint) => `http://127.0.0.1:${addr.port}`;

/** IMDS flavour: the SDKs' IMDS client, with its host moved to the sidecar. */
export const imdsHostPart: EnvPart = {
  vars: (addr) => [{ name: IMDS_HOST_VAR, value: sidecarBase(addr) }],
  conflicts: [],
  warning: (c) => `container ${c} sets ${IMDS_HOST_VAR} itself; podid left it unchanged`,
};

/** App Service (2019-08-01) flavour: endpoint + per-pod header secret. */
export const appServicePart: EnvPart = {
  vars: (addr) => [
    { name: IDENTITY_ENDPOINT, value: `${sidecarBase(addr)}${APP_SERVICE_TOKEN_PATH}` },
    { name: IDENTITY_HEADER, value: addr.identityHeader },
  ],
  conflicts: ['IDENTITY_SERVER_THUMBPRINT', 'IMDS_ENDPOINT', 'MSI_ENDPOINT', 'MSI_SECRET'],
  warning: (c, present) =>
    `container ${c} sets ${present.join(', ')}; podid did not add ${IDENTITY_ENDPOINT}/${IDENTITY_HEADER} so SDKs keep the flow those select`,
};

export const MSI_ENDPOINT = 'MSI_ENDPOINT';

/**
 * Legacy flavour for msrestazure and adal: MSI_ENDPOINT alone. Alone it would mean Cloud Shell to newer SDKs, so
 * it is added only beside the App Service pair, which they select first; never with MSI_SECRET (Azure ML / App
 * Service 2017 to adal) or APPSETTING_WEBSITE_SITE_NAME (msrestazure's App Service flow).
 */
export const msiEndpointPart: EnvPart = {
  vars: (addr) => [{ name: MSI_ENDPOINT, value: `${sidecarBase(addr)}${LEGACY_MSI_TOKEN_PATH}` }],
  conflicts: ['MSI_SECRET', 'APPSETTING_WEBSITE_SITE_NAME'],
  warning: (c, present) => `container ${c} sets ${present.join(', ')}; podid did not add ${MSI_ENDPOINT} for older clients (msrestazure, adal)`,
  requires: appServicePart,
};

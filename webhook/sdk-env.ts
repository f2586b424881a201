// Which environment variables send unmodified Azure SDKs to the sidecar, and which
// combinations must never be produced. SDKs (MSAL, azure-identity in every language)
// pick the managed-identity source from variables in this order:
//   IDENTITY_ENDPOINT + IDENTITY_HEADER + IDENTITY_SERVER_THUMBPRINT → Service Fabric
//   IDENTITY_ENDPOINT + IDENTITY_HEADER                              → App Service
//   MSI_ENDPOINT (+ MSI_SECRET)                                      → Cloud Shell / Machine Learning
//   IDENTITY_ENDPOINT + IMDS_ENDPOINT                                → Azure Arc
//   otherwise IMDS, whose host AZURE_POD_IDENTITY_AUTHORITY_HOST overrides.
// podid adds the App Service pair only when the container sets none of the variables that
// would turn it into another flow, and never overrides a variable the container sets.

import { APP_SERVICE_PATH, type EnvFlavour } from './injection-config.ts';
import type { EnvVar } from './pod.ts';

export const IMDS_HOST_VAR = 'AZURE_POD_IDENTITY_AUTHORITY_HOST';
export const IDENTITY_ENDPOINT = 'IDENTITY_ENDPOINT';
export const IDENTITY_HEADER = 'IDENTITY_HEADER';

/** If a container sets any of these, the App Service pair would select another flow (or leak our header). */
const APP_SERVICE_CONFLICTS = [IDENTITY_ENDPOINT, IDENTITY_HEADER, 'IDENTITY_SERVER_THUMBPRINT', 'IMDS_ENDPOINT', 'MSI_ENDPOINT', 'MSI_SECRET'];

export interface SdkEnvPlan {
  add: EnvVar[];
  warnings: string[];
}

export interface SidecarAddress {
  port: number;
  flavour: EnvFlavour;
  identityHeader: string;
}

/** `existing` maps each variable the container sets to its literal value (undefined for valueFrom). */
export function planSdkEnv(containerName: string, existing: ReadonlyMap<string, string | undefined>, addr: SidecarAddress): SdkEnvPlan {
  const add: EnvVar[] = [];
  const warnings: string[] = [];
  const base = `http://127.0.0.1:${addr.port}`;
  const endpoint = `${base}${APP_SERVICE_PATH}`;
  const ours = (name: string, value: string) => existing.has(name) && existing.get(name) === value;
  if (addr.flavour !== 'appservice') {
    if (!existing.has(IMDS_HOST_VAR)) add.push({ name: IMDS_HOST_VAR, value: base });
    else if (!ours(IMDS_HOST_VAR, base)) warnings.push(`container ${containerName} sets ${IMDS_HOST_VAR} itself; podid left it unchanged`);
  }
  if (addr.flavour !== 'imds') {
    const conflicts = APP_SERVICE_CONFLICTS.filter((v) => existing.has(v));
    const injectedBefore = conflicts.length === 2 && ours(IDENTITY_ENDPOINT, endpoint) && ours(IDENTITY_HEADER, addr.identityHeader);
    if (conflicts.length === 0) {
      add.push({ name: IDENTITY_ENDPOINT, value: endpoint });
      add.push({ name: IDENTITY_HEADER, value: addr.identityHeader });
    } else if (!injectedBefore) {
      warnings.push(
        `container ${containerName} sets ${conflicts.join(', ')}; podid did not add ${IDENTITY_ENDPOINT}/${IDENTITY_HEADER} so SDKs keep the flow those select`,
      );
    }
  }
  return { add, warnings };
}

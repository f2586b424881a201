// The Azure cloud-provider config file (`/etc/kubernetes/azure.json` on AKS and aks-engine nodes, the file MIC read
// with --cloudconfig): the controller's ARM credential and endpoints. Pure: text in, settings or a clear error out.
// Secrets are kept only in the returned object, never in an error message.

export interface CloudConfig {
  cloud: string;
  tenantId: string;
  subscriptionId?: string;
  resourceGroup?: string;
  vmType?: string;
  /** useManagedIdentityExtension: the node's managed identity (IMDS), optionally a user-assigned one by client id. */
  credential: { kind: 'managed-identity'; clientId?: string } | { kind: 'client-secret'; clientId: string; clientSecret: string };
  /** ARM and Azure AD endpoints of the cloud. */
  armUrl: string;
  authorityHost: string;
}

export const CLOUDS: Record<string, { armUrl: string; authorityHost: string }> = {
  azurepubliccloud: { armUrl: 'https://management.azure.com', authorityHost: 'https://login.microsoftonline.com' },
  azurechinacloud: { armUrl: 'https://management.chinacloudapi.cn', authorityHost: 'https://login.chinacloudapi.cn' },
  azureusgovernmentcloud: { armUrl: 'https://management.usgovcloudapi.net', authorityHost: 'https://login.microsoftonline.us' },
};

export class CloudConfigError extends Error {}

export function parseCloudConfig(text: string, source = 'the cloud config'): CloudConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new CloudConfigError(`${source} is not JSON`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new CloudConfigError(`${source} is not a JSON object`);
  const o = raw as Record<string, unknown>;
  const str = (k: string): string | undefined => {
    const v = o[k];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') throw new CloudConfigError(`${source}: ${k} must be a string`);
    return v;
  };
  const cloudName = str('cloud') ?? 'AzurePublicCloud';
  const cloud = CLOUDS[cloudName.toLowerCase()];
  if (!cloud)
    throw new CloudConfigError(
      `${source}: cloud ${JSON.stringify(cloudName)} is not one podid knows (${Object.keys(CLOUDS).join(', ')}); set --arm-url and --authority-host`,
    );
  const tenantId = str('tenantId');
  if (!tenantId) throw new CloudConfigError(`${source}: tenantId is missing`);
  const msi = o.useManagedIdentityExtension === true || o.useManagedIdentityExtension === 'true';
  let credential: CloudConfig['credential'];
  if (msi) credential = { kind: 'managed-identity', clientId: str('userAssignedIdentityID') };
  else {
    const clientId = str('aadClientId');
    const clientSecret = str('aadClientSecret');
    if (str('aadClientCertPath'))
      throw new CloudConfigError(`${source}: aadClientCertPath (certificate credentials) is not supported; use aadClientSecret or a managed identity`);
    if (!clientId || !clientSecret)
      throw new CloudConfigError(
        `${source}: neither useManagedIdentityExtension nor aadClientId + aadClientSecret is set; the controller has no credential for ARM`,
      );
    if (clientId === 'msi') credential = { kind: 'managed-identity' };
    else credential = { kind: 'client-secret', clientId, clientSecret };
  }
  return {
    cloud: cloudName,
    tenantId,
    subscriptionId: str('subscriptionId'),
    resourceGroup: str('resourceGroup'),
    vmType: str('vmType'),
    credential,
    armUrl: cloud.armUrl,
    authorityHost: cloud.authorityHost,
  };
}

// The controller's token for ARM, from the cloud config (or the equivalent flags): the node pool's managed identity
// through IMDS, or a service principal's secret through MSAL. NMI's providers do the work; the token is cached
// until five minutes before it expires. No secret is ever logged or put in an error.

import type { AzureIdentity } from '../identity/crds.ts';
import { imdsProvider } from '../aad/imds-provider.ts';
import { msalNetwork } from '../aad/msal-network.ts';
import { msalProvider } from '../aad/msal-provider.ts';
import type { CloudConfig } from './cloud-config.ts';

/** ARM's v1 resource (the audience of the tokens it accepts). */
export const ARM_RESOURCE = 'https://management.azure.com/';

export interface CredentialSettings {
  credential: CloudConfig['credential'];
  tenantId: string;
  authorityHost: string;
  imdsUrl: string;
  extraCaPem?: string;
  resource?: string;
}

export function armTokenSource(s: CredentialSettings, now = () => Date.now()): () => Promise<string> {
  const resource = s.resource ?? ARM_RESOURCE;
  const base = { name: 'podid-controller', namespace: '', namespaced: false, tenantID: s.tenantId };
  let fetch: () => Promise<{ accessToken: string; expiresOn: number }>;
  if (s.credential.kind === 'managed-identity') {
    const provider = imdsProvider(s.imdsUrl);
    const identity: AzureIdentity = { ...base, type: 0, clientID: s.credential.clientId };
    fetch = () => provider.token(identity, resource);
  } else {
    const secret = Buffer.from(s.credential.clientSecret);
    const provider = msalProvider({
      authorityHost: s.authorityHost,
      readSecret: async () => ({ clientsecret: secret }),
      network: msalNetwork({ extraCaPem: s.extraCaPem }),
    });
    const identity: AzureIdentity = { ...base, type: 1, clientID: s.credential.clientId, clientPassword: { name: 'cloud-config', namespace: '' } };
    fetch = () => provider.token(identity, resource);
  }
  let cached: { accessToken: string; expiresOn: number } | undefined;
  let inflight: Promise<{ accessToken: string; expiresOn: number }> | undefined;
  return async () => {
    if (cached && cached.expiresOn * 1000 - now() > 5 * 60_000) return cached.accessToken;
    inflight ??= fetch().finally(() => (inflight = undefined));
    cached = await inflight;
    return cached.accessToken;
  };
}

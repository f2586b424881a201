// The token provider registry: which provider serves each AzureIdentity type. A new credential kind is a
// new provider file and one line here.

import { IdentityType } from '../identity/crds.ts';
import { imdsProvider } from '../aad/imds-provider.ts';
import { msalProvider, type MsalProviderSettings } from '../aad/msal-provider.ts';
import type { TokenProviders } from '../aad/token-provider.ts';

export interface ProviderSettings {
  /** The node's metadata service (type 0). */
  imdsUrl: string;
  /** Azure AD for service principals (types 1, 2, 3). */
  msal: MsalProviderSettings;
}

export function tokenProviders(s: ProviderSettings): TokenProviders {
  const msal = msalProvider(s.msal);
  return {
    [IdentityType.UserAssignedMSI]: imdsProvider(s.imdsUrl),
    [IdentityType.ServicePrincipal]: msal,
    [IdentityType.ServicePrincipalCertificate]: msal,
    [IdentityType.FederatedServicePrincipal]: msal,
  };
}

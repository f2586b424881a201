// Types 1, 2 and 3 (service principals): Azure AD client credentials through @azure/msal-node, one
// ConfidentialClientApplication per identity, rebuilt when its Secret changes. MSAL is loaded with the first
// service principal: a node serving only managed identities never pays its ~10 MiB.

import type { ConfidentialClientApplication, INetworkModule } from '@azure/msal-node';
import type { AzureIdentity, SecretRef } from '../identity/crds.ts';
import { unavailable, type HttpError } from '../common/http-error.ts';
import type { Token } from '../tokens/wire.ts';
import { CredentialError, credentialFingerprint, credentialFor, type SecretData } from './sp-credentials.ts';
import type { TokenProvider } from './token-provider.ts';
import { aadRefusal } from './upstream-errors.ts';

export interface MsalProviderSettings {
  /** e.g. https://login.microsoftonline.com; an identity's adEndpoint overrides it. */
  authorityHost: string;
  readSecret(ref: SecretRef): Promise<SecretData>;
  federatedTokenFile?: string;
  network: INetworkModule;
}

interface CachedApp {
  fingerprint: string;
  app: ConfidentialClientApplication;
}

/** An MSAL error as podid's: Azure AD's error code and first line kept (they name the problem, never a secret). */
function upstreamError(err: unknown, who: string): HttpError {
  const e = err as { errorCode?: string; errorMessage?: string; status?: number; httpStatus?: number };
  const detail = e.errorMessage?.split('\n')[0] ?? (err as Error).message;
  return aadRefusal(who, { code: e.errorCode, status: e.status ?? e.httpStatus, detail }, err);
}

/**
 * The v2 scope for a v1 resource, exactly: Azure AD takes everything before the last "/" as the resource, so
 * `https://management.core.windows.net/` must become `https://management.core.windows.net//.default` or the
 * token's audience loses its slash (ARM and Azure SQL compare audiences to the letter).
 */
export const defaultScope = (resource: string): string => `${resource}/.default`;

export function msalProvider(settings: MsalProviderSettings): TokenProvider {
  const apps = new Map<string, CachedApp>();
  let msal: Promise<typeof import('@azure/msal-node')> | undefined;
  return {
    name: 'msal',
    async token(identity: AzureIdentity, resource: string): Promise<Token> {
      const who = `AzureIdentity ${identity.namespace}/${identity.name}`;
      let credential;
      try {
        credential = await credentialFor(
          identity,
          () =>
            identity.clientPassword ? settings.readSecret(identity.clientPassword) : Promise.reject(new CredentialError('names no clientPassword Secret')),
          settings.federatedTokenFile,
        );
      } catch (err) {
        const ref = identity.clientPassword ? ` Secret ${identity.clientPassword.namespace}/${identity.clientPassword.name}` : '';
        // CredentialError messages name what is missing from the Secret (never its content).
        const what = err instanceof CredentialError ? err.message : 'cannot be read';
        throw unavailable(502, `cannot build the credential of ${who}:${ref} ${what}`, { cause: err });
      }
      const key = `${identity.namespace}/${identity.name}`;
      const fingerprint = `${identity.clientID}|${identity.tenantID}|${identity.adEndpoint}|${credentialFingerprint(credential)}`;
      let cached = apps.get(key);
      if (cached?.fingerprint !== fingerprint) {
        const host = (identity.adEndpoint ?? settings.authorityHost).replace(/\/+$/, '');
        const { ConfidentialClientApplication } = await (msal ??= import('@azure/msal-node'));
        const app = new ConfidentialClientApplication({
          auth: {
            clientId: identity.clientID ?? '',
            authority: `${host}/${identity.tenantID}`,
            knownAuthorities: [new URL(host).host],
            ...credential,
          },
          system: { networkClient: settings.network },
        });
        cached = { fingerprint, app };
        apps.set(key, cached);
      }
      let result;
      try {
        // podid's own cache (refresh-ahead, single-flight) sits in front; MSAL's would only duplicate it.
        result = await cached.app.acquireTokenByClientCredential({ scopes: [defaultScope(resource)], skipCache: true });
      } catch (err) {
        throw upstreamError(err, who);
      }
      if (!result?.accessToken || !result.expiresOn) throw unavailable(502, `Azure AD answered without a token for ${who}`);
      return {
        accessToken: result.accessToken,
        expiresOn: Math.floor(result.expiresOn.getTime() / 1000),
        resource,
        clientId: identity.clientID ?? '',
      };
    },
  };
}

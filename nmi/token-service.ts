// Tokens per (identity, resource) for every pod of the node: one cache with refresh-ahead and
// single-flight in front of the providers, so a thousand pods sharing an identity cause one upstream call.

import { IdentityType, type AzureIdentity } from '../identity/crds.ts';
import { TokenCache } from '../tokens/token-cache.ts';
import type { Token } from '../tokens/wire.ts';
import type { NmiMetrics } from './metrics.ts';
import type { TokenProvider } from './token-provider.ts';

export interface TokenServiceOptions {
  imds: TokenProvider;
  msal: TokenProvider;
  refreshAheadSeconds: number;
  maxEntries: number;
  metrics?: NmiMetrics;
}

/** Managed identities are shared by whoever names them; service principals are scoped to their object (their Secret). */
export function tokenCacheKey(identity: AzureIdentity, resource: string): string {
  const who = identity.type === IdentityType.UserAssignedMSI ? `msi|${(identity.clientID ?? identity.resourceID ?? '').toLowerCase()}` : `sp|${identity.namespace}/${identity.name}`;
  return `${who}|${resource}`;
}

export class TokenService {
  private readonly cache: TokenCache;
  private readonly opts: TokenServiceOptions;

  constructor(opts: TokenServiceOptions) {
    this.opts = opts;
    this.cache = new TokenCache({ refreshAheadSeconds: opts.refreshAheadSeconds, maxEntries: opts.maxEntries });
  }

  async token(identity: AzureIdentity, resource: string): Promise<Token> {
    const msi = identity.type === IdentityType.UserAssignedMSI;
    const provider = msi ? this.opts.imds : this.opts.msal;
    let missed = false;
    const fetch = async () => {
      missed = true;
      const end = this.opts.metrics?.upstream.startTimer({ provider: msi ? 'imds' : 'msal' });
      try {
        const t = await provider.token(identity, resource);
        end?.({ outcome: 'ok' });
        return t;
      } catch (err) {
        end?.({ outcome: 'error' });
        throw err;
      }
    };
    try {
      return await this.cache.get(tokenCacheKey(identity, resource), fetch);
    } finally {
      this.opts.metrics?.cache.inc({ result: missed ? 'miss' : 'hit' });
    }
  }
}

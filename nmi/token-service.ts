// Tokens per (identity, resource) for every pod of the node: one cache with refresh-ahead and
// single-flight in front of the providers, so a thousand pods sharing an identity cause one upstream call.

import { HttpError } from '../common/http-error.ts';
import type { AzureIdentity } from '../identity/crds.ts';
import { TokenCache } from '../tokens/token-cache.ts';
import type { Token } from '../tokens/wire.ts';
import type { NmiMetrics } from './metrics.ts';
import type { TokenProvider, TokenProviders } from '../aad/token-provider.ts';

export interface TokenServiceOptions {
  providers: TokenProviders;
  refreshAheadSeconds: number;
  maxEntries: number;
  /** Resources one identity may hold tokens for; past it that identity's least recently used go (default: no bound). */
  maxPerIdentity?: number;
  metrics?: NmiMetrics;
}

/** Who holds a cached token: the provider's sharing key when it has one, else the AzureIdentity object. */
const holder = (provider: TokenProvider, identity: AzureIdentity): string =>
  provider.sharingKey?.(identity) ?? `${provider.name}|${identity.namespace}/${identity.name}`;

export class TokenService {
  private readonly cache: TokenCache;
  private readonly opts: TokenServiceOptions;

  constructor(opts: TokenServiceOptions) {
    this.opts = opts;
    this.cache = new TokenCache({
      refreshAheadSeconds: opts.refreshAheadSeconds,
      maxEntries: opts.maxEntries,
      maxPerGroup: opts.maxPerIdentity,
      onLookup: (hit) => opts.metrics?.cache.inc({ result: hit ? 'hit' : 'miss' }),
    });
  }

  async token(identity: AzureIdentity, resource: string): Promise<Token> {
    const provider: TokenProvider | undefined = this.opts.providers[identity.type];
    if (!provider)
      throw new HttpError(
        500,
        'unsupported_identity',
        `AzureIdentity ${identity.namespace}/${identity.name} has type ${identity.type}, which this NMI has no token provider for`,
      );
    const fetch = async () => {
      const end = this.opts.metrics?.upstream.startTimer({ provider: provider.name });
      try {
        const t = await provider.token(identity, resource);
        end?.({ outcome: 'ok' });
        return t;
      } catch (err) {
        end?.({ outcome: 'error' });
        throw err;
      }
    };
    const who = holder(provider, identity);
    return this.cache.get(`${who}|${resource}`, fetch, who);
  }
}

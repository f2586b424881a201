// How NMI gets a token for one identity and resource: one provider per credential kind, chosen by the
// identity's type through the registry in providers.ts; the token service (token-service.ts) caches
// what they return.

import type { AzureIdentity, IdentityType } from '../identity/crds.ts';
import type { Token } from '../tokens/wire.ts';

export interface TokenProvider {
  /** The provider's name in metrics (`provider` label). */
  readonly name: string;
  token(identity: AzureIdentity, resource: string): Promise<Token>;
  /**
   * Identities with the same key share cached tokens (a managed identity is the same whoever names it).
   * Without it, tokens are scoped to the AzureIdentity object (a service principal's Secret is its own).
   */
  sharingKey?(identity: AzureIdentity): string;
}

/** Which provider serves each identity type. */
export type TokenProviders = Readonly<Record<IdentityType, TokenProvider>>;

// How NMI gets a token for one identity and resource. One implementation per credential kind; the
// token service (token-service.ts) caches what they return.

import type { AzureIdentity } from '../identity/crds.ts';
import type { Token } from '../tokens/wire.ts';

export interface TokenProvider {
  token(identity: AzureIdentity, resource: string): Promise<Token>;
}

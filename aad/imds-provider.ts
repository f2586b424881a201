// Type 0 (user-assigned managed identity): the node's IMDS, selected by client_id or msi_res_id.

import { Agent } from 'node:http';
import { jsonObject, retryAfterSeconds, sendRequest } from '../common/http-request.ts';
import { errnoSuffix, unavailable } from '../common/http-error.ts';
import type { AzureIdentity } from '../identity/crds.ts';
import { IMDS_API_VERSION, IMDS_TOKEN_PATH, type Token } from '../tokens/wire.ts';
import type { TokenProvider } from './token-provider.ts';
import { TRANSIENT_RETRY_SECONDS, imdsRefusal } from './upstream-errors.ts';

export function imdsProvider(imdsUrl: string, timeoutMs = 10_000): TokenProvider {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  return {
    name: 'imds',
    // A managed identity is the same identity whichever AzureIdentity object names it.
    sharingKey: (identity) => `msi|${(identity.clientID ?? identity.resourceID ?? '').toLowerCase()}`,
    async token(identity: AzureIdentity, resource: string): Promise<Token> {
      const url = new URL(IMDS_TOKEN_PATH, imdsUrl);
      url.searchParams.set('api-version', IMDS_API_VERSION);
      url.searchParams.set('resource', resource);
      if (identity.clientID) url.searchParams.set('client_id', identity.clientID);
      else if (identity.resourceID) url.searchParams.set('msi_res_id', identity.resourceID);
      let reply;
      try {
        reply = await sendRequest(url, { headers: { Metadata: 'true' }, timeoutMs, agent });
      } catch (err) {
        throw unavailable(503, `the node's IMDS at ${imdsUrl} is unreachable${errnoSuffix(err)}`, { cause: err, retryAfterSeconds: TRANSIENT_RETRY_SECONDS });
      }
      const body = jsonObject(reply.text);
      const who = `AzureIdentity ${identity.namespace}/${identity.name}`;
      if (reply.status !== 200) {
        const why = typeof body.error_description === 'string' ? body.error_description : `status ${reply.status}`;
        throw imdsRefusal(who, reply.status, why, retryAfterSeconds(reply.headers));
      }
      const expiresOn = Number(body.expires_on);
      if (typeof body.access_token !== 'string' || !Number.isFinite(expiresOn))
        throw unavailable(502, `IMDS answered without access_token/expires_on for ${who}`);
      return {
        accessToken: body.access_token,
        expiresOn,
        resource: typeof body.resource === 'string' ? body.resource : resource,
        clientId: typeof body.client_id === 'string' ? body.client_id : (identity.clientID ?? ''),
      };
    },
  };
}

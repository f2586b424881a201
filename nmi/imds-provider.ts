// Type 0 (user-assigned managed identity): the node's IMDS, selected by client_id or msi_res_id.

import { Agent } from 'node:http';
import { jsonObject, retryAfterSeconds, sendRequest } from '../common/http-request.ts';
import type { AzureIdentity } from '../identity/crds.ts';
import { UpstreamError } from '../tokens/token-cache.ts';
import type { Token } from '../tokens/wire.ts';
import type { TokenProvider } from './token-provider.ts';

export function imdsProvider(imdsUrl: string, timeoutMs = 10_000): TokenProvider {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  return {
    async token(identity: AzureIdentity, resource: string): Promise<Token> {
      const url = new URL('/metadata/identity/oauth2/token', imdsUrl);
      url.searchParams.set('api-version', '2018-02-01');
      url.searchParams.set('resource', resource);
      if (identity.clientID) url.searchParams.set('client_id', identity.clientID);
      else if (identity.resourceID) url.searchParams.set('msi_res_id', identity.resourceID);
      let reply;
      try {
        reply = await sendRequest(url, { headers: { Metadata: 'true' }, timeoutMs, agent });
      } catch (err) {
        throw new UpstreamError(503, `the node's IMDS at ${imdsUrl} is unreachable: ${(err as Error).message}`);
      }
      const body = jsonObject(reply.text);
      const who = `AzureIdentity ${identity.namespace}/${identity.name}`;
      if (reply.status === 429) throw new UpstreamError(429, `IMDS throttled the token request for ${who}`, retryAfterSeconds(reply.headers));
      if (reply.status !== 200) {
        const why = typeof body.error_description === 'string' ? body.error_description : `status ${reply.status}`;
        // 4xx from IMDS mostly means the identity is not assigned to this node's VM or scale set.
        const hint = reply.status < 500 ? ' (is the identity assigned to the node pool?)' : '';
        throw new UpstreamError(502, `IMDS refused a token for ${who}: ${why}${hint}`);
      }
      const expiresOn = Number(body.expires_on);
      if (typeof body.access_token !== 'string' || !Number.isFinite(expiresOn)) throw new UpstreamError(502, `IMDS answered without access_token/expires_on for ${who}`);
      return { accessToken: body.access_token, expiresOn, resource: typeof body.resource === 'string' ? body.resource : resource, clientId: typeof body.client_id === 'string' ? body.client_id : (identity.clientID ?? '') };
    },
  };
}

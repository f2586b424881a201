// The sidecar's side of the sidecar → NMI contract (sidecar/README.md): one GET per token, authenticated
// with the pod's projected service-account token, re-read from its file on every call so kubelet
// rotations are picked up (calls are rare: the cache answers almost everything).

import { readFile } from 'node:fs/promises';
import { jsonObject, retryAfterSeconds, sendRequest } from '../common/http-request.ts';
import { http } from '../common/node-http.ts';
import { UpstreamError } from '../tokens/token-cache.ts';
import type { Token, TokenRequest } from '../tokens/wire.ts';

export interface NmiClient {
  token(req: TokenRequest): Promise<Token>;
  /** True when NMI answers its health endpoint. */
  healthy(): Promise<boolean>;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const get = (url: URL, headers: Record<string, string>, timeoutMs: number) => sendRequest(url, { headers, timeoutMs, agent });

export function nmiClient(nmiUrl: string, tokenFile: string, timeoutMs = 10_000): NmiClient {
  return {
    async token(req) {
      let saToken: string;
      try {
        saToken = (await readFile(tokenFile, 'utf8')).trim();
      } catch (err) {
        throw new UpstreamError(503, `cannot read the service-account token file ${tokenFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      const url = new URL('/sidecar/token', nmiUrl);
      url.searchParams.set('resource', req.resource);
      if (req.selector.clientID) url.searchParams.set('client_id', req.selector.clientID);
      if (req.selector.objectID) url.searchParams.set('object_id', req.selector.objectID);
      if (req.selector.resourceID) url.searchParams.set('msi_res_id', req.selector.resourceID);
      let res;
      try {
        res = await get(url, { authorization: `Bearer ${saToken}` }, timeoutMs);
      } catch (err) {
        throw new UpstreamError(503, `NMI at ${nmiUrl} is unreachable: ${(err as Error).message}`);
      }
      const body = jsonObject(res.text);
      if (res.status !== 200) {
        const description = typeof body.error_description === 'string' ? body.error_description : `NMI answered ${res.status}`;
        throw new UpstreamError(res.status, description, retryAfterSeconds(res.headers), body);
      }
      const expiresOn = Number(body.expires_on);
      if (typeof body.access_token !== 'string' || !Number.isFinite(expiresOn)) throw new UpstreamError(502, 'NMI answered without access_token/expires_on');
      return { accessToken: body.access_token, expiresOn, resource: String(body.resource ?? req.resource), clientId: String(body.client_id ?? '') };
    },
    async healthy() {
      try {
        return (await get(new URL('/healthz', nmiUrl), {}, 2000)).status === 200;
      } catch {
        return false;
      }
    },
  };
}

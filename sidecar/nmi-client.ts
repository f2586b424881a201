// The sidecar's side of the sidecar → NMI contract (sidecar/README.md): one GET per token, authenticated
// with the pod's projected service-account token, re-read from its file on every call so kubelet
// rotations are picked up (calls are rare: the cache answers almost everything).

import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { UpstreamError } from './token-cache.ts';
import type { Token, TokenRequest } from './wire.ts';

export interface NmiClient {
  token(req: TokenRequest): Promise<Token>;
  /** True when NMI answers its health endpoint. */
  healthy(): Promise<boolean>;
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

function get(url: URL, headers: Record<string, string>, timeoutMs: number): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`NMI did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

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
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(res.text) as Record<string, unknown>;
      } catch {
        // a non-JSON answer is reported below without echoing it
      }
      if (res.status !== 200) {
        const retry = Number(res.headers['retry-after']);
        const description = typeof body.error_description === 'string' ? body.error_description : `NMI answered ${res.status}`;
        throw new UpstreamError(res.status, description, Number.isFinite(retry) ? retry : undefined, body);
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

// The sidecar's side of the sidecar → NMI contract (tokens/nmi-contract.ts): one GET per token, authenticated
// with the pod's projected service-account token, re-read from its file on every call so kubelet
// rotations are picked up (calls are rare: the cache answers almost everything).

import { errnoSuffix, unavailable } from '../common/http-error.ts';
import { sendRequest } from '../common/http-request.ts';
import { fs, http } from '../common/builtins.ts';
import { HEALTH_PATH, bearerHeader, parseSidecarTokenReply, sidecarTokenUrl } from '../tokens/nmi-contract.ts';
import type { TokenSource } from './token-source.ts';

export type NmiClient = TokenSource;

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const get = (url: URL, headers: Record<string, string>, timeoutMs: number) => sendRequest(url, { headers, timeoutMs, agent });

export function nmiClient(nmiUrl: string, tokenFile: string, timeoutMs = 10_000): NmiClient {
  return {
    waitingFor: 'waiting for NMI',
    async token(req) {
      let saToken: string;
      try {
        saToken = (await fs.promises.readFile(tokenFile, 'utf8')).trim();
      } catch (err) {
        throw unavailable(503, `cannot read the service-account token file ${tokenFile}${errnoSuffix(err)}`, { cause: err });
      }
      let reply;
      try {
        reply = await get(sidecarTokenUrl(nmiUrl, req), bearerHeader(saToken), timeoutMs);
      } catch (err) {
        throw unavailable(503, `NMI at ${nmiUrl} is unreachable${errnoSuffix(err)}`, { cause: err });
      }
      return parseSidecarTokenReply(reply, req);
    },
    async healthy() {
      try {
        return (await get(new URL(HEALTH_PATH, nmiUrl), {}, 2000)).status === 200;
      } catch {
        return false;
      }
    },
  };
}

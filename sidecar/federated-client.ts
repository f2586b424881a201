// The sidecar as azure-workload-identity's proxy: tokens straight from Azure AD for the pod's own identity, in
// exchange for its projected azure-identity-token (re-read on every exchange: the kubelet rotates it). The
// settings are the variables azwi's webhook (and podid's) gives every container; the cache in front of this
// (tokens/token-cache.ts) keeps one exchange per resource per token lifetime, refreshed ahead.
//
// One identity per pod: a request naming another client ID, or an object or resource ID (which the pod's
// ServiceAccount cannot be checked against), is refused with 400, as IMDS refuses an identity it does not hold.

import { errnoSuffix, HttpError, unavailable } from '../common/http-error.ts';
import { sendRequest } from '../common/http-request.ts';
import { fs, https } from '../common/builtins.ts';

const tls = () => process.getBuiltinModule('node:tls');
import { exchangeForm, exchangeReply, tokenEndpoint } from '../aad/federated-exchange.ts';
import type { NmiTokenQuery } from '../tokens/nmi-contract.ts';
import type { TokenSource } from './token-source.ts';

export interface FederatedSettings {
  clientId: string;
  tenantId: string;
  authorityHost: string;
  tokenFile: string;
  timeoutMs?: number;
  /** CA certificates to trust beside Node's (tests; in a pod, NODE_EXTRA_CA_CERTS). */
  ca?: string;
}

/** Why the pod's identity cannot answer this selector, or undefined when it can. Pure. */
export function selectorProblem(clientId: string, q: NmiTokenQuery): string | undefined {
  const { clientID, objectID, resourceID } = q.selector;
  if (objectID || resourceID) return `this pod's workload identity is client ${clientId}; ask by client_id or without a selector`;
  if (clientID && clientID.toLowerCase() !== clientId.toLowerCase()) return `this pod's workload identity is client ${clientId}, not ${clientID}`;
  return undefined;
}

async function readAssertion(tokenFile: string): Promise<string> {
  try {
    return (await fs.promises.readFile(tokenFile, 'utf8')).trim();
  } catch (err) {
    throw unavailable(503, `cannot read the federated token file ${tokenFile}${errnoSuffix(err)}`, { cause: err });
  }
}

export function federatedClient(s: FederatedSettings): TokenSource {
  const endpoint = tokenEndpoint(s.authorityHost, s.tenantId);
  // node:https (and TLS) load on the first exchange, not at start: until then the proxy costs what an idle sidecar does.
  let agent: import('node:https').Agent | undefined;
  const agentOnce = () => (agent ??= new (https().Agent)({ keepAlive: true, maxSockets: 4, ...(s.ca ? { ca: [...tls().rootCertificates, s.ca] } : {}) }));
  const timeoutMs = s.timeoutMs ?? 10_000;
  return {
    waitingFor: `waiting for the federated token file ${s.tokenFile}`,
    async token(q) {
      const problem = selectorProblem(s.clientId, q);
      if (problem) throw new HttpError(400, 'identity_not_found', problem);
      const assertion = await readAssertion(s.tokenFile);
      let reply;
      try {
        reply = await sendRequest(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: exchangeForm(s.clientId, q.resource, assertion),
          timeoutMs,
          agent: agentOnce(),
        });
      } catch (err) {
        throw unavailable(503, `Azure AD at ${endpoint.host} is unreachable${errnoSuffix(err)}`, { cause: err });
      }
      return exchangeReply(reply, s.clientId, q.resource, Date.now() / 1000);
    },
    async healthy() {
      try {
        return (await readAssertion(s.tokenFile)).length > 0;
      } catch {
        return false;
      }
    },
  };
}

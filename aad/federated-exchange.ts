// Workload identity's exchange, as pure functions: the request that trades a federated token (the pod's projected
// service-account token) for an Azure AD access token (OAuth 2.0 client credentials with a JWT-bearer client
// assertion, RFC 7523, at the tenant's v2.0 token endpoint), and Azure AD's answer read into a Token. The same
// request @azure/identity's WorkloadIdentityCredential makes (ClientAssertionCredential → MSAL's
// acquireTokenByClientCredential with clientAssertion). Built-ins only: the sidecar loads it.

import { HttpError } from '../common/http-error.ts';
import { jsonObject, type RawReply } from '../common/http-request.ts';
import { JWT_BEARER_ASSERTION } from '../tokens/workload-identity-contract.ts';
import type { Token } from '../tokens/wire.ts';
import { aadRefusal } from './upstream-errors.ts';

/** `<authority host>/<tenant>/oauth2/v2.0/token`; the host may or may not end in "/". */
export function tokenEndpoint(authorityHost: string, tenantId: string): URL {
  return new URL(`${encodeURIComponent(tenantId)}/oauth2/v2.0/token`, authorityHost.endsWith('/') ? authorityHost : `${authorityHost}/`);
}

/** The form body: one `<resource>/.default` scope (a resource's own trailing slash stays, as MSAL sends it). */
export function exchangeForm(clientId: string, resource: string, assertion: string): string {
  return new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: clientId,
    scope: `${resource}/.default`,
    client_assertion_type: JWT_BEARER_ASSERTION,
    client_assertion: assertion,
  }).toString();
}

/** Azure AD's answer → a Token, or the refusal as podid answers it (aad/upstream-errors.ts). Never echoes a token. */
export function exchangeReply(reply: RawReply, clientId: string, resource: string, nowSeconds: number): Token {
  const body = jsonObject(reply.text);
  const who = `client ${clientId}`;
  if (reply.status !== 200) {
    const description = typeof body.error_description === 'string' ? body.error_description.split('\r\n')[0]! : `HTTP ${reply.status}`;
    throw aadRefusal(who, { code: typeof body.error === 'string' ? body.error : undefined, status: reply.status, detail: description });
  }
  const expiresIn = Number(body.expires_in);
  if (typeof body.access_token !== 'string' || !body.access_token || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw new HttpError(502, 'unavailable', `Azure AD answered 200 without an access_token and expires_in for ${who}`);
  }
  return { accessToken: body.access_token, expiresOn: Math.floor(nowSeconds + expiresIn), resource, clientId };
}

// NMI's own endpoints, both ends in one place: the sidecar → NMI contract (sidecar/README.md) and the
// Secrets Store CSI driver's `/host/token`. Pure: requests are built and parsed here, sent elsewhere.
// Dependency-free, so the sidecar can load it.

import { isErrorCode } from '../common/error-codes.ts';
import { HttpError } from '../common/http-error.ts';
import { jsonObject, retryAfterSeconds, type RawReply } from '../common/http-request.ts';
import type { IdentitySelector } from '../identity/select.ts';
import { SELECTOR_NAMES, header, imdsBody, resourceAndSelector, resourceOf, type Headers, type Token } from './wire.ts';

export const SIDECAR_TOKEN_PATH = '/sidecar/token';
export const HOST_TOKEN_PATH = '/host/token';
export const HEALTH_PATH = '/healthz';

/** What one token request asks NMI for, whichever endpoint carries it. */
export interface NmiTokenQuery {
  resource: string;
  selector: IdentitySelector;
}

/** The sidecar's GET: `<nmi>/sidecar/token?resource=…[&client_id=…|&object_id=…|&msi_res_id=…]`. */
export function sidecarTokenUrl(nmiUrl: string, q: NmiTokenQuery): URL {
  const url = new URL(SIDECAR_TOKEN_PATH, nmiUrl);
  url.searchParams.set('resource', q.resource);
  // Each selector under its first IMDS name, which NMI reads back through the same table (sidecarTokenQuery).
  for (const [field, names] of SELECTOR_NAMES.imds) {
    const value = q.selector[field];
    if (value) url.searchParams.set(names[0]!, value);
  }
  return url;
}

/** The Authorization header the sidecar presents: the pod's projected service-account token. */
export const bearerHeader = (saToken: string): Record<string, string> => ({ authorization: `Bearer ${saToken}` });

/** The bearer token a caller presents, if any. */
export function presentedToken(headers: Headers): string | undefined {
  const auth = header(headers, 'authorization') ?? '';
  return (auth.startsWith('Bearer ') ? auth.slice(7).trim() : '') || undefined;
}

/** NMI's reading of the caller's proof: the bearer token, or a 401 saying how to present it. */
export function bearerToken(headers: Headers): string | HttpError {
  return presentedToken(headers) ?? new HttpError(401, 'unauthorized', 'present the pod\'s projected service-account token as "Authorization: Bearer <token>"');
}

/** NMI's reading of the sidecar's query: resource (or scope) and selectors. */
export function sidecarTokenQuery(url: URL): NmiTokenQuery | HttpError {
  return resourceAndSelector(url.searchParams, 'imds');
}

/** NMI's 200 body to the sidecar: `expires_on` is a number here (epoch seconds), unlike IMDS. */
export function sidecarTokenBody(t: Token): Record<string, string | number> {
  return { access_token: t.accessToken, expires_on: t.expiresOn, resource: t.resource, token_type: 'Bearer', client_id: t.clientId };
}

/** The sidecar's reading of NMI's answer: the token, or an HttpError carrying NMI's status, code and reason. */
export function parseSidecarTokenReply(reply: RawReply, requested: NmiTokenQuery): Token {
  const body = jsonObject(reply.text);
  if (reply.status !== 200) {
    const description = typeof body.error_description === 'string' ? body.error_description : `NMI answered ${reply.status}`;
    // A code this sidecar does not know (an NMI of another version) keeps NMI's status and description.
    const code = typeof body.error === 'string' && isErrorCode(body.error) ? body.error : reply.status === 429 ? 'throttled' : 'unavailable';
    throw new HttpError(reply.status, code, description, { retryAfterSeconds: retryAfterSeconds(reply.headers) });
  }
  const expiresOn = Number(body.expires_on);
  if (typeof body.access_token !== 'string' || !Number.isFinite(expiresOn))
    throw new HttpError(502, 'unavailable', 'NMI answered without access_token/expires_on');
  return {
    accessToken: body.access_token,
    expiresOn,
    resource: String(body.resource ?? requested.resource),
    clientId: String(body.client_id ?? ''),
  };
}

/**
 * The CSI driver's request: the pod named by the `podname`/`podns` headers (aad-pod-identity's contract; podid
 * also takes the pod's service-account token as `Authorization: Bearer`, see nmi/host-auth.ts), and an optional
 * `clientid` header.
 */
export function parseHostTokenRequest(url: URL, headers: Headers): { named?: { namespace: string; name: string }; query: NmiTokenQuery } | HttpError {
  const name = header(headers, 'podname');
  const namespace = header(headers, 'podns');
  const resource = resourceOf(url.searchParams);
  if (resource instanceof HttpError) return resource;
  const query = { resource, selector: { clientID: header(headers, 'clientid') || undefined } };
  return name && namespace ? { named: { namespace, name }, query } : { query };
}

/** The CSI driver's 200 body: the IMDS body under `token`, and the identity's client id. */
export function hostTokenBody(t: Token, nowSeconds: number): { token: Record<string, string>; clientid: string } {
  return { token: imdsBody(t, nowSeconds), clientid: t.clientId };
}

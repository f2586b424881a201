// The token APIs Azure SDKs already speak, as pure functions: request parsing (IMDS and App Service
// flavours) and response bodies. See ../shared design notes §2; numbers are strings, as IMDS sends them.

import { timingSafeEqual } from 'node:crypto';
import { HttpError } from '../common/http-error.ts';
import type { IdentitySelector } from '../identity/select.ts';

/** The IMDS token path (MSAL adds a trailing slash; callers compare without it, case-insensitively). */
export const IMDS_TOKEN_PATH = '/metadata/identity/oauth2/token';
/** The App Service token path the sidecar serves (`IDENTITY_ENDPOINT` points here). */
export const APP_SERVICE_TOKEN_PATH = '/msi/token';
/** The IMDS api-version podid asks the node's IMDS with. */
export const IMDS_API_VERSION = '2018-02-01';

export type Flavour = 'imds' | 'appservice';

export interface TokenRequest {
  flavour: Flavour;
  resource: string;
  selector: IdentitySelector;
}

/** What the sidecar holds for one (selector, resource). */
export interface Token {
  accessToken: string;
  /** Epoch seconds. */
  expiresOn: number;
  resource: string;
  clientId: string;
}

export type Headers = Record<string, string | string[] | undefined>;

const bad = (status: number, error: string, description: string): HttpError => new HttpError(status, error, description);

/** One header's value (the first, when repeated). */
export const header = (h: Headers, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/** `https://vault.azure.net/.default` → `https://vault.azure.net`; MSAL-style scopes name the resource. */
export function resourceFromScope(scope: string): string {
  return scope.replace(/\/\.default$/, '');
}

/** `resource`, or the resource an MSAL-style `scope` names; a HttpError when neither is given. */
export function resourceOf(q: URLSearchParams): string | HttpError {
  const scope = q.get('scope');
  const resource = q.get('resource') ?? (scope ? resourceFromScope(scope) : undefined);
  if (!resource) return bad(400, 'invalid_request', "Required query variable 'resource' is missing");
  return resource;
}

/** The identity selectors of a token request (`principal_id` is App Service's name for `object_id`). */
export function selectorOf(q: URLSearchParams, objectParam: 'object_id' | 'principal_id' = 'object_id'): IdentitySelector {
  const pick = (...names: string[]) => names.map((n) => q.get(n)).find((v) => v) ?? undefined;
  return { clientID: pick('client_id'), objectID: pick(objectParam, 'object_id'), resourceID: pick('msi_res_id', 'mi_res_id') };
}

/** IMDS refuses proxied calls; so do podid's metadata endpoints. */
export function forwardedRefusal(headers: Headers): HttpError | undefined {
  if (header(headers, 'x-forwarded-for') !== undefined) return bad(400, 'invalid_request', 'Requests with X-Forwarded-For are not accepted');
  return undefined;
}

export function parseImdsRequest(url: URL, headers: Headers): TokenRequest | HttpError {
  const forwarded = forwardedRefusal(headers);
  if (forwarded) return forwarded;
  if (header(headers, 'metadata')?.toLowerCase() !== 'true') return bad(400, 'invalid_request', 'Required metadata header not specified');
  const q = url.searchParams;
  if (!q.get('api-version')) return bad(400, 'invalid_request', "Required query variable 'api-version' is missing");
  const resource = resourceOf(q);
  if (typeof resource !== 'string') return resource;
  return { flavour: 'imds', resource, selector: selectorOf(q, 'object_id') };
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function parseAppServiceRequest(url: URL, headers: Headers, expectedHeader: string): TokenRequest | HttpError {
  const forwarded = forwardedRefusal(headers);
  if (forwarded) return forwarded;
  if (!sameSecret(header(headers, 'x-identity-header'), expectedHeader)) {
    return bad(401, 'unauthorized', 'The X-IDENTITY-HEADER header is missing or wrong; use the IDENTITY_HEADER value');
  }
  const q = url.searchParams;
  if (!q.get('api-version')) return bad(400, 'invalid_request', "Required query variable 'api-version' is missing");
  const resource = resourceOf(q);
  if (typeof resource !== 'string') return resource;
  return { flavour: 'appservice', resource, selector: selectorOf(q, 'principal_id') };
}

/** The IMDS success body: every number as a string. */
export function imdsBody(t: Token, nowSeconds: number): Record<string, string> {
  const expiresIn = String(Math.max(0, t.expiresOn - Math.floor(nowSeconds)));
  return {
    access_token: t.accessToken,
    client_id: t.clientId,
    expires_in: expiresIn,
    expires_on: String(t.expiresOn),
    ext_expires_in: expiresIn,
    not_before: String(Math.floor(nowSeconds)),
    resource: t.resource,
    token_type: 'Bearer',
  };
}

/** The App Service (2019-08-01) success body. */
export function appServiceBody(t: Token): Record<string, string> {
  return {
    access_token: t.accessToken,
    expires_on: String(t.expiresOn),
    resource: t.resource,
    token_type: 'Bearer',
    client_id: t.clientId,
  };
}

/** A stable cache key for (selector, resource); selector values compare case-insensitively. */
export function cacheKey(r: TokenRequest): string {
  const s = r.selector;
  return [s.clientID ?? '', s.objectID ?? '', s.resourceID ?? '', r.resource].map((v) => v.toLowerCase()).join('|');
}

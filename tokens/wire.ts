// The token APIs Azure SDKs already speak, as pure functions: request parsing (IMDS and App Service
// flavours) and response bodies. See ../shared design notes §2; numbers are strings, as IMDS sends them.

import type { ErrorCode } from '../common/error-codes.ts';
import { crypto } from '../common/builtins.ts';
import { HttpError } from '../common/http-error.ts';
import type { IdentitySelector } from '../identity/select.ts';

/** The IMDS token path (MSAL adds a trailing slash; callers compare without it, case-insensitively). */
export const IMDS_TOKEN_PATH = '/metadata/identity/oauth2/token';
/** The App Service token path the sidecar serves (`IDENTITY_ENDPOINT` points here). */
export const APP_SERVICE_TOKEN_PATH = '/msi/token';
/**
 * The legacy MSI endpoint path (`MSI_ENDPOINT`): what msrestazure (Azure CLI 2.45) and go-autorest's adal
 * (external-dns, older cert-manager) call when MSI_ENDPOINT is set without MSI_SECRET: a POST of a form
 * (`resource`, and `client_id`, `object_id` or `msi_res_id`) with `Metadata: true`, answered like IMDS.
 */
export const LEGACY_MSI_TOKEN_PATH = '/oauth2/token';
/** Largest form body the legacy endpoint reads. */
export const MAX_FORM_BYTES = 8192;
/** The IMDS api-version podid asks the node's IMDS with. */
export const IMDS_API_VERSION = '2018-02-01';

export type Flavour = 'imds' | 'appservice' | 'msi';

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

const bad = (status: number, error: ErrorCode, description: string): HttpError => new HttpError(status, error, description);

/** One header's value (the first, when repeated). */
export const header = (h: Headers, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/** `https://vault.azure.net/.default` → `https://vault.azure.net`; MSAL-style scopes name the resource. */
export function resourceFromScope(scope: string): string {
  return scope.replace(/\/\.default$/, '');
}

/** Longest resource accepted: Azure AD's identifier URIs are far shorter; anything longer is not one. */
export const MAX_RESOURCE_LENGTH = 2048;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ABSOLUTE_URI = /^[a-z][a-z0-9+.-]*:\S+$/i;

/**
 * `resource`, or the resource an MSAL-style `scope` names, exactly as sent (Azure AD compares audiences to the
 * letter: `https://management.core.windows.net/` keeps its slash). Refused with 400 before anyone asks Azure AD:
 * a missing, repeated, over-long or control-character resource, and one that is neither an absolute URI nor an
 * application (client) id.
 */
export function resourceOf(q: URLSearchParams): string | HttpError {
  const given = [...q.getAll('resource'), ...q.getAll('scope').map(resourceFromScope)];
  if (given.length === 0 || !given[0]) return bad(400, 'invalid_request', "Required query variable 'resource' is missing");
  if (given.length > 1) return bad(400, 'invalid_request', 'Give one resource (or one scope), not several');
  const resource = given[0];
  if (resource.length > MAX_RESOURCE_LENGTH) return bad(400, 'invalid_resource', `The resource is longer than ${MAX_RESOURCE_LENGTH} characters`);
  if (/[\u0000-\u001f\u007f]/.test(resource)) return bad(400, 'invalid_resource', 'The resource contains control characters (CR, LF, …)');
  if (!GUID.test(resource) && !(ABSOLUTE_URI.test(resource) && URL.canParse(resource))) {
    return bad(
      400,
      'invalid_resource',
      `The resource ${JSON.stringify(resource.slice(0, 200))} is not an absolute URI (like https://vault.azure.net) or an application id`,
    );
  }
  return resource;
}

/** The query parameters naming each selector (`principal_id` is App Service's name for `object_id`); the first is
 * the one podid sends (the sidecar to NMI). */
export const SELECTOR_NAMES: Record<'imds' | 'appservice', ReadonlyArray<[keyof IdentitySelector, readonly string[]]>> = {
  imds: [
    ['clientID', ['client_id']],
    ['objectID', ['object_id']],
    ['resourceID', ['msi_res_id', 'mi_res_id']],
  ],
  appservice: [
    ['clientID', ['client_id']],
    ['objectID', ['principal_id', 'object_id']],
    ['resourceID', ['msi_res_id', 'mi_res_id']],
  ],
};

/**
 * The identity selectors of a token request. Each may be given once: a second value, or an empty one beside a
 * real one, is a 400 (taking the first would hand a pod holding several identities a token it did not ask for).
 */
export function selectorOf(q: URLSearchParams, flavour: 'imds' | 'appservice' = 'imds'): IdentitySelector | HttpError {
  const selector: IdentitySelector = {};
  for (const [field, names] of SELECTOR_NAMES[flavour]) {
    const values = names.flatMap((n) => q.getAll(n));
    if (values.length > 1) return bad(400, 'invalid_request', `Give ${names.join(' or ')} once; the request has ${values.length} values`);
    if (values[0]) selector[field] = values[0];
  }
  return selector;
}

/** IMDS refuses proxied calls; so do podid's metadata endpoints (`X-Forwarded-For` and RFC 7239 `Forwarded`). */
export function forwardedRefusal(headers: Headers): HttpError | undefined {
  for (const name of ['x-forwarded-for', 'forwarded']) {
    if (header(headers, name) !== undefined)
      return bad(400, 'invalid_request', `Requests with ${name === 'forwarded' ? 'Forwarded' : 'X-Forwarded-For'} are not accepted`);
  }
  return undefined;
}

/** A request's resource and selectors, or the first reason they are refused. */
export function resourceAndSelector(q: URLSearchParams, flavour: 'imds' | 'appservice'): { resource: string; selector: IdentitySelector } | HttpError {
  const resource = resourceOf(q);
  if (resource instanceof HttpError) return resource;
  const selector = selectorOf(q, flavour);
  return selector instanceof HttpError ? selector : { resource, selector };
}

export function parseImdsRequest(url: URL, headers: Headers): TokenRequest | HttpError {
  const forwarded = forwardedRefusal(headers);
  if (forwarded) return forwarded;
  if (header(headers, 'metadata')?.toLowerCase() !== 'true') return bad(400, 'invalid_request', 'Required metadata header not specified');
  const q = url.searchParams;
  if (!q.get('api-version')) return bad(400, 'invalid_request', "Required query variable 'api-version' is missing");
  const r = resourceAndSelector(q, 'imds');
  return r instanceof HttpError ? r : { flavour: 'imds', ...r };
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto().timingSafeEqual(a, b);
}

export function parseAppServiceRequest(url: URL, headers: Headers, expectedHeader: string): TokenRequest | HttpError {
  const forwarded = forwardedRefusal(headers);
  if (forwarded) return forwarded;
  if (!sameSecret(header(headers, 'x-identity-header'), expectedHeader)) {
    return bad(401, 'unauthorized', 'The X-IDENTITY-HEADER header is missing or wrong; use the IDENTITY_HEADER value');
  }
  const q = url.searchParams;
  if (!q.get('api-version')) return bad(400, 'invalid_request', "Required query variable 'api-version' is missing");
  const r = resourceAndSelector(q, 'appservice');
  return r instanceof HttpError ? r : { flavour: 'appservice', ...r };
}

/** The legacy MSI endpoint's request: a form body (already read) with `Metadata: true`; selectors as IMDS names them. */
export function parseLegacyMsiRequest(form: URLSearchParams, headers: Headers): TokenRequest | HttpError {
  const forwarded = forwardedRefusal(headers);
  if (forwarded) return forwarded;
  if (header(headers, 'metadata')?.toLowerCase() !== 'true') return bad(400, 'invalid_request', 'Required metadata header not specified');
  const r = resourceAndSelector(form, 'imds');
  return r instanceof HttpError ? r : { flavour: 'msi', ...r };
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

// An Azure AD (Entra ID) emulator over HTTPS: the v2.0 and v1 token endpoints (client credentials with a
// client secret, a certificate assertion or a federated assertion), the discovery documents MSAL reads,
// and JWKS. It speaks Azure AD's wire format, errors included, and can be told to fail, throttle or delay.

import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { closeServer, listenOn } from '../common/serve.ts';
import { Faults, reply } from './faults.ts';
import { decodeJwt, thumbprints, verifySignature, type DecodedJwt } from './jwt.ts';
import type { AppRegistration, FederatedCredential, Tenant } from './tenant.ts';

/** Scopes Azure AD accepts beside one `/.default` scope in a client-credentials request. */
const OIDC_SCOPES = new Set(['openid', 'offline_access', 'profile', 'email']);
export interface AadRequest {
  path: string;
  clientId?: string;
  /** secret, certificate, federated */
  credential?: string;
  resource?: string;
}

export interface RunningAad {
  url: string;
  tenant: Tenant;
  faults: Faults;
  requests: AadRequest[];
  close(): Promise<void>;
}

const FEDERATED_AUDIENCE = 'api://AzureADTokenExchange';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

class AadError extends Error {
  readonly status: number;
  readonly error: string;
  readonly code: number;
  constructor(status: number, error: string, code: number, description: string) {
    super(`AADSTS${code}: ${description}`);
    this.status = status;
    this.error = error;
    this.code = code;
  }
  body(): Record<string, unknown> {
    return {
      error: this.error,
      error_description: this.message,
      error_codes: [this.code],
      timestamp: new Date().toISOString(),
      trace_id: crypto.randomUUID(),
      correlation_id: crypto.randomUUID(),
    };
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

function checkCertificateAssertion(tenant: Tenant, app: AppRegistration, jwt: DecodedJwt, audiences: string[]): void {
  const cert = tenant.certificateKey(app);
  if (!cert) throw new AadError(401, 'invalid_client', 700027, `No certificate is registered for application ${app.clientId}.`);
  const { x5t, x5tS256 } = thumbprints(cert.der);
  if (jwt.header.x5t !== x5t && jwt.header['x5t#S256'] !== x5tS256)
    throw new AadError(401, 'invalid_client', 700027, 'The certificate thumbprint (x5t) does not match a registered certificate.');
  if (!verifySignature(jwt, cert.key)) throw new AadError(401, 'invalid_client', 700027, 'Client assertion failed signature validation.');
  if (!audiences.includes(String(jwt.claims.aud)))
    throw new AadError(401, 'invalid_client', 700212, `The client assertion audience ${String(jwt.claims.aud)} is not this token endpoint.`);
}

/** The key the federated credential trusts for this assertion: its fixed key, or the issuer's JWKS entry with the assertion's kid. */
async function federatedKey(cred: FederatedCredential, jwt: DecodedJwt): Promise<KeyObject | undefined> {
  if (cred.publicKeyPem) return createPublicKey(cred.publicKeyPem);
  if (!cred.jwks) return undefined;
  let keys: JsonWebKey[];
  try {
    keys = (await cred.jwks()).keys;
  } catch (err) {
    throw new AadError(400, 'invalid_request', 700211, `Could not read the signing keys of issuer '${cred.issuer}': ${(err as Error).message}`);
  }
  const jwk = keys.find((k) => (k as { kid?: string }).kid === jwt.header.kid);
  return jwk ? createPublicKey({ key: jwk, format: 'jwk' }) : undefined;
}

async function checkFederatedAssertion(app: AppRegistration, jwt: DecodedJwt): Promise<void> {
  const match = app.federated?.find((f) => f.issuer === jwt.claims.iss && f.subject === jwt.claims.sub);
  if (!match)
    throw new AadError(
      400,
      'invalid_request',
      700213,
      `No matching federated identity record found for presented assertion subject '${String(jwt.claims.sub)}'.`,
    );
  const aud = ([] as unknown[]).concat(jwt.claims.aud);
  if (!aud.includes(match.audience ?? FEDERATED_AUDIENCE))
    throw new AadError(400, 'invalid_request', 700212, `No matching federated identity record found for presented assertion audience '${aud.join(',')}'.`);
  const key = await federatedKey(match, jwt);
  if (!key || !verifySignature(jwt, key)) throw new AadError(401, 'invalid_client', 700024, 'Client assertion failed signature validation.');
}

export async function startAad(opts: { tenant: Tenant; tls: { cert: string; key: string }; host?: string; port?: number }): Promise<RunningAad> {
  const { tenant } = opts;
  const faults = new Faults();
  const requests: AadRequest[] = [];
  let base = '';

  async function token(form: URLSearchParams, version: '1.0' | '2.0', endpoint: string, path: string): Promise<Record<string, unknown>> {
    if (form.get('grant_type') !== 'client_credentials')
      throw new AadError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${form.get('grant_type') ?? ''}'.`);
    const clientId = form.get('client_id') ?? '';
    const seen: AadRequest = { path, clientId };
    requests.push(seen);
    const app = tenant.app(clientId);
    if (!app)
      throw new AadError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant.id}'.`);
    let resource: string;
    if (version === '2.0') {
      // Azure AD's client-credentials grant: exactly one `<resource>/.default` scope, optionally beside the OIDC
      // scopes (MSAL for Go sends `X/.default openid offline_access profile`). The resource is everything before the
      // last "/", so `https://management.core.windows.net//.default` names `https://management.core.windows.net/`.
      const scope = form.get('scope') ?? '';
      const scopes = scope.split(' ').filter(Boolean);
      const defaults = scopes.filter((s) => s.endsWith('/.default'));
      const others = scopes.filter((s) => !s.endsWith('/.default'));
      if (defaults.length !== 1 || others.some((s) => !OIDC_SCOPES.has(s)))
        throw new AadError(
          400,
          'invalid_scope',
          1002012,
          `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.`,
        );
      resource = defaults[0]!.slice(0, -'/.default'.length);
    } else {
      resource = form.get('resource') ?? '';
      if (!resource) throw new AadError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'resource'.");
    }
    seen.resource = resource;
    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    if (secret !== null) {
      seen.credential = 'secret';
      if (!app.secret || secret !== app.secret)
        throw new AadError(
          401,
          'invalid_client',
          7000215,
          'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
        );
    } else if (assertion !== null && form.get('client_assertion_type') === JWT_BEARER) {
      let jwt: DecodedJwt;
      try {
        jwt = decodeJwt(assertion);
      } catch {
        throw new AadError(401, 'invalid_client', 50027, 'JWT token is invalid or malformed.');
      }
      if (typeof jwt.claims.exp !== 'number' || jwt.claims.exp < Date.now() / 1000)
        throw new AadError(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
      if (jwt.claims.iss === clientId) {
        seen.credential = 'certificate';
        checkCertificateAssertion(tenant, app, jwt, [endpoint, `${base}/${tenant.id}/oauth2/v2.0/token`, `${base}/${tenant.id}/oauth2/token`]);
      } else {
        seen.credential = 'federated';
        await checkFederatedAssertion(app, jwt);
      }
    } else {
      throw new AadError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    const minted = tenant.mint(resource, app, version);
    if (version === '2.0') return { token_type: 'Bearer', expires_in: minted.expiresIn, ext_expires_in: minted.expiresIn, access_token: minted.accessToken };
    const now = Math.floor(Date.now() / 1000);
    return {
      token_type: 'Bearer',
      expires_in: String(minted.expiresIn),
      ext_expires_in: String(minted.expiresIn),
      expires_on: String(minted.expiresOn),
      not_before: String(now),
      resource,
      access_token: minted.accessToken,
    };
  }

  function openidConfiguration(v2: boolean): Record<string, unknown> {
    const root = `${base}/${tenant.id}`;
    return {
      issuer: v2 ? `${root}/v2.0` : `https://sts.windows.net/${tenant.id}/`,
      authorization_endpoint: v2 ? `${root}/oauth2/v2.0/authorize` : `${root}/oauth2/authorize`,
      token_endpoint: v2 ? `${root}/oauth2/v2.0/token` : `${root}/oauth2/token`,
      end_session_endpoint: v2 ? `${root}/oauth2/v2.0/logout` : `${root}/oauth2/logout`,
      jwks_uri: v2 ? `${root}/discovery/v2.0/keys` : `${root}/discovery/keys`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      tenant_region_scope: 'WW',
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', base);
    const [tenantPart, ...rest] = url.pathname.split('/').filter(Boolean);
    const route = rest.join('/');
    if (req.method === 'GET' && tenantPart === 'common' && route === 'discovery/instance') {
      const host = new URL(base).host;
      return reply(res, 200, {
        tenant_discovery_endpoint: `${base}/${tenant.id}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      });
    }
    if (tenantPart !== tenant.id) {
      return reply(
        res,
        400,
        new AadError(400, 'invalid_tenant', 90002, `Tenant '${tenantPart ?? ''}' not found. Check to make sure you have the correct tenant ID.`).body(),
      );
    }
    if (req.method === 'GET' && (route === 'v2.0/.well-known/openid-configuration' || route === '.well-known/openid-configuration'))
      return reply(res, 200, openidConfiguration(route.startsWith('v2.0')));
    if (req.method === 'GET' && (route === 'discovery/v2.0/keys' || route === 'discovery/keys')) return reply(res, 200, tenant.jwks());
    if (req.method === 'POST' && (route === 'oauth2/v2.0/token' || route === 'oauth2/token')) {
      if (await faults.apply(res)) return;
      const form = new URLSearchParams(await readBody(req));
      try {
        return reply(res, 200, await token(form, route === 'oauth2/token' ? '1.0' : '2.0', `${base}${url.pathname}`, url.pathname));
      } catch (err) {
        if (err instanceof AadError) return reply(res, err.status, err.body());
        throw err;
      }
    }
    reply(res, 404, { error: 'not_found', error_description: `the AAD emulator does not serve ${req.method} ${url.pathname}` });
  }

  const server: Server = createServer({ cert: opts.tls.cert, key: opts.tls.key }, (req, res) => {
    handle(req, res).catch((err: Error) => reply(res, 500, { error: 'server_error', error_description: err.message }));
  });
  base = await listenOn(server, opts.host ?? '127.0.0.1', opts.port ?? 0, 'https');
  return { url: base, tenant, faults, requests, close: () => closeServer(server, true) };
}

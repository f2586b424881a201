// The data plane the seeds' demos call, emulated over HTTPS (the test CA): a Key Vault secret read and a Blob
// upload, each checking the bearer token as the real services do — signed by the emulated tenant's key, for
// the service's own audience, not expired, and for a principal the vault or account grants (by object id).
// Key Vault answers an unauthenticated first request with its challenge (WWW-Authenticate naming the tenant's
// authority and the resource), which is how the real @azure/keyvault-secrets client learns what to ask for.

import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { closeServer, listenOn } from '../common/serve.ts';
import { reply } from './faults.ts';
import type { Tenant } from './tenant.ts';

export const KEY_VAULT_RESOURCE = 'https://vault.azure.net';
export const STORAGE_RESOURCE = 'https://storage.azure.com';
/** Path-style account name (the storage client reads it from the first path segment of an IP-addressed URL). */
export const STORAGE_ACCOUNT = 'podidaccount';

export interface DataPlaneRequest {
  service: 'keyvault' | 'blob';
  path: string;
  status: number;
  /** Who the token was for (its `oid`), when its signature, audience and expiry verified. */
  oid?: string;
}

export interface RunningDataPlane {
  url: string;
  /** Key Vault secrets by name. */
  secrets: Map<string, string>;
  /** Uploaded blobs by "container/blob". */
  blobs: Map<string, Buffer>;
  /** Object ids the vault and the account grant access to. */
  granted: Set<string>;
  requests: DataPlaneRequest[];
  close(): Promise<void>;
}

export interface DataPlaneOptions {
  tenant: Tenant;
  tls: { cert: string; key: string };
  /** The authority the Key Vault challenge names (the AAD emulator's URL). */
  authorityHost: string;
  host?: string;
  port?: number;
}

type Check = { ok: true; oid: string } | { ok: false; status: 401 | 403; code: string; message: string; oid?: string };

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startDataPlane(opts: DataPlaneOptions): Promise<RunningDataPlane> {
  const secrets = new Map<string, string>();
  const blobs = new Map<string, Buffer>();
  const granted = new Set<string>();
  const requests: DataPlaneRequest[] = [];

  /** The bearer token as the service checks it: signature, audience (with or without the trailing slash), expiry, grant. */
  function check(req: IncomingMessage, audience: string): Check {
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ')) return { ok: false, status: 401, code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' };
    let claims;
    try {
      claims = opts.tenant.verify(auth.slice(7));
    } catch {
      return { ok: false, status: 401, code: 'Unauthorized', message: 'the token is not signed by the tenant' };
    }
    const aud = String(claims.aud ?? '');
    if (aud.replace(/\/$/, '') !== audience)
      return { ok: false, status: 401, code: 'Unauthorized', message: `the token is for audience ${aud}, not ${audience}` };
    if (Number(claims.exp) <= Date.now() / 1000) return { ok: false, status: 401, code: 'Unauthorized', message: 'the token has expired' };
    const oid = String(claims.oid ?? '');
    if (!granted.has(oid)) return { ok: false, status: 403, code: 'Forbidden', message: `the principal ${oid} has no access`, oid };
    return { ok: true, oid };
  }

  async function keyVault(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const [, , name, version] = url.pathname.split('/');
    if (!req.headers.authorization) {
      requests.push({ service: 'keyvault', path: url.pathname, status: 401 });
      return reply(
        res,
        401,
        { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } },
        {
          'www-authenticate': `Bearer authorization="${opts.authorityHost}/${opts.tenant.id}", resource="${KEY_VAULT_RESOURCE}"`,
        },
      );
    }
    const c = check(req, KEY_VAULT_RESOURCE);
    requests.push({ service: 'keyvault', path: url.pathname, status: c.ok ? 200 : c.status, ...(c.oid ? { oid: c.oid } : {}) });
    if (!c.ok) return reply(res, c.status, { error: { code: c.code, message: c.message } });
    const value = name ? secrets.get(name) : undefined;
    if (value === undefined)
      return reply(res, 404, { error: { code: 'SecretNotFound', message: `A secret with (name/id) ${name} was not found in this key vault.` } });
    const now = Math.floor(Date.now() / 1000);
    reply(res, 200, {
      value,
      id: `${base}/secrets/${name}/${version || 'a1b2c3d4e5f60718293a4b5c6d7e8f90'}`,
      attributes: { enabled: true, created: now, updated: now, recoveryLevel: 'Recoverable+Purgeable' },
    });
  }

  async function blob(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const [, account, container, ...rest] = url.pathname.split('/');
    const key = `${container}/${rest.join('/')}`;
    const c = check(req, STORAGE_RESOURCE);
    requests.push({ service: 'blob', path: url.pathname, status: c.ok ? 201 : c.status, ...(c.oid ? { oid: c.oid } : {}) });
    const headers = { 'x-ms-request-id': randomUUID(), 'x-ms-version': String(req.headers['x-ms-version'] ?? '2025-01-05') };
    if (!c.ok) {
      const xml = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${c.status === 401 ? 'InvalidAuthenticationInfo' : 'AuthorizationPermissionMismatch'}</Code><Message>${c.message}</Message></Error>`;
      res.writeHead(c.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml), ...headers }).end(xml);
      return;
    }
    if (account !== STORAGE_ACCOUNT || !container || !rest.length) return reply(res, 404, { error: 'ResourceNotFound' }, headers);
    if (req.method === 'PUT') {
      const data = await body(req);
      blobs.set(key, data);
      res
        .writeHead(201, {
          ...headers,
          etag: `"0x${createHash('sha1').update(data).digest('hex').slice(0, 15).toUpperCase()}"`,
          'last-modified': new Date().toUTCString(),
          'content-md5': createHash('md5').update(data).digest('base64'),
          'x-ms-request-server-encrypted': 'true',
          'content-length': '0',
        })
        .end();
      return;
    }
    const data = blobs.get(key);
    if (!data) return reply(res, 404, { error: 'BlobNotFound' }, headers);
    res.writeHead(200, { ...headers, 'content-type': 'application/octet-stream', 'content-length': data.length, 'x-ms-blob-type': 'BlockBlob' }).end(data);
  }

  const server: Server = createServer({ cert: opts.tls.cert, key: opts.tls.key }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://dataplane');
    const handled = url.pathname.startsWith('/secrets/') ? keyVault(req, res, url) : blob(req, res, url);
    handled.catch(() => reply(res, 500, { error: 'InternalError' }));
  });
  const base = await listenOn(server, opts.host ?? '127.0.0.1', opts.port ?? 0, 'https');
  return { url: base, secrets, blobs, granted, requests, close: () => closeServer(server, true) };
}

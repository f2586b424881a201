// A VM's Instance Metadata Service as podid's NMI meets it: tokens for the user-assigned identities
// attached to the node (selected by client_id, object_id or msi_res_id), in IMDS's own wire format —
// numbers as strings, its error bodies — over plain HTTP, plus an instance document for pass-through.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOn } from '../common/serve.ts';
import { Faults, reply } from './faults.ts';
import type { ManagedIdentity, Tenant } from './tenant.ts';

export interface ImdsRequest {
  path: string;
  remoteAddress?: string;
  clientId?: string;
  resource?: string;
}

export interface RunningImds {
  url: string;
  faults: Faults;
  requests: ImdsRequest[];
  close(): Promise<void>;
}

const bad = (error: string, description: string) => ({ error, error_description: description });

function pick(attached: readonly ManagedIdentity[], q: URLSearchParams): ManagedIdentity | { error: string } {
  const clientId = q.get('client_id');
  const objectId = q.get('object_id');
  const resourceId = q.get('msi_res_id') ?? q.get('mi_res_id');
  if (clientId) return attached.find((m) => m.clientId === clientId) ?? { error: 'Identity not found' };
  if (objectId) return attached.find((m) => m.objectId === objectId) ?? { error: 'Identity not found' };
  if (resourceId) return attached.find((m) => m.resourceId.toLowerCase() === resourceId.toLowerCase()) ?? { error: 'Identity not found' };
  if (attached.length === 1) return attached[0]!;
  return {
    error:
      attached.length === 0
        ? 'Identity not found'
        : 'Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request',
  };
}

/** `attached`: the identities on this VM (default: all the tenant's; standard-mode tests pass what ARM put on its scale set). */
export async function startImds(opts: { tenant: Tenant; host?: string; port?: number; attached?: () => readonly ManagedIdentity[] }): Promise<RunningImds> {
  const faults = new Faults();
  const requests: ImdsRequest[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://imds.invalid');
    const seen: ImdsRequest = { path: url.pathname, remoteAddress: req.socket.remoteAddress };
    requests.push(seen);
    if (req.headers['x-forwarded-for']) return reply(res, 400, bad('invalid_request', 'Requests with X-Forwarded-For are not allowed'));
    if (req.headers.metadata !== 'true') return reply(res, 400, bad('invalid_request', 'Required metadata header not specified'));
    if (url.pathname === '/metadata/instance')
      return reply(res, 200, { compute: { location: 'emulated', name: 'podid-test-node', vmId: '00000000-0000-0000-0000-000000000001' } });
    if (url.pathname.replace(/\/$/, '') !== '/metadata/identity/oauth2/token')
      return reply(res, 404, bad('not_found', `no such metadata path ${url.pathname}`));
    if (!url.searchParams.get('api-version')) return reply(res, 400, bad('invalid_request', 'Required query variable api-version is missing'));
    const resource = url.searchParams.get('resource');
    if (!resource) return reply(res, 400, bad('invalid_request', 'Required query variable resource is missing'));
    if (await faults.apply(res)) return;
    const identity = pick(opts.attached?.() ?? opts.tenant.managedIdentities, url.searchParams);
    if ('error' in identity) return reply(res, 400, bad('invalid_request', identity.error));
    seen.clientId = identity.clientId;
    seen.resource = resource;
    const minted = opts.tenant.mint(resource, identity);
    const now = Math.floor(Date.now() / 1000);
    reply(res, 200, {
      access_token: minted.accessToken,
      client_id: identity.clientId,
      expires_in: String(minted.expiresIn),
      expires_on: String(minted.expiresOn),
      ext_expires_in: String(minted.expiresIn),
      not_before: String(now),
      resource,
      token_type: 'Bearer',
    });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => reply(res, 500, bad('server_error', err.message)));
  });
  const url = await listenOn(server, opts.host ?? '127.0.0.1', opts.port ?? 0);
  return { url, faults, requests, close: () => closeServer(server, true) };
}

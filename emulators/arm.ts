// The slice of Azure Resource Manager podid meets: the subscriptions and tenants `az login --identity` reads
// after it has a token, and the compute API standard mode drives (arm-compute.ts). HTTPS; the bearer token
// must be one the tenant issued for ARM's audience.

import { createServer, type Server } from 'node:https';
import { closeServer, listenOn } from '../common/serve.ts';
import { ComputeEmulator } from './arm-compute.ts';
import { reply } from './faults.ts';
import type { Tenant } from './tenant.ts';

export interface RunningArm {
  url: string;
  subscriptionId: string;
  requests: string[];
  compute: ComputeEmulator;
  close(): Promise<void>;
}

const ARM_AUDIENCES = [
  'https://management.core.windows.net/',
  'https://management.azure.com/',
  'https://management.core.windows.net',
  'https://management.azure.com',
];

export async function startArm(opts: {
  tenant: Tenant;
  tls: { cert: string; key: string };
  host?: string;
  port?: number;
  subscriptionId?: string;
}): Promise<RunningArm> {
  const subscriptionId = opts.subscriptionId ?? crypto.randomUUID();
  const requests: string[] = [];
  const compute = new ComputeEmulator(() => opts.tenant.managedIdentities);
  let url = '';
  const server: Server = createServer({ cert: opts.tls.cert, key: opts.tls.key }, async (req, res) => {
    const target = new URL(req.url ?? '/', 'https://management.azure.com');
    requests.push(`${req.method} ${target.pathname}`);
    const auth = req.headers.authorization ?? '';
    try {
      const claims = opts.tenant.verify(auth.replace(/^Bearer /, ''));
      if (!ARM_AUDIENCES.includes(String(claims.aud))) throw new Error(`audience ${String(claims.aud)} is not ARM`);
    } catch (err) {
      return reply(res, 401, { error: { code: 'InvalidAuthenticationToken', message: (err as Error).message } });
    }
    if (await compute.handle(req, res, target, url)) return;
    if (target.pathname === '/subscriptions') {
      return reply(res, 200, {
        value: [
          {
            id: `/subscriptions/${subscriptionId}`,
            subscriptionId,
            tenantId: opts.tenant.id,
            displayName: 'podid emulated subscription',
            state: 'Enabled',
            managedByTenants: [],
          },
        ],
      });
    }
    if (target.pathname === '/tenants')
      return reply(res, 200, {
        value: [{ id: `/tenants/${opts.tenant.id}`, tenantId: opts.tenant.id, displayName: 'podid emulated tenant' }],
      });
    reply(res, 404, { error: { code: 'NotFound', message: `the ARM emulator does not serve ${target.pathname}` } });
  });
  url = await listenOn(server, opts.host ?? '127.0.0.1', opts.port ?? 0, 'https');
  return { url, subscriptionId, requests, compute, close: () => closeServer(server, true) };
}

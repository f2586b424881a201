// A seeded fuzz run through the admission app, in enforce and fix modes: no malformed envelope is ever allowed, no
// pod that grants NET_RAW (or lacks the drop, where the mode denies it) gets through /validate, and nothing answers
// a 5xx. bench/webhook-hostile.ts runs the same generator at 30k reviews against the real process with hostile sizes.

import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzCase, verdictOf, type Verdict } from '../test/fuzz/reviews.ts';
import { createLogger } from '../common/log.ts';
import { DEFAULT_ADMISSION_LIMITS, createWebhookApp } from './app.ts';
import { defaultInjectionConfig } from './injection-config.ts';
import { createWebhookMetrics } from './metrics.ts';
import { defaultValidationConfig } from './validation-config.ts';

const CASES = 1500;
const servers: Server[] = [];

async function serve(mode: 'enforce' | 'fix'): Promise<string> {
  const app = createWebhookApp({
    injection: { ...defaultInjectionConfig, sidecarImage: 'podid:test' },
    validation: { ...defaultValidationConfig, mode },
    limits: DEFAULT_ADMISSION_LIMITS,
    logger: createLogger('webhook', 'silent'),
    metrics: createWebhookMetrics(),
    ready: () => true,
    // Every ServiceAccount names a client: the workload-identity endpoint gets as far as it can with each review.
    workloadIdentity: {
      wi: { tenantId: '00000000-0000-0000-0000-000000000001', authorityHost: 'https://login.microsoftonline.com/', audience: 'api://AzureADTokenExchange' },
      serviceAccounts: async (_ns, name) => ({ name, annotations: { 'azure.workload.identity/client-id': '00000000-0000-0000-0000-000000000002' } }),
    },
  });
  const server = createServer(app);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function post(url: string, body: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

let urls: Record<'enforce' | 'fix', string>;
beforeAll(async () => {
  urls = { enforce: await serve('enforce'), fix: await serve('fix') };
});
afterAll(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

describe.each(['enforce', 'fix'] as const)('a seeded fuzz run in %s mode', (mode) => {
  it(`${CASES} reviews: no malformed envelope allowed, no bypass, no 5xx`, async () => {
    const found: Record<Verdict, string[]> = { ok: [], 'allowed-malformed': [], bypass: [], 'server-error': [] };
    const classes = { valid: 0, malformed: 0, hostile: 0 };
    for (let i = 0; i < CASES; i++) {
      const c = fuzzCase(mode === 'enforce' ? 1 : 2, i, { malformed: 0.35, hostile: 0.004 });
      classes[c.class]++;
      const res = await post(`${urls[mode]}${c.endpoint}`, c.body);
      const verdict = verdictOf(c, res.status, res.body, mode);
      found[verdict].push(`${i} ${c.class} ${c.endpoint} ${c.label}: ${res.status}`);
    }
    // The run exercised every class (so a generator that stopped producing one would not pass silently).
    expect(classes.malformed).toBeGreaterThan(CASES / 4);
    expect(classes.hostile).toBeGreaterThan(0);
    expect(found['allowed-malformed']).toEqual([]);
    expect(found.bypass).toEqual([]);
    expect(found['server-error']).toEqual([]);
  }, 120_000);
});

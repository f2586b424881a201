// The sidecar on loopback, called by the real @azure/identity and @azure/msal-node with only the variables
// the webhook injects, and backed by a stand-in that follows the sidecar → NMI contract (sidecar/README.md).

import { ManagedIdentityCredential } from '@azure/identity';
import { ManagedIdentityApplication } from '@azure/msal-node';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nmiClient } from './nmi-client.ts';
import { startSidecar, type RunningSidecar } from './server.ts';

const HEADER = 'per-pod-header-secret';
let dir: string;
let tokenFile: string;
let nmi: Server;
let nmiUrl: string;
let sidecar: RunningSidecar;
const calls: { auth?: string; query: string }[] = [];
const logs: string[] = [];
let nmiMode: 'ok' | 'down' | 'throttle' = 'ok';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podid-sidecar-'));
  tokenFile = join(dir, 'token');
  await writeFile(tokenFile, 'sa-token-1\n');
  nmi = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/healthz') return res.end('{}');
    calls.push({ auth: req.headers.authorization, query: url.search });
    if (nmiMode === 'down') return res.writeHead(503).end(JSON.stringify({ error: 'unavailable', error_description: 'AAD unreachable' }));
    if (nmiMode === 'throttle') return res.writeHead(429, { 'retry-after': '7' }).end(JSON.stringify({ error: 'throttled', error_description: 'slow down' }));
    if (req.headers.authorization?.startsWith('Bearer sa-token') !== true)
      return res.writeHead(401).end(JSON.stringify({ error: 'unauthorized', error_description: 'bad token' }));
    const resource = url.searchParams.get('resource')!;
    res.end(
      JSON.stringify({
        access_token: `at-${calls.length}-${resource}`,
        expires_on: Math.floor(Date.now() / 1000) + 3600,
        resource,
        token_type: 'Bearer',
        client_id: url.searchParams.get('client_id') ?? '11111111-1111-1111-1111-111111111111',
      }),
    );
  });
  await new Promise<void>((r) => nmi.listen(0, '127.0.0.1', r));
  nmiUrl = `http://127.0.0.1:${(nmi.address() as AddressInfo).port}`;
  sidecar = await startSidecar(
    {
      listen: { host: '127.0.0.1', port: 0 },
      healthListen: { host: '127.0.0.1', port: 0 },
      identityHeader: HEADER,
      refreshAheadSeconds: 300,
      maxEntries: 64,
    },
    nmiClient(nmiUrl, tokenFile),
    (level, msg, fields) => logs.push(JSON.stringify({ level, msg, ...fields })),
  );
});

afterAll(async () => {
  await sidecar?.close();
  await new Promise((r) => nmi?.close(r));
  await rm(dir, { recursive: true, force: true });
});

const saved = { ...process.env };
afterEach(() => {
  for (const k of ['AZURE_POD_IDENTITY_AUTHORITY_HOST', 'IDENTITY_ENDPOINT', 'IDENTITY_HEADER']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  nmiMode = 'ok';
});

function fetchJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text), headers: res.headers }));
    }).on('error', reject);
  });
}

describe('sidecar with real Azure clients', () => {
  it('@azure/identity ManagedIdentityCredential through AZURE_POD_IDENTITY_AUTHORITY_HOST (IMDS flavour)', async () => {
    process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = sidecar.tokenUrl;
    const token = await new ManagedIdentityCredential({ clientId: '22222222-2222-2222-2222-222222222222' }).getToken('https://vault.azure.net/.default');
    expect(token.token).toMatch(/^at-\d+-https:\/\/vault\.azure\.net$/);
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now() + 3_000_000);
    expect(calls.at(-1)).toMatchObject({ auth: 'Bearer sa-token-1' });
    expect(calls.at(-1)!.query).toContain('client_id=22222222-2222-2222-2222-222222222222');
  });

  it('@azure/identity through IDENTITY_ENDPOINT + IDENTITY_HEADER (App Service flavour)', async () => {
    process.env.IDENTITY_ENDPOINT = `${sidecar.tokenUrl}/msi/token`;
    process.env.IDENTITY_HEADER = HEADER;
    const token = await new ManagedIdentityCredential().getToken('https://storage.azure.com/.default');
    expect(token.token).toMatch(/-https:\/\/storage\.azure\.com$/);
  });

  it('@azure/msal-node ManagedIdentityApplication', async () => {
    process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = sidecar.tokenUrl;
    const app = new ManagedIdentityApplication();
    const result = await app.acquireToken({ resource: 'https://management.azure.com' });
    expect(result.accessToken).toMatch(/-https:\/\/management\.azure\.com$/);
  });
});

describe('sidecar behaviour', () => {
  const imds = (q: string, headers: Record<string, string> = { metadata: 'true' }) =>
    fetchJson(`${sidecar.tokenUrl}/metadata/identity/oauth2/token?api-version=2018-02-01&${q}`, headers);

  it('answers from cache: one NMI call per (identity, resource)', async () => {
    const before = calls.length;
    const a = await imds('resource=https://cache.example');
    const b = await imds('resource=https://cache.example');
    expect(a.status).toBe(200);
    expect(b.body.access_token).toBe(a.body.access_token);
    expect(typeof a.body.expires_in).toBe('string');
    expect(calls.length).toBe(before + 1);
  });

  // msrestazure and go-autorest's adal, with only MSI_ENDPOINT set, POST a form with Metadata: true.
  it('serves the legacy MSI_ENDPOINT protocol: a POSTed form, answered like IMDS', async () => {
    const post = (body: string, headers: Record<string, string>) =>
      fetch(`${sidecar.tokenUrl}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    const res = await post('resource=https%3A%2F%2Fmanagement.core.windows.net%2F&client_id=abc', { metadata: 'true' });
    const body = (await res.json()) as Record<string, string>;
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', resource: 'https://management.core.windows.net/', client_id: 'abc' });
    expect(typeof body.expires_on).toBe('string');
    expect(calls.at(-1)!.query).toContain('client_id=abc');
    expect((await post('resource=https%3A%2F%2Fx.example', {})).status).toBe(400); // no Metadata header
    expect((await post(`resource=${'x'.repeat(10_000)}`, { metadata: 'true' })).status).toBe(413);
    expect((await fetch(`${sidecar.tokenUrl}/oauth2/token?resource=https://x.example`, { headers: { metadata: 'true' } })).status).toBe(405);
  });

  it('re-reads the rotated service-account token', async () => {
    await writeFile(tokenFile, 'sa-token-2\n');
    await imds('resource=https://rotated.example');
    expect(calls.at(-1)!.auth).toBe('Bearer sa-token-2');
  });

  it('refuses requests without Metadata: true, and wrong App Service headers', async () => {
    expect(await imds('resource=r', {})).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', error_description: 'Required metadata header not specified' },
    });
    const r = await fetchJson(`${sidecar.tokenUrl}/msi/token?api-version=2019-08-01&resource=r`, { 'x-identity-header': 'nope' });
    expect(r.status).toBe(401);
  });

  it('passes NMI errors through, with Retry-After on 429, and never logs tokens', async () => {
    nmiMode = 'down';
    expect(await imds('resource=https://down.example')).toMatchObject({
      status: 503,
      body: { error: 'unavailable', error_description: 'AAD unreachable' },
    });
    nmiMode = 'throttle';
    const t = await imds('resource=https://throttled.example');
    expect(t.status).toBe(429);
    expect(t.headers['retry-after']).toBe('7');
    expect(logs.join('\n')).not.toMatch(/sa-token|at-\d/);
  });

  it('counts token requests by result and cache hits on the health port’s /metrics (Prometheus text)', async () => {
    const text = await (await fetch(`${sidecar.healthUrl}/metrics`)).text();
    // The requests above: tokens served, one 503 and one 429 passed through, answers from the cache.
    expect(text).toMatch(/^podid_sidecar_token_requests_total\{flavour="imds",result="ok"\} [1-9]\d*$/m);
    expect(text).toMatch(/^podid_sidecar_token_requests_total\{flavour="imds",result="unavailable"\} 1$/m);
    expect(text).toMatch(/^podid_sidecar_token_requests_total\{flavour="imds",result="throttled"\} 1$/m);
    expect(text).toMatch(/^podid_sidecar_token_cache_total\{result="hit"\} [1-9]\d*$/m);
    expect(text).toMatch(/^# TYPE podid_sidecar_token_cache_total counter$/m);
  });

  it('is ready once NMI answers, and alive', async () => {
    expect((await fetchJson(`${sidecar.healthUrl}/healthz`)).status).toBe(200);
    expect((await fetchJson(`${sidecar.healthUrl}/livez`)).status).toBe(200);
  });

  it('with --ready-resource, is ready only once a first token is cached (the app then starts on a hit)', async () => {
    const warm = await startSidecar(
      {
        listen: { host: '127.0.0.1', port: 0 },
        healthListen: { host: '127.0.0.1', port: 0 },
        identityHeader: HEADER,
        refreshAheadSeconds: 300,
        maxEntries: 8,
        readyResource: 'https://warm.example',
      },
      nmiClient(nmiUrl, tokenFile),
      () => {},
    );
    try {
      nmiMode = 'down';
      const notYet = await fetchJson(`${warm.healthUrl}/healthz`);
      expect(notYet.status).toBe(503);
      expect(notYet.body.status).toContain('waiting for a first token for https://warm.example');
      nmiMode = 'ok';
      expect((await fetchJson(`${warm.healthUrl}/healthz`)).status).toBe(200);
      const before = calls.length;
      nmiMode = 'down';
      // MSAL remembers the first managed-identity endpoint per process, so ask this sidecar directly.
      const first = await fetchJson(`${warm.tokenUrl}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://warm.example`, {
        Metadata: 'true',
      });
      expect(first.body.access_token).toMatch(/^at-\d+-https:\/\/warm\.example$/);
      expect(calls.slice(before)).toEqual([]);
    } finally {
      await warm.close();
    }
  });
});

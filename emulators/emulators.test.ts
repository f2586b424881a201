// The emulators' wire formats, pinned: what Azure AD and IMDS answer, errors included.

import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonObject, sendRequest } from '../common/http-request.ts';
import { startWorld, type World } from './world.ts';

let dir: string;
let world: World;
let agent: Agent;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podid-emulators-'));
  world = await startWorld(dir);
  agent = new Agent({ ca: world.tls.caPem });
});
afterAll(async () => {
  await world?.close();
  await rm(dir, { recursive: true, force: true });
});

async function aad(path: string, form: Record<string, string>) {
  const r = await sendRequest(new URL(path, world.aad.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
    timeoutMs: 5000,
    agent,
  });
  return { status: r.status, body: jsonObject(r.text) as Record<string, any> };
}

const app = (name: string) => world.identities.find((i) => i.name === name)!;

describe('Azure AD emulator', () => {
  it('v2.0 client credentials with a secret: numeric expires_in and a signed token with the right claims', async () => {
    const sp = app('sp-secret');
    const r = await aad(`/${world.tenant.id}/oauth2/v2.0/token`, {
      grant_type: 'client_credentials',
      client_id: sp.clientID!,
      client_secret: world.secrets.get('demo/sp-secret')!.clientsecret!.toString(),
      scope: 'https://vault.azure.net/.default',
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: 'Bearer', expires_in: expect.any(Number) });
    expect(world.tenant.verify(r.body.access_token)).toMatchObject({
      aud: 'https://vault.azure.net',
      appid: sp.clientID,
      azp: sp.clientID,
      oid: sp.objectID,
      tid: world.tenant.id,
      ver: '2.0',
    });
  });

  it('v1 endpoint: resource parameter and string numbers', async () => {
    const sp = app('sp-secret');
    const r = await aad(`/${world.tenant.id}/oauth2/token`, {
      grant_type: 'client_credentials',
      client_id: sp.clientID!,
      client_secret: world.secrets.get('demo/sp-secret')!.clientsecret!.toString(),
      resource: 'https://management.azure.com/',
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      expires_in: expect.any(String),
      expires_on: expect.any(String),
      resource: 'https://management.azure.com/',
    });
    expect(world.tenant.verify(r.body.access_token)).toMatchObject({ ver: '1.0', iss: `https://sts.windows.net/${world.tenant.id}/` });
  });

  const errors: Array<[string, () => Record<string, string>, number, string, number]> = [
    [
      'a wrong secret',
      () => ({
        grant_type: 'client_credentials',
        client_id: app('sp-secret').clientID!,
        client_secret: 'nope',
        scope: 'https://vault.azure.net/.default',
      }),
      401,
      'invalid_client',
      7000215,
    ],
    [
      'an unknown client',
      () => ({
        grant_type: 'client_credentials',
        client_id: '00000000-0000-0000-0000-000000000000',
        client_secret: 'x',
        scope: 'https://vault.azure.net/.default',
      }),
      400,
      'unauthorized_client',
      700016,
    ],
    [
      'a scope without /.default',
      () => ({
        grant_type: 'client_credentials',
        client_id: app('sp-secret').clientID!,
        client_secret: 'x',
        scope: 'https://vault.azure.net/read',
      }),
      400,
      'invalid_scope',
      1002012,
    ],
    [
      'no credential',
      () => ({ grant_type: 'client_credentials', client_id: app('sp-secret').clientID!, scope: 'https://vault.azure.net/.default' }),
      401,
      'invalid_client',
      7000218,
    ],
    [
      'a malformed assertion',
      () => ({
        grant_type: 'client_credentials',
        client_id: app('sp-cert').clientID!,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: 'not-a-jwt',
        scope: 'https://vault.azure.net/.default',
      }),
      401,
      'invalid_client',
      50027,
    ],
  ];
  it.each(errors)('answers %s like Azure AD: status, error, AADSTS code', async (_name, form, status, error, code) => {
    const r = await aad(`/${world.tenant.id}/oauth2/v2.0/token`, form());
    expect(r.status).toBe(status);
    expect(r.body).toMatchObject({ error, error_codes: [code] });
    expect(r.body.error_description).toMatch(new RegExp(`^AADSTS${code}: `));
  });

  it('serves the discovery documents MSAL reads', async () => {
    const get = async (path: string) => jsonObject((await sendRequest(new URL(path, world.aad.url), { timeoutMs: 5000, agent })).text);
    const oidc = await get(`/${world.tenant.id}/v2.0/.well-known/openid-configuration`);
    expect(oidc).toMatchObject({
      token_endpoint: `${world.aad.url}/${world.tenant.id}/oauth2/v2.0/token`,
      issuer: expect.any(String),
      jwks_uri: expect.any(String),
      authorization_endpoint: expect.any(String),
    });
    expect(((await get(`/${world.tenant.id}/discovery/v2.0/keys`)) as { keys: unknown[] }).keys).toHaveLength(1);
    expect(await get('/common/discovery/instance?api-version=1.1')).toMatchObject({
      tenant_discovery_endpoint: expect.stringContaining('openid-configuration'),
    });
  });
});

describe('IMDS emulator', () => {
  const imds = async (query: string, headers: Record<string, string> = { Metadata: 'true' }) => {
    const r = await sendRequest(new URL(`/metadata/identity/oauth2/token?${query}`, world.imds.url), { headers, timeoutMs: 5000 });
    return { status: r.status, body: jsonObject(r.text) as Record<string, any> };
  };
  it.each([
    ['client_id', () => `client_id=${world.msi.clientId}`, () => world.msi.objectId],
    ['msi_res_id', () => `msi_res_id=${encodeURIComponent(world.msi2.resourceId)}`, () => world.msi2.objectId],
    ['object_id', () => `object_id=${world.msi.objectId}`, () => world.msi.objectId],
  ])('selects a user-assigned identity by %s; numbers are strings', async (_n, sel, oid) => {
    const r = await imds(`api-version=2018-02-01&resource=https://vault.azure.net&${sel()}`);
    expect(r.status).toBe(200);
    expect(typeof r.body.expires_on).toBe('string');
    expect(world.tenant.verify(r.body.access_token).oid).toBe(oid());
  });
  it.each([
    ['no Metadata header', 'api-version=2018-02-01&resource=x', {}, 'Required metadata header not specified'],
    ['several identities and none named', 'api-version=2018-02-01&resource=x', { Metadata: 'true' }, 'Multiple user assigned identities exist'],
    ['an unknown identity', 'api-version=2018-02-01&resource=x&client_id=nobody', { Metadata: 'true' }, 'Identity not found'],
    ['X-Forwarded-For', 'api-version=2018-02-01&resource=x', { Metadata: 'true', 'X-Forwarded-For': '10.0.0.1' }, 'X-Forwarded-For'],
  ])('refuses %s with 400', async (_n, query, headers, message) => {
    const r = await imds(query, headers as Record<string, string>);
    expect(r.status).toBe(400);
    expect(r.body.error_description).toContain(message);
  });
  it('can be told to throttle', async () => {
    world.imds.faults.throttle(3);
    const r = await sendRequest(new URL(`/metadata/identity/oauth2/token?api-version=2018-02-01&resource=x&client_id=${world.msi.clientId}`, world.imds.url), {
      headers: { Metadata: 'true' },
      timeoutMs: 5000,
    });
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toBe('3');
  });
});

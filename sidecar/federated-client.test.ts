// The sidecar's workload-identity source against the AAD emulator, which accepts a federated assertion only when
// it verifies against the issuer's JWKS (read when the assertion arrives, the key picked by kid) and matches the
// federated credential's issuer, subject and audience.

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signJwt } from '../emulators/jwt.ts';
import { startWorld, type World } from '../emulators/world.ts';
import { HttpError } from '../common/http-error.ts';
import { federatedClient, selectorProblem } from './federated-client.ts';

const ISSUER = 'https://issuer.cluster.test';
const SUBJECT = 'system:serviceaccount:apps:api';
const RESOURCE = 'https://vault.azure.net';
const issuerKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const intruder = generateKeyPairSync('rsa', { modulusLength: 2048 });
const app = { clientId: randomUUID(), objectId: randomUUID() };

let dir: string;
let world: World;
let jwksReads = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podid-federated-'));
  world = await startWorld(dir);
  world.tenant.apps.push({
    ...app,
    federated: [
      {
        issuer: ISSUER,
        subject: SUBJECT,
        jwks: async () => {
          jwksReads++;
          return { keys: [{ ...issuerKeys.publicKey.export({ format: 'jwk' }), kid: 'sa-key-1', use: 'sig', alg: 'RS256' }] };
        },
      },
    ],
  });
});
afterAll(async () => {
  await world?.close();
  await rm(dir, { recursive: true, force: true });
});

function assertion(claims: Record<string, unknown> = {}, key = issuerKeys.privateKey): string {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({ iss: ISSUER, sub: SUBJECT, aud: ['api://AzureADTokenExchange'], iat: now, nbf: now, exp: now + 3600, ...claims }, key, { kid: 'sa-key-1' });
}

async function clientWith(token: string | undefined, clientId = app.clientId) {
  const tokenFile = join(dir, `token-${randomUUID()}`);
  if (token !== undefined) await writeFile(tokenFile, token);
  return federatedClient({ clientId, tenantId: world.tenant.id, authorityHost: world.aad.url, tokenFile, ca: world.tls.caPem, timeoutMs: 5000 });
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as HttpError,
  );

describe('the sidecar as the workload-identity proxy', () => {
  it("exchanges the pod's federated token for the pod's identity", async () => {
    const before = jwksReads;
    const token = await (await clientWith(assertion())).token({ resource: RESOURCE, selector: {} });
    const claims = world.tenant.verify(token.accessToken);
    expect(claims).toMatchObject({ aud: RESOURCE, appid: app.clientId, oid: app.objectId });
    expect(token.expiresOn).toBeGreaterThan(Date.now() / 1000 + 3000);
    expect(jwksReads).toBe(before + 1);
    expect(world.aad.requests.at(-1)).toMatchObject({ clientId: app.clientId, credential: 'federated', resource: RESOURCE });
  });

  it('asks by the client ID, whatever its case', async () => {
    const token = await (await clientWith(assertion())).token({ resource: RESOURCE, selector: { clientID: app.clientId.toUpperCase() } });
    expect(world.tenant.verify(token.accessToken).appid).toBe(app.clientId);
  });

  // Each refusal: what is wrong → the status and code the SDK sees.
  it.each([
    ['signed by a key the issuer does not publish', () => assertion({}, intruder.privateKey), 403, 'invalid_client', /signature validation/],
    ['another ServiceAccount', () => assertion({ sub: 'system:serviceaccount:apps:other' }), 400, 'invalid_request', /AADSTS700213/],
    ['another issuer', () => assertion({ iss: 'https://elsewhere.test' }), 400, 'invalid_request', /AADSTS700213/],
    ['another audience', () => assertion({ aud: ['podid'] }), 400, 'invalid_request', /AADSTS700212/],
    ['expired', () => assertion({ exp: Math.floor(Date.now() / 1000) - 10 }), 403, 'invalid_client', /AADSTS700024/],
  ])('a federated token %s is refused', async (_n, make, status, code, text) => {
    const err = await failure((await clientWith(make())).token({ resource: RESOURCE, selector: {} }));
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ status, code });
    expect(err!.message).toMatch(text);
    expect(err!.message).not.toContain(assertion().split('.')[0]);
  });

  it("a client ID that is not the pod's is refused without asking Azure AD", async () => {
    const before = world.aad.requests.length;
    const err = await failure((await clientWith(assertion())).token({ resource: RESOURCE, selector: { clientID: randomUUID() } }));
    expect(err).toMatchObject({ status: 400, code: 'identity_not_found' });
    expect(world.aad.requests.length).toBe(before);
  });

  it('is not healthy, and answers 503, while the token file is missing', async () => {
    const client = await clientWith(undefined);
    expect(await client.healthy()).toBe(false);
    expect(await failure(client.token({ resource: RESOURCE, selector: {} }))).toMatchObject({ status: 503, code: 'unavailable' });
  });

  it.each([
    [{}, undefined],
    [{ clientID: 'A' }, /not A/],
    [{ objectID: 'x' }, /ask by client_id/],
    [{ resourceID: '/subscriptions/x' }, /ask by client_id/],
  ])('selector %j → %s', (selector, problem) => {
    const p = selectorProblem('a-client', { resource: RESOURCE, selector });
    if (problem) expect(p).toMatch(problem);
    else expect(p).toBeUndefined();
  });
});

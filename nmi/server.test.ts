// NMI in-process against the AAD (HTTPS) and IMDS emulators, with real @azure/msal-node for service
// principals: every identity type, every refusal of the sidecar contract, /host/token, interception by
// source IP with pass-through, throttling, and one upstream call for many pods.

import forge from 'node-forge';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { World } from '../emulators/world.ts';
import { extraNmi, localNmiFixture } from '../test/local-nmi-fixture.ts';
import { podFor, type LocalNmi } from '../emulators/local-nmi.ts';

const fixture = localNmiFixture('nmi');
let world: World;
let nmi: LocalNmi;
beforeAll(() => {
  ({ world, nmi } = fixture);
});
afterEach(() => {
  world.aad.faults.reset();
  world.imds.faults.reset();
});

const identity = (name: string) => world.identities.find((i) => i.name === name)!;

async function sidecarCall(token: string | undefined, query: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${nmi.url}/sidecar/token?${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

describe('sidecar endpoint: one token per identity type', () => {
  const cases: Array<[string, string, string]> = [
    ['type 0 through the node IMDS', 'app-msi', 'imds'],
    ['type 1 client secret through MSAL', 'sp-secret', 'secret'],
    ['type 2 certificate through MSAL', 'sp-cert', 'certificate'],
    ['type 3 federated assertion through MSAL', 'sp-federated', 'federated'],
  ];
  it.each(cases)('%s', async (_name, identityName, via) => {
    const token = nmi.addPod({ name: `pod-${identityName}`, labels: podFor(identity(identityName)) });
    const aadBefore = world.aad.requests.length;
    const r = await sidecarCall(token, 'resource=https://vault.azure.net');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const claims = world.tenant.verify(r.body.access_token);
    const id = identity(identityName);
    expect(claims).toMatchObject({ aud: 'https://vault.azure.net', tid: world.tenant.id });
    if (id.clientID) expect(claims.appid).toBe(id.clientID);
    // MSAL computes expiry as its own clock + expires_in: within a second or two of the claim.
    expect(Math.abs(r.body.expires_on - (claims.exp as number))).toBeLessThanOrEqual(2);
    if (via === 'imds') expect(world.aad.requests.length).toBe(aadBefore);
    else expect(world.aad.requests.at(-1)).toMatchObject({ clientId: id.clientID, credential: via });
  });

  // Azure AD takes everything before the last "/" of a scope as the resource; ARM and Azure SQL compare `aud` exactly.
  it.each(['https://management.core.windows.net/', 'https://database.windows.net/', 'https://vault.azure.net'])(
    'a service principal token for %s has exactly that audience',
    async (resource) => {
      const token = nmi.addPod({ name: `aud-${resource.length}-${resource.at(-1) === '/' ? 'slash' : 'plain'}`, labels: podFor(identity('sp-secret')) });
      const r = await sidecarCall(token, `resource=${encodeURIComponent(resource)}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(world.tenant.verify(r.body.access_token).aud).toBe(resource);
      expect(r.body.resource).toBe(resource);
    },
  );

  it('type 2 from a PKCS#12 Secret (with password) through MSAL', async () => {
    const pem = world.secrets.get('demo/sp-cert')!.certificate!.toString();
    const key = forge.pki.privateKeyFromPem(pem.slice(pem.indexOf('-----BEGIN', 10)));
    const p12 = forge.asn1.toDer(forge.pkcs12.toPkcs12Asn1(key, [forge.pki.certificateFromPem(pem)], 'p12pw', { algorithm: '3des' })).getBytes();
    world.secrets.set('demo/sp-p12', { certificate: Buffer.from(p12, 'binary'), password: Buffer.from('p12pw') });
    const sp = identity('sp-cert');
    nmi.store.upsertIdentity({ ...sp, name: 'sp-p12', clientPassword: { name: 'sp-p12', namespace: 'demo' } });
    nmi.store.upsertBinding({ name: 'sp-p12', namespace: 'demo', namespaced: false, azureIdentity: 'sp-p12', selector: 'sp-p12' });
    const r = await sidecarCall(nmi.addPod({ name: 'pod-p12', labels: { aadpodidbinding: 'sp-p12' } }), 'resource=https://vault.azure.net');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(world.aad.requests.at(-1)).toMatchObject({ clientId: sp.clientID, credential: 'certificate' });
  });

  it('selects among several identities by msi_res_id; with none named serves the first by name, counts it and warns the pod', async () => {
    nmi.store.upsertBinding({ name: 'two-a', namespace: 'demo', namespaced: false, azureIdentity: 'app-msi', selector: 'two' });
    nmi.store.upsertBinding({ name: 'two-b', namespace: 'demo', namespaced: false, azureIdentity: 'other-msi', selector: 'two' });
    const token = nmi.addPod({ name: 'pod-two', labels: { aadpodidbinding: 'two' } });
    const unnamed = await sidecarCall(token, 'resource=https://storage.azure.com');
    expect(unnamed.status).toBe(200);
    expect(world.tenant.verify(unnamed.body.access_token).oid).toBe(world.msi.objectId); // demo/app-msi sorts before demo/other-msi
    expect(nmi.events.at(-1)).toMatchObject({ pod: 'demo/pod-two', reason: 'AmbiguousIdentity' });
    expect(nmi.events.at(-1)!.message).toContain('holds 2 identities (demo/app-msi, demo/other-msi)');
    expect(await (await fetch(`${nmi.url}/metrics`)).text()).toMatch(/podid_nmi_ambiguous_identity_total\{endpoint="sidecar"\} 1/);
    const picked = await sidecarCall(token, `resource=https://storage.azure.com&msi_res_id=${encodeURIComponent(world.msi2.resourceId)}`);
    expect(picked.status).toBe(200);
    expect(world.tenant.verify(picked.body.access_token).oid).toBe(world.msi2.objectId);
    // The Secrets Store CSI provider never names an identity: /host/token gets the same first one.
    const csi = await fetch(`${nmi.url}/host/token/?resource=https://vault.azure.net`, { headers: { podname: 'pod-two', podns: 'demo' } });
    expect(((await csi.json()) as { clientid: string }).clientid).toBe(world.msi.clientId);
  });
});

describe('sidecar endpoint refusals name the failed step', () => {
  it.each([
    ['no token', undefined, 401, /Authorization: Bearer/],
    ['an unknown token', 'forged', 401, /not accepted/],
  ])('%s → %i', async (_n, token, status, message) => {
    const r = await sidecarCall(token, 'resource=https://vault.azure.net');
    expect(r.status).toBe(status);
    expect(r.body.error_description).toMatch(message);
  });

  it('400 (not retried by SDKs) naming the selector when no binding has it', async () => {
    const token = nmi.addPod({ name: 'orphan', labels: { aadpodidbinding: 'nobody' } });
    const r = await sidecarCall(token, 'resource=https://vault.azure.net');
    expect(r).toMatchObject({ status: 400, body: { error: 'identity_not_found' } });
    expect(r.body.error_description).toBe('pod demo/orphan has aadpodidbinding=nobody but no AzureIdentityBinding has selector nobody');
    // The pod's owner sees it too (kubectl describe pod), with the command that explains it.
    expect(nmi.events.at(-1)).toMatchObject({ pod: 'demo/orphan', reason: 'NoIdentity' });
    expect(nmi.events.at(-1)!.message).toContain('podid explain pod demo/orphan');
  });

  it('503 with Retry-After (SDKs retry) when the token names this node but the informer has not delivered the pod', async () => {
    const token = nmi.addPod({ name: 'gone', labels: podFor(identity('app-msi')) });
    nmi.pods.remove('demo', 'gone');
    const r = await sidecarCall(token, 'resource=https://vault.azure.net');
    expect(r).toMatchObject({ status: 503, body: { error: 'pod_not_yet_known' } });
    expect(r.headers.get('retry-after')).toBe('1');
  });

  it('403 at once when the token names another node', async () => {
    const token = nmi.addPod({ name: 'elsewhere', labels: podFor(identity('app-msi')), node: 'other-node' });
    const r = await sidecarCall(token, 'resource=https://vault.azure.net');
    expect(r).toMatchObject({ status: 403, body: { error: 'pod_not_on_node' } });
    expect(r.body.error_description).toContain('runs on node other-node');
  });

  it('refuses at once (401) the token of a pod this node saw deleted: it never comes back', async () => {
    const token = nmi.addPod({ name: 'deleted', labels: podFor(identity('app-msi')) });
    expect((await sidecarCall(token, 'resource=https://vault.azure.net')).status).toBe(200);
    nmi.pods.deleted('demo', 'deleted');
    const r = await sidecarCall(token, 'resource=https://vault.azure.net');
    // 401, not the 503 pod_not_yet_known of a wait for a pod that will not come.
    expect(r).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    expect(r.body.error_description).toMatch(/pod demo\/deleted \(uid uid-deleted\) was deleted from this node/);
  });

  it('waits briefly for a pod the informer has not delivered yet', async () => {
    const token = nmi.addPod({ name: 'late', labels: podFor(identity('app-msi')) });
    const pod = nmi.pods.remove('demo', 'late')!;
    setTimeout(() => nmi.pods.upsert(pod), 50);
    expect((await sidecarCall(token, 'resource=https://vault.azure.net')).status).toBe(200);
  });

  it('passes Azure AD throttling on as 429 with Retry-After, and outages as 503 with Retry-After (SDKs retry both)', async () => {
    const token = nmi.addPod({ name: 'throttled', labels: podFor(identity('sp-secret')) });
    world.aad.faults.throttle(7);
    const throttled = await sidecarCall(token, 'resource=https://throttle.example');
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    world.aad.faults.fail(503, 5);
    const down = await sidecarCall(token, 'resource=https://down.example');
    expect(down.status).toBe(503);
    expect(Number(down.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(down.body.error_description).toContain('AzureIdentity demo/sp-secret');
  });

  // Azure AD's permanent refusals answer a status SDKs do not retry (msal-node retries 404, 408, 429, 5xx).
  const refusals: Array<[string, number, string, number, string]> = [
    ['invalid_resource from Azure AD → 400', 400, 'invalid_resource', 400, 'invalid_resource'],
    ['invalid_scope from Azure AD → 400', 400, 'invalid_scope', 400, 'invalid_scope'],
    ['invalid_client (wrong secret) → 403', 401, 'invalid_client', 403, 'invalid_client'],
    ['unauthorized_client → 403', 400, 'unauthorized_client', 403, 'unauthorized_client'],
  ];
  it.each(refusals)('%s', async (_n, aadStatus, aadError, status, error) => {
    const token = nmi.addPod({ name: `refused-${aadError}`, labels: podFor(identity('sp-secret')) });
    world.aad.faults.fail(aadStatus, 1, aadError);
    const r = await sidecarCall(token, `resource=https://refused-${aadError}.example`);
    expect(r).toMatchObject({ status, body: { error } });
    expect(r.headers.get('retry-after')).toBeNull();
    expect(r.body.error_description).toContain('Azure AD refused a token for AzureIdentity demo/sp-secret');
  });

  it('refuses a malformed resource with 400 before asking Azure AD', async () => {
    const token = nmi.addPod({ name: 'bad-resource', labels: podFor(identity('sp-secret')) });
    const before = world.aad.requests.length;
    for (const q of [
      'resource=vault',
      'resource=https://a.example%0d%0aX:1',
      `resource=https://a.example/${'x'.repeat(3000)}`,
      'resource=https://a.example&client_id=a&client_id=b',
    ]) {
      expect((await sidecarCall(token, q)).status, q).toBe(400);
    }
    expect(world.aad.requests.length).toBe(before);
  });
});

describe('one upstream call for many pods', () => {
  it('100 pods sharing an identity ask at once: one Azure AD request', async () => {
    const tokens = Array.from({ length: 100 }, (_, i) => nmi.addPod({ name: `many-${i}`, labels: podFor(identity('sp-secret')) }));
    const before = world.aad.requests.length;
    const replies = await Promise.all(tokens.map((t) => sidecarCall(t, 'resource=https://shared.example')));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    expect(new Set(replies.map((r) => r.body.access_token)).size).toBe(1);
    expect(world.aad.requests.length - before).toBe(1);
    const metrics = await (await fetch(`${nmi.url}/metrics`)).text();
    expect(metrics).toMatch(/podid_nmi_token_cache_total\{result="hit"\} \d+/);
  });
});

describe('/host/token for the Secrets Store CSI driver', () => {
  it('answers {token: {access_token, ...}, clientid} for podname/podns from the host network', async () => {
    nmi.addPod({ name: 'csi-user', labels: podFor(identity('app-msi')) });
    const res = await fetch(`${nmi.url}/host/token/?resource=https://vault.azure.net`, { headers: { podname: 'csi-user', podns: 'demo' } });
    const body = (await res.json()) as { token: Record<string, string>; clientid: string };
    expect(res.status).toBe(200);
    expect(body.clientid).toBe(world.msi.clientId);
    expect(world.tenant.verify(body.token.access_token!).aud).toBe('https://vault.azure.net');
    expect(body.token).toMatchObject({ token_type: 'Bearer', resource: 'https://vault.azure.net' });
  });

  it('400 without the pod headers', async () => {
    const res = await fetch(`${nmi.url}/host/token/?resource=https://vault.azure.net`);
    expect(res.status).toBe(400);
  });

  const hostCall = (headers: Record<string, string>) => fetch(`${nmi.url}/host/token/?resource=https://vault.azure.net`, { headers });
  const unauthenticated = async () =>
    Number(/podid_nmi_host_token_unauthenticated_total (\d+)/.exec(await (await fetch(`${nmi.url}/metrics`)).text())?.[1] ?? NaN);

  it("takes the pod's service-account token (optional mode): the token's pod is served, and counted as authenticated", async () => {
    const token = nmi.addPod({ name: 'csi-proven', labels: podFor(identity('app-msi')) });
    const before = await unauthenticated();
    expect((await hostCall({ authorization: `Bearer ${token}`, podname: 'csi-proven', podns: 'demo' })).status).toBe(200);
    expect((await hostCall({ authorization: `Bearer ${token}` })).status).toBe(200);
    expect(await unauthenticated()).toBe(before);
    expect((await hostCall({ podname: 'csi-proven', podns: 'demo' })).status).toBe(200);
    expect(await unauthenticated()).toBe(before + 1);
  });

  it('refuses a token for one pod used to name another (403), and a forged token (401)', async () => {
    const token = nmi.addPod({ name: 'csi-a', labels: podFor(identity('app-msi')) });
    nmi.addPod({ name: 'csi-b', labels: podFor(identity('sp-secret')) });
    const other = await hostCall({ authorization: `Bearer ${token}`, podname: 'csi-b', podns: 'demo' });
    expect(other.status).toBe(403);
    expect(((await other.json()) as { error_description: string }).error_description).toContain('is for pod demo/csi-a, not demo/csi-b');
    expect((await hostCall({ authorization: 'Bearer forged', podname: 'csi-a', podns: 'demo' })).status).toBe(401);
  });
});

describe('intercepted metadata traffic (caller known by source IP)', () => {
  it('serves the token of the pod at the source address, in IMDS format', async () => {
    nmi.addPod({ name: 'legacy', labels: podFor(identity('sp-cert')), ips: ['127.0.0.1'] });
    const res = await fetch(`${nmi.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/`, {
      headers: { Metadata: 'true' },
    });
    const body = (await res.json()) as Record<string, string>;
    expect(res.status).toBe(200);
    expect(typeof body.expires_in).toBe('string');
    expect(world.tenant.verify(body.access_token!).appid).toBe(identity('sp-cert').clientID);
    nmi.pods.remove('demo', 'legacy');
  });

  it('passes exception pods and other metadata paths through to IMDS; refuses X-Forwarded-For', async () => {
    nmi.store.upsertException({ name: 'skip', namespace: 'demo', namespaced: false, podLabels: { app: 'skip' } });
    nmi.addPod({ name: 'excepted', labels: { app: 'skip', ...podFor(identity('sp-cert')) }, ips: ['127.0.0.1'] });
    const before = world.imds.requests.length;
    const res = await fetch(
      `${nmi.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net&client_id=${world.msi2.clientId}`,
      { headers: { Metadata: 'true' } },
    );
    expect(res.status).toBe(200);
    expect(world.tenant.verify(((await res.json()) as { access_token: string }).access_token).oid).toBe(world.msi2.objectId);
    const instance = await fetch(`${nmi.url}/metadata/instance?api-version=2021-02-01`, { headers: { Metadata: 'true' } });
    expect(((await instance.json()) as { compute: { name: string } }).compute.name).toBe('podid-test-node');
    expect(world.imds.requests.length - before).toBe(2);
    const xff = await fetch(`${nmi.url}/metadata/instance`, { headers: { Metadata: 'true', 'X-Forwarded-For': '10.0.0.9' } });
    expect(xff.status).toBe(400);
    nmi.pods.remove('demo', 'excepted');
  });

  it('503 with Retry-After for a source address no pod of this node has (yet)', async () => {
    const res = await fetch(`${nmi.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`, {
      headers: { Metadata: 'true' },
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
  });
});

// A pod with podid's sidecar can prove who it is; a source address can be forged on a kubenet bridge by any pod holding
// NET_RAW (CVE-2021-1677; the real-node drill in test/e2e/node.e2e.ts forges one), so interception refuses such pods.
describe('interception of pods that carry the sidecar audience (--intercept-injected)', () => {
  const refusing = extraNmi(fixture, { sidecarAudience: 'podid' });
  const serving = extraNmi(fixture, { sidecarAudience: 'podid', interceptInjected: 'serve' });
  const ask = (url: string) =>
    fetch(`${url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`, { headers: { Metadata: 'true' } });

  it.each([
    ['refuse (default)', ['podid'], 403, 'sidecar_required'],
    ['refuse (default)', [''], 200, undefined],
    ['refuse (default)', ['vault'], 200, undefined],
    ['refuse (default)', undefined, 200, undefined],
    ['serve', ['podid'], 200, undefined],
  ])('%s: a pod with projected token audiences %j is answered %i', async (mode, tokenAudiences, status, error) => {
    const nmi = () => (mode === 'serve' ? serving.nmi : refusing.nmi);
    nmi().addPod({ name: 'by-address', labels: podFor(identity('sp-cert')), ips: ['127.0.0.1'], ...(tokenAudiences ? { tokenAudiences } : {}) });
    try {
      const res = await ask(nmi().url);
      const body = (await res.json()) as { error?: string; error_description?: string; access_token?: string };
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(body.error).toBe(error);
      if (error) expect(body.error_description).toMatch(/pod demo\/by-address has podid's token sidecar.*--intercept-injected=serve/);
    } finally {
      nmi().pods.remove('demo', 'by-address');
    }
  });
});

describe('/host/token with --host-token-auth=required', () => {
  const extra = extraNmi(fixture, { hostTokenAuth: 'required' });
  let strict: LocalNmi;
  beforeAll(() => void (strict = extra.nmi));

  it("serves only callers presenting the pod's token", async () => {
    const token = strict.addPod({ name: 'csi-strict', labels: podFor(identity('app-msi')) });
    const call = (headers: Record<string, string>) => fetch(`${strict.url}/host/token/?resource=https://vault.azure.net`, { headers });
    const bare = await call({ podname: 'csi-strict', podns: 'demo' });
    expect(bare.status).toBe(401);
    expect(((await bare.json()) as { error_description: string }).error_description).toContain('--host-token-auth=required');
    expect((await call({ authorization: `Bearer ${token}` })).status).toBe(200);
  });
});

describe('--ambiguous-identity=refuse', () => {
  const extra = extraNmi(fixture, { ambiguousIdentity: 'refuse' });
  let strict: LocalNmi;
  beforeAll(() => void (strict = extra.nmi));

  it('answers 409 listing the identities when none is named', async () => {
    strict.store.upsertBinding({ name: 'two-a', namespace: 'demo', namespaced: false, azureIdentity: 'app-msi', selector: 'two' });
    strict.store.upsertBinding({ name: 'two-b', namespace: 'demo', namespaced: false, azureIdentity: 'other-msi', selector: 'two' });
    const token = strict.addPod({ name: 'pod-two', labels: { aadpodidbinding: 'two' } });
    const res = await fetch(`${strict.url}/sidecar/token?resource=https://vault.azure.net`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: string }).error).toBe('ambiguous_identity');
    expect(strict.events).toEqual([]);
  });
});

describe('--block-instance-metadata', () => {
  const extra = extraNmi(fixture, { blockInstanceMetadata: true });
  it('answers /metadata/instance with 403 instead of passing it through to the real IMDS', async () => {
    const before = world.imds.requests.length;
    const res = await fetch(`${extra.nmi.url}/metadata/instance?api-version=2021-02-01`, { headers: { Metadata: 'true' } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error_description: string }).error_description).toContain('--block-instance-metadata');
    expect(world.imds.requests.length).toBe(before);
  });
});

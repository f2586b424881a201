// The provider registry as an extension point: a provider for a new identity type is one registration,
// and the token service picks providers by type, shares tokens by the provider's sharing key, and
// refuses types it has no provider for.

import { describe, expect, it } from 'vitest';
import { HttpError } from '../common/http-error.ts';
import { IdentityType, type AzureIdentity } from '../identity/crds.ts';
import { localNmiFixture } from '../test/local-nmi-fixture.ts';
import { createNmiMetrics } from './metrics.ts';
import type { TokenProvider, TokenProviders } from '../aad/token-provider.ts';
import { TokenService } from './token-service.ts';

/** A type no podid release defines: what a contributor adding a credential kind starts from. */
const NEW_TYPE = 42 as IdentityType;

function fakeProvider(name: string, sharingKey?: (i: AzureIdentity) => string) {
  const calls: string[] = [];
  const provider: TokenProvider = {
    name,
    sharingKey,
    async token(identity, resource) {
      calls.push(`${identity.namespace}/${identity.name}|${resource}`);
      return {
        accessToken: `${name}:${identity.name}:${resource}:${calls.length}`,
        expiresOn: Math.floor(Date.now() / 1000) + 3600,
        resource,
        clientId: identity.clientID ?? '',
      };
    },
  };
  return { provider, calls };
}

const identity = (name: string, type: IdentityType, extra: Partial<AzureIdentity> = {}): AzureIdentity => ({
  name,
  namespace: 'demo',
  namespaced: false,
  type,
  ...extra,
});

describe('TokenService picks the provider by identity type', () => {
  const msi = fakeProvider('msi', (i) => `msi|${i.clientID}`);
  const sp = fakeProvider('sp');
  const added = fakeProvider('new-kind');
  const providers: TokenProviders = {
    [IdentityType.UserAssignedMSI]: msi.provider,
    [IdentityType.ServicePrincipal]: sp.provider,
    [IdentityType.ServicePrincipalCertificate]: sp.provider,
    [IdentityType.FederatedServicePrincipal]: sp.provider,
    [NEW_TYPE]: added.provider, // the one registration
  };
  const metrics = createNmiMetrics();
  const service = new TokenService({ providers, refreshAheadSeconds: 300, maxEntries: 100, metrics });

  const table: Array<[string, AzureIdentity, string]> = [
    ['type 0 → the managed-identity provider', identity('a-msi', IdentityType.UserAssignedMSI, { clientID: 'c1' }), 'msi:a-msi'],
    ['type 1 → the service-principal provider', identity('a-sp', IdentityType.ServicePrincipal), 'sp:a-sp'],
    ['a newly registered type → its provider', identity('a-new', NEW_TYPE), 'new-kind:a-new'],
  ];
  it.each(table)('%s', async (_n, id, prefix) => {
    expect((await service.token(id, 'https://vault.azure.net')).accessToken.startsWith(prefix)).toBe(true);
  });

  it("shares tokens by the provider's sharing key, and scopes them to the object without one", async () => {
    const before = { msi: msi.calls.length, sp: sp.calls.length };
    await service.token(identity('x-msi', IdentityType.UserAssignedMSI, { clientID: 'shared' }), 'r');
    await service.token(identity('y-msi', IdentityType.UserAssignedMSI, { clientID: 'shared' }), 'r');
    await service.token(identity('x-sp', IdentityType.ServicePrincipal, { clientID: 'same-app' }), 'r');
    await service.token(identity('y-sp', IdentityType.ServicePrincipal, { clientID: 'same-app' }), 'r');
    expect(msi.calls.length - before.msi).toBe(1);
    expect(sp.calls.length - before.sp).toBe(2);
  });

  it('labels upstream latency with the provider name', async () => {
    expect(await metrics.registry.metrics()).toMatch(/podid_nmi_upstream_duration_seconds_count\{provider="new-kind",outcome="ok"\} 1/);
  });

  it('refuses a type with no provider as a 500 naming the identity and its type', async () => {
    const err = await service.token(identity('odd', 7 as IdentityType), 'r').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({
      status: 500,
      code: 'unsupported_identity',
      message: 'AzureIdentity demo/odd has type 7, which this NMI has no token provider for',
    });
  });
});

describe('a provider for a new identity type serves pods through NMI with one registration', () => {
  const added = fakeProvider('new-kind');
  const fixture = localNmiFixture('provider', {}, { providers: (registry) => ({ ...registry, [NEW_TYPE]: added.provider }) });

  it("the sidecar endpoint answers with the new provider's token", async () => {
    fixture.nmi.store.upsertIdentity(identity('kv-kind', NEW_TYPE, { clientID: '42424242-4242-4242-4242-424242424242' }));
    fixture.nmi.store.upsertBinding({ name: 'kv-kind', namespace: 'demo', namespaced: false, azureIdentity: 'kv-kind', selector: 'kv-kind' });
    const token = fixture.nmi.addPod({ name: 'uses-new-kind', labels: { aadpodidbinding: 'kv-kind' } });
    const res = await fetch(`${fixture.nmi.url}/sidecar/token?resource=https://vault.azure.net`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { access_token: string; client_id: string };
    expect(res.status).toBe(200);
    expect(body.access_token).toBe('new-kind:kv-kind:https://vault.azure.net:1');
    expect(body.client_id).toBe('42424242-4242-4242-4242-424242424242');
    expect(added.calls).toEqual(['demo/kv-kind|https://vault.azure.net']);
  });
});

import { describe, expect, it } from 'vitest';
import { parseAzureIdentity, parseAzureIdentityBinding, parseAzurePodIdentityException } from './parse.ts';
import { exceptionManifest, identityManifests, identityRows, identitySpecProblem, identityTable, type IdentitySpec } from './manifests.ts';

const RID = '/subscriptions/s/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/reader';
const CLIENT = '33333333-3333-3333-3333-333333333333';
const base: IdentitySpec = { name: 'reader', namespace: 'apps', type: 0, clientID: CLIENT, resourceID: RID, selector: 'reader' };

describe('podid identity create / exception add objects', () => {
  it('writes objects podid (and aad-pod-identity) parse back to the same identity and binding', () => {
    const [identity, binding] = identityManifests(base);
    const i = parseAzureIdentity(identity);
    const b = parseAzureIdentityBinding(binding);
    expect(i.ok && i.value).toMatchObject({ name: 'reader', namespace: 'apps', type: 0, clientID: CLIENT, resourceID: RID });
    expect(b.ok && b.value).toMatchObject({ name: 'reader-binding', azureIdentity: 'reader', selector: 'reader' });
    const e = parseAzurePodIdentityException(exceptionManifest('csi', 'kube-system', { app: 'csi' }));
    expect(e.ok && e.value.podLabels).toEqual({ app: 'csi' });
  });

  it.each<[string, Partial<IdentitySpec>, RegExp | undefined]>([
    ['type 0 with a client ID only', { resourceID: undefined }, undefined],
    ['type 0 with neither', { clientID: undefined, resourceID: undefined }, /--client-id or --resource-id/],
    ['type 1 without a tenant', { type: 1, resourceID: undefined, secret: 's' }, /--client-id and --tenant-id/],
    ['type 1 without a Secret', { type: 1, resourceID: undefined, tenantID: 't' }, /--secret/],
    ['type 3 (federated) needs no Secret', { type: 3, resourceID: undefined, tenantID: 't' }, undefined],
  ])('%s', (_n, over, problem) => {
    const p = identitySpecProblem({ ...base, ...over });
    if (problem) expect(p).toMatch(problem);
    else expect(p).toBeUndefined();
  });

  it('list: each identity with its selectors and the pods it serves', () => {
    const [identity, binding] = identityManifests(base);
    const objects = {
      identities: [parseAzureIdentity(identity)].flatMap((r) => (r.ok ? [r.value] : [])),
      bindings: [parseAzureIdentityBinding(binding)].flatMap((r) => (r.ok ? [r.value] : [])),
      exceptions: [],
    };
    const pods = ['a', 'b', 'c', 'd'].map((n) => ({ name: n, namespace: 'apps', labels: { aadpodidbinding: 'reader' } }));
    const rows = identityRows(objects, [...pods, { name: 'x', namespace: 'apps', labels: { aadpodidbinding: 'other' } }], { forceNamespaced: false });
    expect(rows).toEqual([{ identity: 'apps/reader', type: 0, clientID: CLIENT, selectors: ['reader'], pods: ['apps/a', 'apps/b', 'apps/c', 'apps/d'] }]);
    expect(identityTable(rows)).toMatch(
      /^IDENTITY\s+TYPE\s+CLIENTID\s+SELECTORS\s+PODS\napps\/reader\s+0\s+3{8}-.*\s+reader\s+4 \(apps\/a, apps\/b, apps\/c, …\)\n$/,
    );
  });
});

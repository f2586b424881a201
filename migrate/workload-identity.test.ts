import { describe, expect, it } from 'vitest';
import { conflictedServiceAccounts, credentialName, planWorkloadIdentityMove, type WiSnapshot } from './workload-identity.ts';

const C_WEB = '00000000-0000-0000-0000-000000000001';
const C_API = '00000000-0000-0000-0000-000000000002';
const C_SP = '00000000-0000-0000-0000-000000000003';
const C_OLD = '00000000-0000-0000-0000-0000000000aa';
const T_1 = '00000000-0000-0000-0000-0000000000f1';
const ISSUER = 'https://oidc.example/cluster-1/';
const MSI_ID = '/subscriptions/s/resourceGroups/rg-apps/providers/Microsoft.ManagedIdentity/userAssignedIdentities/web-msi';
const identity = (name: string, spec: Record<string, unknown>, ns = 'apps') => ({
  apiVersion: 'aadpodidentity.k8s.io/v1',
  kind: 'AzureIdentity',
  metadata: { name, namespace: ns },
  spec,
});
const binding = (name: string, azureIdentity: string, selector: string, ns = 'apps') => ({
  apiVersion: 'aadpodidentity.k8s.io/v1',
  kind: 'AzureIdentityBinding',
  metadata: { name, namespace: ns },
  spec: { azureIdentity, selector },
});
const deployment = (name: string, selector: string, opts: { sa?: string; image?: string; ns?: string; owned?: boolean } = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: opts.ns ?? 'apps', ...(opts.owned ? { ownerReferences: [{ kind: 'X', name: 'x', controller: true }] } : {}) },
  spec: {
    template: {
      metadata: { labels: { app: name, aadpodidbinding: selector } },
      spec: { ...(opts.sa ? { serviceAccountName: opts.sa } : {}), containers: [{ name: 'app', image: opts.image ?? 'example/app:1' }] },
    },
  },
});
const WEB = identity('web', { type: 0, clientID: C_WEB, resourceID: MSI_ID, tenantID: T_1 });

function snapshot(over: Partial<WiSnapshot>): WiSnapshot {
  return { workloads: [], identities: [WEB], bindings: [binding('web-binding', 'web', 'web')], serviceAccounts: new Map(), issuer: ISSUER, ...over };
}
const plan = (over: Partial<WiSnapshot>, opts: { binding?: string; proxy?: 'auto' | 'always' | 'never'; forceNamespaced?: boolean } = {}) =>
  planWorkloadIdentityMove(snapshot(over), { forceNamespaced: opts.forceNamespaced ?? false, binding: opts.binding, proxy: opts.proxy ?? 'auto' });

describe('podid migrate workload-identity: the plan', () => {
  it('a user-assigned identity: one credential per ServiceAccount, its az command and ARM resource, then the patches', () => {
    const p = plan({ workloads: [deployment('web', 'web', { sa: 'web' }), deployment('web-worker', 'web', { sa: 'web' })] });
    const [m] = p.moves;
    expect(m!.credentials).toEqual([
      { name: 'kubernetes-apps-web', issuer: ISSUER, subject: 'system:serviceaccount:apps:web', audience: 'api://AzureADTokenExchange' },
    ]);
    expect(m!.azCommands).toEqual([
      `az identity federated-credential create --name kubernetes-apps-web --identity-name web-msi --resource-group rg-apps --issuer "${ISSUER}" --subject "system:serviceaccount:apps:web" --audience "api://AzureADTokenExchange"`,
    ]);
    expect(m!.arm).toEqual([
      {
        type: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
        apiVersion: '2023-01-31',
        name: 'web-msi/kubernetes-apps-web',
        properties: { issuer: ISSUER, subject: 'system:serviceaccount:apps:web', audiences: ['api://AzureADTokenExchange'] },
      },
    ]);
    expect(m!.patches.map((x) => `${x.target.kind}/${x.target.name}`)).toEqual(['ServiceAccount/web', 'Deployment/web', 'Deployment/web-worker']);
    expect(m!.patches[0]!.mergePatch).toEqual({
      metadata: { annotations: { 'azure.workload.identity/client-id': C_WEB, 'azure.workload.identity/tenant-id': T_1 } },
    });
    expect(m!.patches[1]!.mergePatch).toEqual({
      spec: { template: { metadata: { labels: { 'azure.workload.identity/use': 'true', aadpodidbinding: null } } } },
    });
    expect(m!.patches[1]!.target.resource).toBe('apps/v1/deployments');
    expect(m!.warnings).toEqual([]);
    expect(p.warnings).toEqual([]);
  });

  // What is wrong → the warning that names it.
  it.each([
    [
      'a ServiceAccount shared by workloads with different identities',
      {
        identities: [WEB, identity('api', { type: 0, clientID: C_API, resourceID: MSI_ID.replace('web-msi', 'api-msi') })],
        bindings: [binding('web-binding', 'web', 'web'), binding('api-binding', 'api', 'api')],
        workloads: [deployment('web', 'web'), deployment('api', 'api')],
      },
      /ServiceAccount apps\/default is used by workloads with different identities/,
    ],
    [
      'an identity past 20 federated credentials',
      { workloads: Array.from({ length: 21 }, (_, i) => deployment(`w${i}`, 'web', { sa: `sa-${i}` })) },
      /would need 21 federated credentials, past Azure's 20/,
    ],
    [
      'a service principal with a secret',
      {
        identities: [identity('web', { type: 1, clientID: C_SP, tenantID: T_1, clientPassword: { name: 's', namespace: 'apps' } })],
        workloads: [deployment('web', 'web')],
      },
      /authenticates with a secret, which workload identity does not use: the credentials go on its app registration/,
    ],
    [
      'a user-assigned identity without resourceID',
      { identities: [identity('web', { type: 0, clientID: C_WEB })], workloads: [deployment('web', 'web')] },
      /has no resourceID: the federated credentials cannot be written/,
    ],
    ['an identity podid cannot read', { identities: [identity('web', { type: 0, clientID: 'not-a-guid' })] }, /AzureIdentity: spec.clientID must be a GUID/],
    ['a binding whose identity is missing', { identities: [], workloads: [deployment('web', 'web')] }, /does not exist: nothing to move/],
    ['a binding no workload uses', { workloads: [deployment('other', 'other')] }, /no workload uses binding apps\/web-binding/],
    [
      'an Azure CLI image (IMDS only)',
      { workloads: [deployment('cli', 'web', { image: 'mcr.microsoft.com/azure-cli:2.45.0' })] },
      /Azure CLI logs in with --identity.*The template gets azure.workload.identity\/inject-proxy-sidecar/,
    ],
    [
      'a ServiceAccount annotated with another client already',
      { workloads: [deployment('web', 'web')], serviceAccounts: new Map([['apps/default', { 'azure.workload.identity/client-id': C_OLD }]]) },
      /annotated with client 00000000-0000-0000-0000-0000000000aa already/,
    ],
  ])('warns about %s', (_n, over, warning) => {
    const p = plan(over as Partial<WiSnapshot>);
    expect([...p.warnings, ...p.moves.flatMap((m) => m.warnings)].join('\n')).toMatch(warning);
  });

  it('the proxy annotation: auto where an IMDS-only client is seen, always, or never', () => {
    const workloads = [deployment('cli', 'web', { image: 'mcr.microsoft.com/azure-cli:2.45.0' }), deployment('app', 'web')];
    const proxied = (proxy: 'auto' | 'always' | 'never') =>
      plan({ workloads }, { proxy })
        .moves[0]!.workloads.filter((w) => w.proxy)
        .map((w) => w.name);
    expect(proxied('auto')).toEqual(['cli']);
    expect(proxied('always')).toEqual(['cli', 'app']);
    expect(proxied('never')).toEqual([]);
    const patch = plan({ workloads }).moves[0]!.patches.find((x) => x.target.name === 'cli')!;
    expect(patch.mergePatch).toMatchObject({ spec: { template: { metadata: { annotations: { 'azure.workload.identity/inject-proxy-sidecar': 'true' } } } } });
  });

  it("skips what a controller made; a bare pod's patch is left to the operator", () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'apps', labels: { aadpodidbinding: 'web' } },
      spec: { containers: [{ name: 'a' }] },
    };
    const p = plan({ workloads: [deployment('owned', 'web', { owned: true }), pod] });
    expect(p.moves[0]!.workloads.map((w) => `${w.kind}/${w.name}`)).toEqual(['Pod/p']);
    expect(p.moves[0]!.patches.find((x) => x.target.kind === 'Pod')!.manual).toMatch(/recreate apps\/p/);
  });

  it('--binding moves one binding; --force-namespaced keeps a binding to its namespace', () => {
    const over = {
      identities: [WEB, identity('api', { type: 0, clientID: C_API, resourceID: MSI_ID })],
      bindings: [binding('web-binding', 'web', 'web'), binding('api-binding', 'api', 'api')],
      workloads: [deployment('web', 'web'), deployment('far', 'web', { ns: 'elsewhere' })],
    };
    expect(plan(over, { binding: 'apps/api-binding' }).moves.map((m) => m.binding)).toEqual(['apps/api-binding']);
    expect(plan(over).moves[1]!.workloads.map((w) => w.name)).toEqual(['web', 'far']);
    expect(plan(over, { forceNamespaced: true }).moves[1]!.workloads.map((w) => w.name)).toEqual(['web']);
  });

  it('leaves a ServiceAccount two identities would need, and its workloads, to the operator', () => {
    const p = plan({
      identities: [WEB, identity('api', { type: 0, clientID: C_API, resourceID: MSI_ID })],
      bindings: [binding('web-binding', 'web', 'web'), binding('api-binding', 'api', 'api')],
      workloads: [deployment('web', 'web'), deployment('api', 'api'), deployment('solo', 'api', { sa: 'solo' })],
    });
    expect([...conflictedServiceAccounts(p)]).toEqual(['apps/default']);
  });

  it.each([
    ['apps', 'web', 'kubernetes-apps-web'],
    ['a.b', 'c.d', 'kubernetes-a-b-c-d'],
    ['n'.repeat(63), 's'.repeat(253), `kubernetes-${'n'.repeat(63)}-${'s'.repeat(45)}`],
  ])('credential name for %s/%s', (ns, sa, name) => {
    expect(credentialName(ns, sa)).toBe(name);
    expect(name).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/);
  });
});

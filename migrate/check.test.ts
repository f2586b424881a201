import { describe, expect, it } from 'vitest';
import { checkMigration, findingsTable, type ClusterSnapshot } from './check.ts';

const CLIENT = '11111111-1111-1111-1111-111111111111';
const TENANT = '22222222-2222-2222-2222-222222222222';
const meta = (name: string, namespace = 'apps', extra: object = {}) => ({ name, namespace, ...extra });
const deployment = (name: string, securityContext?: object, namespace = 'apps') => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: meta(name, namespace),
  spec: {
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'x', ...(securityContext ? { securityContext } : {}) }] } },
  },
});
const snapshot = (over: Partial<ClusterSnapshot>): ClusterSnapshot => ({
  workloads: [],
  identities: [],
  bindings: [],
  secrets: new Map(),
  aadPodIdentityFlags: [],
  exemptNamespaces: ['kube-system'],
  ...over,
});
const sp = (name: string, secret: string, Type = 1) => ({
  metadata: meta(name),
  spec: { Type, ClientID: CLIENT, TenantID: TENANT, ClientPassword: { name: secret, namespace: 'apps' } },
});
const b = (v: string) => Buffer.from(v);

describe('podid migrate check', () => {
  // [what the cluster holds, [severity, area, text the finding contains][]]
  const table: Array<[string, Partial<ClusterSnapshot>, Array<[string, string, string]>]> = [
    [
      "aad-pod-identity's demo Deployment (no securityContext): fixed, not denied",
      { workloads: [deployment('demo')] },
      [['change', 'netraw', 'podid drops it in each pod as it is created']],
    ],
    [
      'a privileged Deployment: denied, with the fix',
      { workloads: [deployment('cni', { privileged: true, capabilities: { drop: ['ALL'] } })] },
      [['blocker', 'netraw', 'will be denied: container "web" is privileged']],
    ],
    [
      'kube-system is exempt; a compliant workload is fine',
      { workloads: [deployment('x', { privileged: true }, 'kube-system'), deployment('ok', { capabilities: { drop: ['ALL'] } })] },
      [],
    ],
    [
      'pods a ReplicaSet owns are judged through their owner, not twice',
      {
        workloads: [
          {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: meta('p', 'apps', { ownerReferences: [{ kind: 'ReplicaSet', name: 'r' }] }),
            spec: { containers: [{ name: 'c' }] },
          },
        ],
      },
      [],
    ],
    [
      'a binding naming a missing identity',
      { bindings: [{ metadata: meta('b'), spec: { AzureIdentity: 'ghost', Selector: 's' } }] },
      [['blocker', 'binding', 'names AzureIdentity apps/ghost, which does not exist']],
    ],
    [
      'a type 1 Secret under clientSecret: read as is',
      { identities: [sp('sp', 'sp-secret')], secrets: new Map([['apps/sp-secret', { clientSecret: b('x') }]]) },
      [['info', 'secret', 'read under key "clientSecret"']],
    ],
    [
      'a type 1 Secret with two keys, neither clientSecret',
      { identities: [sp('sp', 'sp-secret')], secrets: new Map([['apps/sp-secret', { a: b('1'), c: b('2') }]]) },
      [['blocker', 'secret', 'has 2 keys (a, c)']],
    ],
    ['a missing Secret', { identities: [sp('sp', 'nope')] }, [['blocker', 'secret', 'Secret apps/nope was not found']]],
    [
      'an identity podid refuses',
      { identities: [{ metadata: meta('aux'), spec: { type: 0, clientID: CLIENT, auxiliaryTenantIDs: ['t'] } }] },
      [['blocker', 'identity', 'auxiliaryTenantIDs: is not supported']],
    ],
    [
      'MIC and NMI flags',
      { aadPodIdentityFlags: ['--forceNamespaced=true', '--immutable-user-msis=abc', '--metadataheaderrequired=true', '--some-future-flag'] },
      [
        ['blocker', 'flag', 'no podid equivalent known'],
        ['info', 'flag', '--force-namespaced on podid nmi'],
        ['info', 'flag', '--immutable-identities on podid controller'],
      ],
    ],
  ];
  it.each(table)('%s', (_n, cluster, want) => {
    const findings = checkMigration(snapshot(cluster));
    expect(findings.map((f) => [f.severity, f.area])).toEqual(want.map(([s, a]) => [s, a]));
    want.forEach(([, , text], i) => expect(`${findings[i]!.subject}: ${findings[i]!.message}`).toContain(text));
  });
  it('never prints a Secret value', () => {
    const findings = checkMigration(snapshot({ identities: [sp('sp', 's')], secrets: new Map([['apps/s', { a: b('hunter2'), c: b('x') }]]) }));
    expect(JSON.stringify(findings) + findingsTable(findings)).not.toContain('hunter2');
  });
});

import { describe, expect, it } from 'vitest';
import type { AzureIdentity, AzureIdentityBinding, AzurePodIdentityException, PodRef } from './crds.ts';
import { danglingBindings, explainResolution, resolvePod, type IdentityObjects } from './match.ts';

const id = (namespace: string, name: string, extra: Partial<AzureIdentity> = {}): AzureIdentity => ({
  namespace,
  name,
  namespaced: false,
  type: 0,
  clientID: `00000000-0000-0000-0000-${name.padStart(12, '0').slice(-12)}`,
  ...extra,
});
const bind = (namespace: string, name: string, azureIdentity: string, selector: string, namespaced = false): AzureIdentityBinding => ({
  namespace,
  name,
  azureIdentity,
  selector,
  namespaced,
});
const exc = (namespace: string, name: string, podLabels: Record<string, string>): AzurePodIdentityException => ({
  namespace,
  name,
  podLabels,
  namespaced: false,
});
const pod = (namespace: string, labels: Record<string, string>): PodRef => ({ namespace, name: 'p', labels });

const world: IdentityObjects = {
  identities: [id('team-a', 'reader'), id('team-a', 'writer'), id('team-b', 'reader'), id('team-c', 'private', { namespaced: true })],
  bindings: [
    bind('team-a', 'reader-b', 'reader', 'reader'),
    bind('team-a', 'writer-b', 'writer', 'multi'),
    bind('team-a', 'reader-multi', 'reader', 'multi'),
    bind('team-a', 'reader-multi-dup', 'reader', 'multi'),
    bind('team-b', 'local-b', 'reader', 'local', true),
    bind('team-b', 'ghost-b', 'ghost', 'ghost'),
    bind('team-c', 'private-b', 'private', 'private'),
  ],
  exceptions: [exc('kube-system', 'csi', { app: 'csi' }), exc('team-a', 'probe', { app: 'probe', tier: 'infra' })],
};

type Expect = { kind: string; identities?: string[] };

const table: Array<[string, PodRef, boolean, Expect]> = [
  ['unlabeled pod', pod('team-a', { app: 'x' }), false, { kind: 'unlabeled' }],
  ['empty label value', pod('team-a', { aadpodidbinding: '' }), false, { kind: 'unlabeled' }],
  ['one binding, same namespace', pod('team-a', { aadpodidbinding: 'reader' }), false, { kind: 'matched', identities: ['team-a/reader'] }],
  ['cluster-wide binding serves other namespaces', pod('team-z', { aadpodidbinding: 'reader' }), false, { kind: 'matched', identities: ['team-a/reader'] }],
  ['forceNamespaced hides other namespaces', pod('team-z', { aadpodidbinding: 'reader' }), true, { kind: 'no-binding' }],
  ['forceNamespaced keeps own namespace', pod('team-a', { aadpodidbinding: 'reader' }), true, { kind: 'matched', identities: ['team-a/reader'] }],
  [
    'several bindings share a selector, deduplicated, stable order',
    pod('team-a', { aadpodidbinding: 'multi' }),
    false,
    { kind: 'matched', identities: ['team-a/reader', 'team-a/writer'] },
  ],
  ['namespaced binding annotation, same namespace', pod('team-b', { aadpodidbinding: 'local' }), false, { kind: 'matched', identities: ['team-b/reader'] }],
  ['namespaced binding annotation, other namespace', pod('team-a', { aadpodidbinding: 'local' }), false, { kind: 'no-binding' }],
  ['namespaced identity annotation, other namespace', pod('team-a', { aadpodidbinding: 'private' }), false, { kind: 'no-binding' }],
  ['namespaced identity annotation, same namespace', pod('team-c', { aadpodidbinding: 'private' }), false, { kind: 'matched', identities: ['team-c/private'] }],
  ['binding names a missing identity', pod('team-b', { aadpodidbinding: 'ghost' }), false, { kind: 'no-identity' }],
  ['no binding with that selector', pod('team-a', { aadpodidbinding: 'nobody' }), false, { kind: 'no-binding' }],
  ['selector is case-sensitive', pod('team-a', { aadpodidbinding: 'Reader' }), false, { kind: 'no-binding' }],
  ['exception in pod namespace wins over a binding', pod('kube-system', { app: 'csi', aadpodidbinding: 'reader' }), false, { kind: 'exception' }],
  [
    'exception in another namespace does not apply',
    pod('team-a', { app: 'csi', aadpodidbinding: 'reader' }),
    false,
    { kind: 'matched', identities: ['team-a/reader'] },
  ],
  ['exception needs all its labels', pod('team-a', { app: 'probe', aadpodidbinding: 'reader' }), false, { kind: 'matched', identities: ['team-a/reader'] }],
  ['exception with all labels', pod('team-a', { app: 'probe', tier: 'infra' }), false, { kind: 'exception' }],
];

describe('resolvePod', () => {
  it.each(table)('%s', (_name, p, forceNamespaced, want) => {
    const r = resolvePod(p, world, { forceNamespaced });
    expect(r.kind).toBe(want.kind);
    if (r.kind === 'matched') expect(r.identities.map((b) => `${b.identity.namespace}/${b.identity.name}`)).toEqual(want.identities);
  });
});

describe('explainResolution', () => {
  const cases: Array<[PodRef, boolean, string]> = [
    [pod('team-a', { aadpodidbinding: 'nobody' }), false, 'pod team-a/p has aadpodidbinding=nobody but no AzureIdentityBinding has selector nobody'],
    [pod('team-a', { aadpodidbinding: 'local' }), false, 'in namespace team-a (namespaced bindings elsewhere: team-b/local-b)'],
    [pod('team-b', { aadpodidbinding: 'ghost' }), false, 'team-b/ghost-b → AzureIdentity team-b/ghost'],
    [pod('kube-system', { app: 'csi' }), false, 'matches AzurePodIdentityException kube-system/csi'],
    [pod('team-a', {}), false, 'has no aadpodidbinding label'],
    [pod('team-a', { aadpodidbinding: 'multi' }), false, 'may use team-a/reader, team-a/writer'],
  ];
  it.each(cases)('explains %j', (p, forceNamespaced, text) => {
    expect(explainResolution(p, resolvePod(p, world, { forceNamespaced }))).toContain(text);
  });
});

describe('danglingBindings', () => {
  it('lists the bindings whose identity does not exist in their namespace', () => {
    const b = (name: string, namespace: string, azureIdentity: string) => ({ name, namespace, namespaced: false, azureIdentity, selector: name });
    const exists = (ns: string, name: string) => `${ns}/${name}` === 'apps/reader';
    expect(danglingBindings([b('ok', 'apps', 'reader'), b('typo', 'apps', 'raeder'), b('elsewhere', 'team-a', 'reader')], exists).map((x) => x.name)).toEqual([
      'typo',
      'elsewhere',
    ]);
  });
});

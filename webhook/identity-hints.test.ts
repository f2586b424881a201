import { describe, expect, it } from 'vitest';
import type { PodRef } from '../identity/crds.ts';
import { IdentityStore } from '../identity/store.ts';
import { identityHints } from './identity-hints.ts';

const store = new IdentityStore();
store.upsertIdentity({ name: 'reader', namespace: 'apps', namespaced: false, type: 0, clientID: '11111111-1111-1111-1111-111111111111' });
store.upsertBinding({ name: 'reader', namespace: 'apps', namespaced: false, azureIdentity: 'reader', selector: 'reader' });
store.upsertBinding({ name: 'dangling', namespace: 'apps', namespaced: false, azureIdentity: 'ghost', selector: 'ghost' });
store.upsertException({ name: 'csi', namespace: 'apps', namespaced: false, podLabels: { app: 'csi' } });
const hints = identityHints((p) => store.objectsFor(p), { forceNamespaced: false });
const pod = (labels: Record<string, string>): PodRef => ({ name: 'web', namespace: 'apps', labels });

describe('admission warnings about identities', () => {
  const table: Array<[string, Record<string, string>, string | undefined]> = [
    ['served: no warning', { aadpodidbinding: 'reader' }, undefined],
    ['not asking: no warning', {}, undefined],
    [
      'no binding has the selector',
      { aadpodidbinding: 'nobody' },
      'podid: pod apps/web has aadpodidbinding=nobody but no AzureIdentityBinding has selector nobody: it gets no token until that is fixed',
    ],
    [
      'the binding names a missing identity',
      { aadpodidbinding: 'ghost' },
      'bindings name identities that do not exist: apps/dangling → AzureIdentity apps/ghost',
    ],
    [
      'an exception matches',
      { aadpodidbinding: 'reader', app: 'csi' },
      'matches AzurePodIdentityException apps/csi: its metadata requests bypass podid: podid will not serve it tokens',
    ],
  ];
  it.each(table)('%s', (_n, labels, want) => {
    const got = hints(pod(labels));
    if (want === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(want);
  });

  it('standard mode: a type 0 identity without resourceID cannot be assigned to the node (none in managed mode)', () => {
    const standard = identityHints((p) => store.objectsFor(p), { forceNamespaced: false, standard: true });
    expect(standard(pod({ aadpodidbinding: 'reader' }))).toContain(
      'would use AzureIdentity apps/reader (type 0) without a resourceID: in standard mode podid-controller cannot assign it',
    );
    expect(hints(pod({ aadpodidbinding: 'reader' }))).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { testCertSettings } from '../test/certs-settings.ts';
import { createCA } from './generate.ts';
import { planCerts } from './plan.ts';
import { secretFromState, splitPem, stateFromSecret } from './secret-codec.ts';

describe('Secret codec', () => {
  const settings = testCertSettings({ serviceName: 's', namespace: 'n' });
  const state = { ...planCerts({ bundle: [] }, new Date(), settings).state, bundlePublishedAt: new Date('2026-05-01T00:00:00Z') };

  it('round-trips a state through the Secret, and a stored state plans no change', () => {
    const secret = secretFromState('tls', 'n', state, '42');
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(secret.metadata).toMatchObject({
      name: 'tls',
      namespace: 'n',
      resourceVersion: '42',
      annotations: { 'podid.io/ca-bundle-published-at': '2026-05-01T00:00:00.000Z' },
    });
    const back = stateFromSecret(secret);
    expect(back).toEqual(state);
    expect(planCerts(back, new Date(), settings).changed).toBe(false);
  });

  it('splits a bundle of several CAs', () => {
    const other = createCA({ commonName: 'other', validityDays: 1 });
    expect(splitPem(state.ca!.certPem + other.certPem)).toEqual([state.ca!.certPem, other.certPem]);
  });

  it('reads an empty or foreign Secret as nothing stored', () => {
    expect(stateFromSecret(undefined)).toEqual({ ca: undefined, bundle: [], serving: undefined, bundlePublishedAt: undefined });
    expect(
      stateFromSecret({ data: { 'tls.crt': 'eA==' }, metadata: { annotations: { 'podid.io/ca-bundle-published-at': 'junk' } } }).bundlePublishedAt,
    ).toBeUndefined();
  });
});

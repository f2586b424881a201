import { describe, expect, it } from 'vitest';
import type { AzureIdentity } from './crds.ts';
import { selectIdentity, type IdentitySelector } from './select.ts';

const A = '00000000-0000-0000-0000-00000000000a';
const B = '00000000-0000-0000-0000-00000000000b';
const OID = '99999999-0000-0000-0000-000000000001';
const RID_A = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a';
const ident = (name: string, clientID: string, extra: Partial<AzureIdentity> = {}): AzureIdentity => ({
  name,
  namespace: 'ns',
  namespaced: false,
  type: 0,
  clientID,
  ...extra,
});
const a = ident('a', A, { resourceID: RID_A, objectID: OID });
const b = ident('b', B);

const table: Array<[string, AzureIdentity[], IdentitySelector, string]> = [
  ['single identity, no selector', [a], {}, 'a'],
  ['several identities, no selector', [a, b], {}, 'ambiguous'],
  ['by client id', [a, b], { clientID: B }, 'b'],
  ['by client id, other case', [a, b], { clientID: B.toUpperCase() }, 'b'],
  ['by resource id, other case', [a, b], { resourceID: RID_A.toLowerCase() }, 'a'],
  ['by object id', [a, b], { objectID: OID }, 'a'],
  ['client id not held', [a], { clientID: B }, 'not-held'],
  ['selectors that disagree', [a, b], { clientID: B, resourceID: RID_A }, 'not-held'],
  ['nothing held', [], {}, 'none'],
];

describe('selectIdentity', () => {
  it.each(table)('%s', (_name, held, sel, want) => {
    const r = selectIdentity(held, sel);
    expect(r.ok ? r.identity.name : r.reason).toBe(want);
  });
  it('names the choices when it cannot pick', () => {
    const r = selectIdentity([a, b], { clientID: '00000000-0000-0000-0000-0000000000ff' });
    expect(!r.ok && r.message).toBe(
      `the pod holds no identity with client_id=00000000-0000-0000-0000-0000000000ff; it holds ns/a (client_id ${A}), ns/b (client_id ${B})`,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { parseAzureIdentity, parseAzureIdentityBinding } from '../identity/parse.ts';
import { bindingColumns, columnsPatch, identityColumns } from './columns.ts';

const meta = { name: 'x', namespace: 'apps' };
const R = '/subscriptions/s/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x';
const C = '00000000-0000-0000-0000-0000000000c1';

describe('printer columns for both casings', () => {
  it.each([
    ['new casing', { type: 0, clientID: C, resourceID: R }],
    ['old casing', { Type: 0, ClientID: C, ResourceID: R }],
  ])('AzureIdentity, %s → the same status', (_n, spec) => {
    const parsed = parseAzureIdentity({ metadata: meta, spec });
    expect(parsed.ok && identityColumns(parsed.value)).toEqual({ type: 0, clientID: C, resourceID: R });
  });

  it.each([
    ['new casing', { azureIdentity: 'id', selector: 'web' }],
    ['old casing', { AzureIdentity: 'id', Selector: 'web' }],
  ])('AzureIdentityBinding, %s → the same status', (_n, spec) => {
    const parsed = parseAzureIdentityBinding({ metadata: meta, spec });
    expect(parsed.ok && bindingColumns(parsed.value)).toEqual({ azureIdentity: 'id', selector: 'web' });
  });

  it.each([
    ['no status yet', undefined, [{ op: 'add', path: '/status', value: { type: 1, clientID: 'c' } }]],
    [
      'aad-pod-identity status kept, fields added',
      { availableReplicas: 2 },
      [
        { op: 'add', path: '/status/type', value: 1 },
        { op: 'add', path: '/status/clientID', value: 'c' },
      ],
    ],
    ['one field changed', { type: 1, clientID: 'old' }, [{ op: 'add', path: '/status/clientID', value: 'c' }]],
    ['up to date', { type: 1, clientID: 'c' }, undefined],
  ])('%s', (_n, status, patch) => {
    expect(columnsPatch(status, { type: 1, clientID: 'c' })).toEqual(patch);
  });
});

import { describe, expect, it } from 'vitest';
import { parseAzureAssignedIdentity, parseAzureIdentity, parseAzureIdentityBinding, parseAzurePodIdentityException } from './parse.ts';
import { formatFieldErrors } from './fields.ts';

const CLIENT = '11111111-2222-3333-4444-555555555555';
const TENANT = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const RID = '/subscriptions/s1/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-id';

const obj = (spec: unknown, metadata: Record<string, unknown> = { name: 'x', namespace: 'ns' }) => ({
  apiVersion: 'aadpodidentity.k8s.io/v1',
  metadata,
  spec,
});

describe('parseAzureIdentity', () => {
  const accepted: Array<[string, unknown, Record<string, unknown>]> = [
    ['type 0 with new casing', { type: 0, resourceID: RID, clientID: CLIENT }, { type: 0, resourceID: RID, clientID: CLIENT }],
    ['type 0 with old casing', { type: 0, ResourceID: RID, ClientID: CLIENT }, { resourceID: RID, clientID: CLIENT }],
    ['type 0 with Go-decoder lower casing', { type: 0, resourceid: RID, clientid: CLIENT }, { resourceID: RID, clientID: CLIENT }],
    ['type 0 by client id only', { type: 0, clientID: CLIENT }, { clientID: CLIENT, resourceID: undefined }],
    ['type 0 by resource id only, type omitted', { ResourceID: RID }, { type: 0, resourceID: RID }],
    ['type as numeric string', { type: '0', clientID: CLIENT }, { type: 0 }],
    ['same value in two casings', { clientID: CLIENT, ClientID: CLIENT }, { clientID: CLIENT }],
    [
      'type 1 with secret ref, namespace defaulted',
      { type: 1, ClientID: CLIENT, TenantID: TENANT, ClientPassword: { name: 'sp' } },
      { type: 1, tenantID: TENANT, clientPassword: { name: 'sp', namespace: 'ns' } },
    ],
    [
      'type 2 with domain tenant',
      { type: 2, clientID: CLIENT, tenantID: 'contoso.onmicrosoft.com', clientPassword: { name: 'cert', namespace: 'other' } },
      { type: 2, clientPassword: { name: 'cert', namespace: 'other' } },
    ],
    ['type 3 (federated) needs no secret', { type: 3, clientID: CLIENT, tenantID: TENANT }, { type: 3, clientPassword: undefined }],
    ['surrounding spaces trimmed', { clientID: ` ${CLIENT} ` }, { clientID: CLIENT }],
  ];
  it.each(accepted)('accepts %s', (_name, spec, expected) => {
    const r = parseAzureIdentity(obj(spec));
    expect(r.ok ? [] : r.errors).toEqual([]);
    if (r.ok) expect(r.value).toMatchObject({ name: 'x', namespace: 'ns', ...expected });
  });

  const rejected: Array<[string, unknown, string]> = [
    ['type 0 without ids', { type: 0 }, 'spec.clientID: a user-assigned identity (type 0) needs clientID or resourceID'],
    ['unknown type', { type: 4, clientID: CLIENT }, 'spec.type: must be 0'],
    [
      'auxiliaryTenantIDs (aad-pod-identity cross-tenant tokens)',
      { type: 0, clientID: CLIENT, auxiliaryTenantIDs: ['contoso.onmicrosoft.com'] },
      'spec.auxiliaryTenantIDs: is not supported by podid',
    ],
    ['AuxiliaryTenantIDs, old casing', { type: 0, clientID: CLIENT, AuxiliaryTenantIDs: ['x'] }, 'spec.auxiliaryTenantIDs: is not supported by podid'],
    ['type 3 without tenant', { type: 3, clientID: CLIENT }, 'spec.tenantID: is required for a service principal with federated credential (type 3)'],
    ['client id not a GUID', { clientID: 'abc' }, 'spec.clientID: must be a GUID'],
    ['casings disagree', { clientID: CLIENT, ClientID: TENANT }, 'spec.clientID: set twice with different values'],
    ['resource id of another kind', { resourceID: '/subscriptions/s/resourcegroups/r/providers/Microsoft.Compute/vms/v' }, 'spec.resourceID: must look like'],
    ['type 1 without tenant', { type: 1, clientID: CLIENT, clientPassword: { name: 's' } }, 'spec.tenantID: is required for a service principal'],
    ['type 1 without password', { type: 1, clientID: CLIENT, tenantID: TENANT }, 'spec.clientPassword: is required'],
    [
      'type 2 password ref without name',
      { type: 2, clientID: CLIENT, tenantID: TENANT, clientPassword: { namespace: 'n' } },
      'spec.clientPassword.name: is required',
    ],
    ['client id of wrong type', { clientID: 42 }, 'spec.clientID: must be a string'],
    ['spec not an object', 'nope', 'spec: must be an object'],
    ['adEndpoint not https', { clientID: CLIENT, adEndpoint: 'http://login' }, 'spec.adEndpoint: must be an https URL'],
  ];
  it.each(rejected)('rejects %s', (_name, spec, message) => {
    const r = parseAzureIdentity(obj(spec));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(formatFieldErrors('AzureIdentity', 'ns/x', r.errors)).toContain(message);
  });

  it('requires a name and a JSON object', () => {
    const noName = parseAzureIdentity({ spec: { clientID: CLIENT } });
    expect(noName.ok || noName.errors).toEqual([{ field: 'metadata.name', message: 'is required' }]);
    expect(parseAzureIdentity(null).ok).toBe(false);
  });

  it('reads the namespaced behaviour annotation', () => {
    const r = parseAzureIdentity(obj({ clientID: CLIENT }, { name: 'x', annotations: { 'aadpodidentity.k8s.io/Behavior': 'namespaced' } }));
    expect(r.ok && r.value).toMatchObject({ namespaced: true, namespace: 'default' });
  });
});

describe('parseAzureIdentityBinding', () => {
  const cases: Array<[string, unknown, Record<string, unknown> | string]> = [
    ['new casing', { azureIdentity: 'id', selector: 'app' }, { azureIdentity: 'id', selector: 'app' }],
    ['old casing', { AzureIdentity: 'id', Selector: 'app' }, { azureIdentity: 'id', selector: 'app' }],
    ['missing selector', { azureIdentity: 'id' }, 'spec.selector: is required'],
    ['missing identity', { selector: 'app' }, 'spec.azureIdentity: is required'],
    ['empty selector', { azureIdentity: 'id', selector: '' }, 'spec.selector: is required'],
  ];
  it.each(cases)('%s', (_name, spec, expected) => {
    const r = parseAzureIdentityBinding(obj(spec));
    if (typeof expected === 'string') {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(formatFieldErrors('AzureIdentityBinding', 'ns/x', r.errors)).toContain(expected);
    } else {
      expect(r.ok && r.value).toMatchObject(expected);
    }
  });
});

describe('parseAzurePodIdentityException', () => {
  it('accepts podLabels in either casing', () => {
    for (const key of ['podLabels', 'PodLabels']) {
      const r = parseAzurePodIdentityException(obj({ [key]: { app: 'csi' } }));
      expect(r.ok && r.value.podLabels).toEqual({ app: 'csi' });
    }
  });
  it('rejects empty or non-string labels', () => {
    const empty = parseAzurePodIdentityException(obj({ podLabels: {} }));
    expect(!empty.ok && empty.errors[0]!.field).toBe('spec.podLabels');
    const bad = parseAzurePodIdentityException(obj({ podLabels: { app: 1 } }));
    expect(!bad.ok && bad.errors[0]!.field).toBe('spec.podLabels.app');
  });
});

describe('parseAzureAssignedIdentity', () => {
  it('accepts embedded objects (aad-pod-identity) and bare names (podid)', () => {
    const embedded = parseAzureAssignedIdentity({
      metadata: { name: 'p-ns-id', namespace: 'ns' },
      spec: {
        AzureIdentityRef: { metadata: { name: 'id' }, spec: {} },
        AzureBindingRef: { metadata: { name: 'b' } },
        Pod: 'p',
        PodNamespace: 'ns',
        NodeName: 'n1',
      },
      status: { status: 'Assigned' },
    });
    expect(embedded.ok && embedded.value).toMatchObject({
      identityName: 'id',
      bindingName: 'b',
      pod: 'p',
      nodeName: 'n1',
      status: 'Assigned',
    });
    const bare = parseAzureAssignedIdentity(obj({ azureIdentityRef: 'id', azureBindingRef: 'b', pod: 'p', podNamespace: 'ns', nodename: 'n1' }));
    expect(bare.ok && bare.value).toMatchObject({ identityName: 'id', status: undefined });
  });
  it('names missing references and unknown statuses', () => {
    const r = parseAzureAssignedIdentity({ metadata: { name: 'a' }, spec: { pod: 'p' }, status: { status: 'Bogus' } });
    expect(!r.ok && r.errors.map((e) => e.field)).toEqual([
      'spec.azureIdentityRef',
      'spec.azureBindingRef',
      'spec.podNamespace',
      'spec.nodeName',
      'status.status',
    ]);
  });
});

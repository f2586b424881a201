import { describe, expect, it } from 'vitest';
import type { AdmissionRequest } from './admission.ts';
import { defaultInjectionConfig } from './injection-config.ts';
import { mutateWorkloadIdentity } from './mutate-workload-identity.ts';
import type { ServiceAccountReader } from './service-accounts.ts';
import { CLIENT, TENANT, wiPod } from '../test/workload-identity-cases.ts';

const request = (object: unknown, extra: Partial<AdmissionRequest> = {}): AdmissionRequest =>
  ({
    uid: 'u1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    namespace: 'apps',
    operation: 'CREATE',
    object,
    ...extra,
  }) as AdmissionRequest;

const deps = (serviceAccounts: ServiceAccountReader) => ({
  wi: { tenantId: TENANT, authorityHost: 'https://login.microsoftonline.com/', audience: 'api://AzureADTokenExchange' },
  injection: defaultInjectionConfig,
  newSecret: () => 'h',
  serviceAccounts,
});
const annotated: ServiceAccountReader = async (_ns, name) => ({ name, annotations: { 'azure.workload.identity/client-id': CLIENT } });

describe('/mutate-workload-identity', () => {
  it('patches a labeled pod after reading its ServiceAccount', async () => {
    const seen: string[] = [];
    const r = await mutateWorkloadIdentity(
      request(wiPod({ sa: 'api' })),
      deps(async (ns, name) => (seen.push(`${ns}/${name}`), annotated(ns, name))),
    );
    expect(seen).toEqual(['apps/api']);
    expect(r.outcome).toBe('injected');
    expect(r.response).toMatchObject({ allowed: true, patchType: 'JSONPatch' });
  });

  it('refuses the pod, naming the ServiceAccount, when the apiserver cannot say (fail closed)', async () => {
    const r = await mutateWorkloadIdentity(
      request(wiPod()),
      deps(async () => {
        throw new Error('connect ECONNREFUSED');
      }),
    );
    expect(r.outcome).toBe('unavailable');
    expect(r.response).toMatchObject({ allowed: false, status: { code: 503, message: expect.stringMatching(/ServiceAccount apps\/default .*ECONNREFUSED/) } });
  });

  it('refuses a malformed pod with 400 and never reads a ServiceAccount for it', async () => {
    let reads = 0;
    const r = await mutateWorkloadIdentity(
      request({ metadata: {}, spec: { containers: 'x' } }),
      deps(async () => void reads++),
    );
    expect(r.response).toMatchObject({ allowed: false, status: { code: 400 } });
    expect(reads).toBe(0);
  });

  it.each([
    ['an UPDATE', request(wiPod(), { operation: 'UPDATE' })],
    ['a subresource', request(wiPod(), { subResource: 'status' })],
  ])('allows %s untouched', async (_n, req) => {
    const r = await mutateWorkloadIdentity(req, deps(annotated));
    expect(r).toMatchObject({ outcome: 'ignored', response: { allowed: true } });
    expect(r.response.patch).toBeUndefined();
  });

  it('warns about a pod labeled for both models', async () => {
    const pod = wiPod();
    pod.metadata!.labels!.aadpodidbinding = 'web';
    const r = await mutateWorkloadIdentity(request(pod), deps(annotated));
    expect(r.response.warnings?.join('\n')).toMatch(/labeled for both/);
  });
});

// policies/validating-admission-policy.yaml evaluated by the real apiserver over the shared case table,
// with podid's own webhooks removed so that only the policy decides.

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { disagreementsWithTable } from './case-table.ts';
import { eventually, kube, kubectl } from './kube.ts';

const cluster = inject('cluster');
const NS = 'e2e-policies';

beforeAll(async () => {
  await kubectl(cluster, ['delete', 'validatingwebhookconfiguration,mutatingwebhookconfiguration', 'podid', '--ignore-not-found']);
  await kube(cluster, ['create', 'namespace', NS]);
  await kube(cluster, ['apply', '-f', 'policies/validating-admission-policy.yaml']);
  // The policy is enforced once the apiserver has compiled it and sees the binding.
  await eventually('the policy to deny', async () => {
    const probe = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'probe', namespace: NS },
      spec: { containers: [{ name: 'c', image: 'x' }] },
    });
    const r = await kubectl(cluster, ['create', '--dry-run=server', '-f', '-'], probe);
    return r.code !== 0 && r.stderr.includes('podid-netraw') ? true : undefined;
  });
});

afterAll(async () => {
  await kubectl(cluster, ['delete', '-f', 'policies/validating-admission-policy.yaml', '--ignore-not-found']);
});

describe('ValidatingAdmissionPolicy', () => {
  it('agrees with the shared case table for every row', async () => {
    const disagreements = await disagreementsWithTable(cluster, NS, (_row, message) =>
      message.includes("ValidatingAdmissionPolicy 'podid-netraw'") ? undefined : `denied, but not by the policy: ${message}`,
    );
    expect(disagreements).toEqual([]);
  });

  it('names the containers and the fix', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: NS },
      spec: {
        containers: [
          { name: 'web', image: 'x' },
          { name: 'side', image: 'x', securityContext: { privileged: true, capabilities: { drop: ['ALL'] } } },
        ],
      },
    };
    const r = await kubectl(cluster, ['create', '--dry-run=server', '-f', '-'], JSON.stringify(pod));
    expect(r.stderr).toContain('containers web do not drop NET_RAW: add "NET_RAW" (or "ALL") to securityContext.capabilities.drop');
  });
});

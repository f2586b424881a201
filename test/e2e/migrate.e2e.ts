// `podid migrate check`, the real command against the real apiserver: an aad-pod-identity cluster's objects as
// its users wrote them, and a MIC Deployment's flags; the findings name what podid fixes, what it would deny,
// and what needs the operator first. Read-only: the objects are unchanged afterwards.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { kube, kubeJson } from './kube.ts';

const run = promisify(execFile);
const cluster = inject('cluster');
// Labelled as podid's control plane so podid's own webhooks (installed by other files) leave these objects alone.
const NS = 'e2e-migrate';

const deployment = (name: string, container: object) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: NS },
  spec: {
    replicas: 0,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name, aadpodidbinding: 'demo' } }, spec: { containers: [{ name: 'app', image: 'example/app:1', ...container }] } },
  },
});

beforeAll(async () => {
  await kube(cluster, ['create', 'namespace', NS]);
  await kube(cluster, ['label', 'namespace', NS, 'podid.io/control-plane=true']);
  const items = [
    deployment('demo', {}), // aad-pod-identity's demo: no securityContext
    deployment('privileged', { securityContext: { privileged: true } }),
    deployment('mic', {
      image: 'mcr.microsoft.com/oss/azure/aad-pod-identity/mic:v1.8.17',
      args: ['--forceNamespaced=true', '--immutable-user-msis=abc'],
      securityContext: { capabilities: { drop: ['ALL'] } },
    }),
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sp-secret', namespace: NS }, stringData: { first: 'x', second: 'y' } },
    {
      apiVersion: 'aadpodidentity.k8s.io/v1',
      kind: 'AzureIdentity',
      metadata: { name: 'sp', namespace: NS },
      spec: {
        Type: 1,
        ClientID: '11111111-1111-1111-1111-111111111111',
        TenantID: '22222222-2222-2222-2222-222222222222',
        ClientPassword: { name: 'sp-secret', namespace: NS },
      },
    },
    {
      apiVersion: 'aadpodidentity.k8s.io/v1',
      kind: 'AzureIdentityBinding',
      metadata: { name: 'orphan', namespace: NS },
      spec: { AzureIdentity: 'ghost', Selector: 'demo' },
    },
  ];
  await kube(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
});

describe('podid migrate check against a real apiserver', () => {
  it('names what podid fixes, what it would deny, and what needs the operator; exit code 3 for blockers', async () => {
    const r = await run(process.execPath, ['bin/podid.js', 'migrate', 'check', '--kubeconfig', cluster.kubeconfig, '--output', 'json'], {
      timeout: 60_000,
    }).catch((e: { code: number; stdout: string; stderr: string }) => e);
    expect((r as { code?: number }).code, (r as { stderr: string }).stderr).toBe(3);
    const { findings } = JSON.parse(r.stdout) as { findings: Array<{ severity: string; area: string; subject: string; message: string }> };
    const ours = findings.filter((f) => f.subject.includes(`${NS}/`) || f.area === 'flag').map((f) => `${f.severity} ${f.area} ${f.subject}: ${f.message}`);
    expect(ours).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^change netraw Deployment ${NS}/demo: container "app" does not drop NET_RAW`)),
        expect.stringMatching(new RegExp(`^blocker netraw Deployment ${NS}/privileged: will be denied: container "app" is privileged`)),
        expect.stringMatching(new RegExp(`^blocker secret AzureIdentity ${NS}/sp: Secret ${NS}/sp-secret has 2 keys \\(first, second\\)`)),
        expect.stringMatching(new RegExp(`^blocker binding AzureIdentityBinding ${NS}/orphan: names AzureIdentity ${NS}/ghost`)),
        expect.stringMatching(/^info flag --immutable-user-msis=abc: in podid: --immutable-identities on podid controller/),
        expect.stringMatching(/^info flag --forceNamespaced=true: in podid: --force-namespaced/),
      ]),
    );
    expect(JSON.stringify(findings)).not.toMatch(/"x"|"y"/); // Secret values never printed
  });

  it('prints a table for people, and changes nothing', async () => {
    const before = await kubeJson(cluster, ['get', 'deployment', 'demo', '-n', NS]);
    const r = await run(process.execPath, ['bin/podid.js', 'migrate', 'check', '--kubeconfig', cluster.kubeconfig], { timeout: 60_000 }).catch(
      (e: { stdout: string }) => e,
    );
    expect(r.stdout).toMatch(/^SEVERITY\s+AREA\s+SUBJECT\s+WHAT CHANGES/);
    expect(r.stdout).toContain('kubectl apply -k deploy/');
    const after = await kubeJson(cluster, ['get', 'deployment', 'demo', '-n', NS]);
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });
});

// `podid explain pod`, the real command against the real apiserver, for each resolution outcome: served (with its
// AzureAssignedIdentity), no label, no binding, a binding naming a missing identity, an exception, the AKS add-on's
// built-in exception, no sidecar. The namespace is podid's control plane so the webhooks other files install
// leave these pods exactly as written.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { api, ensureCrds, kube } from './kube.ts';

const run = promisify(execFile);
const cluster = inject('cluster');
const NS = 'e2e-explain';
const RID = '/subscriptions/s/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/reader';
const CLIENT = '22222222-2222-2222-2222-222222222222';
const drop = { securityContext: { capabilities: { drop: ['ALL'] } } };

const pod = (name: string, labels: Record<string, string>, opts: { sidecar?: boolean; ns?: string } = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: opts.ns ?? NS, labels },
  spec: {
    nodeName: 'e2e-explain-node',
    initContainers: opts.sidecar === false ? [] : [{ name: 'podid-token', image: 'podid', restartPolicy: 'Always', ...drop }],
    containers: [{ name: 'app', image: 'example/app:1', ...drop }],
  },
});

async function explain(target: string): Promise<{ code: number; json: any }> {
  const r = await run(process.execPath, ['bin/podid.js', 'explain', 'pod', target, '--kubeconfig', cluster.kubeconfig, '--output', 'json'], {
    timeout: 60_000,
  }).then(
    (x) => ({ code: 0, stdout: x.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );
  return { code: r.code, json: JSON.parse(r.stdout) };
}

beforeAll(async () => {
  await ensureCrds(cluster);
  // No podid webhook is running for this file: another file's configuration would send the kube-system pod to it.
  await kube(cluster, ['delete', 'mutatingwebhookconfiguration,validatingwebhookconfiguration', 'podid', '--ignore-not-found']);
  await kube(cluster, ['create', 'namespace', NS]);
  await kube(cluster, ['label', 'namespace', NS, 'podid.io/control-plane=true']);
  const cr = (kind: string, name: string, spec: object) => ({ apiVersion: 'aadpodidentity.k8s.io/v1', kind, metadata: { name, namespace: NS }, spec });
  const items = [
    cr('AzureIdentity', 'reader', { type: 0, ResourceID: RID, ClientID: CLIENT }),
    cr('AzureIdentityBinding', 'web', { AzureIdentity: 'reader', Selector: 'web' }),
    cr('AzureIdentityBinding', 'dangling', { azureIdentity: 'ghost', selector: 'ghost' }),
    cr('AzurePodIdentityException', 'csi', { podLabels: { app: 'csi' } }),
    pod('served', { aadpodidbinding: 'web' }),
    pod('unlabeled', {}),
    pod('nobinding', { aadpodidbinding: 'nobody' }),
    pod('dangling', { aadpodidbinding: 'ghost' }),
    pod('excepted', { aadpodidbinding: 'web', app: 'csi' }),
    pod('nosidecar', { aadpodidbinding: 'web' }, { sidecar: false }),
    pod('aks-addon', { aadpodidbinding: 'web', 'kubernetes.azure.com/managedby': 'aks' }, { ns: 'kube-system' }),
  ];
  await kube(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  // NMI's record for the served pod (what it writes once it has seen the pod on its node).
  const aai = {
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzureAssignedIdentity',
    metadata: { name: `served-${NS}-reader`, namespace: NS },
    spec: {
      azureIdentityRef: { apiVersion: 'aadpodidentity.k8s.io/v1', kind: 'AzureIdentity', metadata: { name: 'reader', namespace: NS } },
      azureBindingRef: { apiVersion: 'aadpodidentity.k8s.io/v1', kind: 'AzureIdentityBinding', metadata: { name: 'web', namespace: NS } },
      pod: 'served',
      podNamespace: NS,
      nodeName: 'e2e-explain-node',
    },
  };
  const created = await api(cluster, 'POST', `/apis/aadpodidentity.k8s.io/v1/namespaces/${NS}/azureassignedidentities`, aai);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  await api(cluster, 'PUT', `/apis/aadpodidentity.k8s.io/v1/namespaces/${NS}/azureassignedidentities/${aai.metadata.name}/status`, {
    ...created.body,
    status: { status: 'Assigned' },
  });
});

describe('podid explain pod (the real command, the real apiserver)', () => {
  it('a served pod: exit 0, the identity (old casing read), its Assigned record', async () => {
    const { code, json } = await explain(`${NS}/served`);
    expect(code).toBe(0);
    expect(json.serves).toEqual([`${NS}/reader`]);
    expect(json.findings.map((f: any) => f.verdict)).not.toContain('blocks');
    expect(json.findings.find((f: any) => f.step === 'assignment').message).toMatch(/is Assigned on node e2e-explain-node/);
  });

  it.each([
    ['unlabeled', 'label', /has no aadpodidbinding label/],
    ['nobinding', 'resolution', /no AzureIdentityBinding has selector nobody/],
    ['dangling', 'resolution', /bindings name identities that do not exist: .*AzureIdentity e2e-explain\/ghost/],
    ['excepted', 'resolution', /matches AzurePodIdentityException e2e-explain\/csi/],
  ])('%s: exit 3, the %s step blocks and says why, with a fix', async (name, step, message) => {
    const { code, json } = await explain(`${NS}/${name}`);
    expect(code).toBe(3);
    const f = json.findings.find((x: any) => x.verdict === 'blocks');
    expect(f).toMatchObject({ step, message: expect.stringMatching(message), fix: expect.any(String) });
  });

  it("the AKS add-on's built-in exception (as NMI's default --builtin-exceptions)", async () => {
    const { code, json } = await explain('kube-system/aks-addon');
    expect(code).toBe(3);
    expect(json.findings.find((x: any) => x.verdict === 'blocks').message).toMatch(/AzurePodIdentityException kube-system\/podid-builtin-1/);
  });

  it('no sidecar: says why (the namespace podid skips)', async () => {
    const { json } = await explain(`${NS}/nosidecar`);
    expect(json.findings.find((x: any) => x.step === 'sidecar')).toMatchObject({
      verdict: 'warn',
      message: expect.stringMatching(/labeled podid.io\/control-plane/),
    });
  });

  it('a pod that does not exist: exit 1 and a clear message', async () => {
    const r = await run(process.execPath, ['bin/podid.js', 'explain', 'pod', `${NS}/nope`, '--kubeconfig', cluster.kubeconfig]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(r).toMatchObject({ code: 1, stderr: expect.stringContaining(`pod ${NS}/nope not found`) });
  });
});

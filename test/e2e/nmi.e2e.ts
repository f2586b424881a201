// NMI against the real apiserver, as deploy/ runs it: its informers, TokenReview, Secret reads and
// AzureAssignedIdentity writes go through the podid-nmi service account's RBAC. A labeled pod is mutated by
// the real webhook; the apiserver issues the pod-bound token the kubelet would project; the real sidecar
// presents it; NMI reviews it and serves the pod's identity from the emulated Azure AD / IMDS.

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeClient } from '../../common/kube-client.ts';
import { createLogger } from '../../common/log.ts';
import { parseBuiltinExceptions } from '../../identity/builtin-exceptions.ts';
import { startDaemon, type RunningDaemon } from '../../nmi/daemon.ts';
import { startWorld, type World } from '../../emulators/world.ts';
import { startSidecarProcess, type SidecarProcess } from '../sidecar-process.ts';
import { api, eventually, kube } from './kube.ts';
import { installDeploy, startLoopbackPodid, type LoopbackPodid } from './podid-on-loopback.ts';

const cluster = inject('cluster');
const NS = 'e2e-nmi';
const NODE = 'e2e-node-1';
const ROOT = resolve(import.meta.dirname, '../..');
let podid: LoopbackPodid;
let world: World;
let nmi: RunningDaemon;
let dir: string;
const sidecars: SidecarProcess[] = [];

const appPod = (name: string, selector: string, nodeName = NODE) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: NS, labels: { aadpodidbinding: selector } },
  spec: {
    nodeName,
    serviceAccountName: 'app',
    containers: [{ name: 'app', image: 'example/app:1', securityContext: { capabilities: { drop: ['NET_RAW'] } } }],
  },
});

/** Applies AzureIdentityBindings given as [name, identity, selector]. */
async function applyBindings(bindings: Array<[string, string, string]>): Promise<void> {
  const items = bindings.map(([name, azureIdentity, selector]) => ({
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzureIdentityBinding',
    metadata: { name, namespace: NS },
    spec: { azureIdentity, selector },
  }));
  await kube(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
}

async function createPod(name: string, selector: string, nodeName = NODE): Promise<any> {
  const r = await api(cluster, 'POST', `/api/v1/namespaces/${NS}/pods`, appPod(name, selector, nodeName));
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

/** What the kubelet projects into the pod: a token bound to the pod, for the given audience. */
async function podToken(pod: any, audience = 'podid'): Promise<string> {
  const r = await api(cluster, 'POST', `/api/v1/namespaces/${NS}/serviceaccounts/app/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: {
      audiences: [audience],
      expirationSeconds: 3600,
      boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
    },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.status.token;
}

async function nmiToken(token: string, query = 'resource=https://vault.azure.net'): Promise<{ status: number; body: any }> {
  const res = await fetch(`${nmi.url}/sidecar/token?${query}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

const crs = (w: World) => {
  const id = (name: string) => w.identities.find((i) => i.name === name)!;
  const msi = id('app-msi');
  const sp = id('sp-secret');
  const meta = (kind: string, name: string) => ({ apiVersion: 'aadpodidentity.k8s.io/v1', kind, metadata: { name, namespace: NS } });
  return [
    { ...meta('AzureIdentity', 'app-msi'), spec: { type: 0, clientID: msi.clientID, resourceID: msi.resourceID } },
    { ...meta('AzureIdentityBinding', 'app-msi-binding'), spec: { azureIdentity: 'app-msi', selector: 'app' } },
    // Old aad-pod-identity casing, and a service principal whose secret NMI reads through its RBAC.
    {
      ...meta('AzureIdentity', 'sp-secret'),
      spec: { Type: 1, ClientID: sp.clientID, TenantID: w.tenant.id, ClientPassword: { name: 'sp-secret', namespace: NS } },
    },
    { ...meta('AzureIdentityBinding', 'sp-binding'), spec: { AzureIdentity: 'sp-secret', Selector: 'sp' } },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'sp-secret', namespace: NS },
      stringData: { clientsecret: w.secrets.get('demo/sp-secret')!.clientsecret!.toString() },
    },
  ];
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podid-e2e-nmi-'));
  world = await startWorld(dir);
  podid = await startLoopbackPodid();
  await installDeploy(cluster, podid);
  await kube(cluster, ['create', 'namespace', NS]);
  await kube(cluster, ['create', 'serviceaccount', 'app', '-n', NS]);
  await kube(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: crs(world) }));

  // What MIC left behind (its labels and finalizer, the names podid uses): one a pod still needs, one whose pod is
  // gone, one of another node. NMI takes over on start.
  await createPod('mic-kept', 'app');
  const mic = (name: string, nodename: string) => ({
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzureAssignedIdentity',
    metadata: { name, namespace: NS, labels: { nodename }, finalizers: ['azureassignedidentity.finalizers.aadpodidentity.k8s.io'] },
    spec: { pod: name.split('-e2e')[0], podNamespace: NS, nodename },
  });
  await kube(
    cluster,
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [mic(`mic-kept-${NS}-app-msi`, NODE), mic(`mic-gone-${NS}-app-msi`, NODE), mic(`mic-other-${NS}-app-msi`, 'e2e-node-2')],
    }),
  );

  // NMI authenticates as deploy/'s podid-nmi service account: its ClusterRole is what is exercised.
  const nmiSaToken = (await kube(cluster, ['create', 'token', 'podid-nmi', '-n', 'podid-system', '--duration', '2h'])).trim();
  nmi = await startDaemon(
    {
      kube: kubeClient({ server: cluster.server, ca: Buffer.from(cluster.caPem), token: nmiSaToken }),
      nodeName: NODE,
      listen: { host: '127.0.0.1', port: 0 },
      tokenAudience: 'podid',
      imdsUrl: world.imds.url,
      authorityHost: world.aad.url,
      extraCaPem: world.tls.caPem,
      forceNamespaced: false,
      podWaitMs: 3000,
      refreshAheadSeconds: 300,
      maxTokens: 1000,
      assignments: true,
      builtinExceptions: parseBuiltinExceptions(`${NS}:podid.test/builtin=excepted`),
    },
    createLogger('nmi', process.env.PODID_E2E_LOG_LEVEL ?? 'silent'),
  );
});

afterAll(async () => {
  await Promise.all(sidecars.map((s) => s.stop()));
  await nmi?.close();
  await podid?.stop();
  await world?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('NMI with the real apiserver', () => {
  it('a mutated pod’s sidecar presents its projected token; NMI reviews it; @azure/identity gets the pod’s identity', async () => {
    const pod = await createPod('web-1', 'app');
    const sidecarSpec = pod.spec.initContainers.find((c: any) => c.restartPolicy === 'Always');
    expect(sidecarSpec, 'the webhook injected the sidecar').toBeDefined();
    const header = sidecarSpec.env.find((e: any) => e.name === 'PODID_IDENTITY_HEADER').value;
    const tokenFile = join(dir, 'web-1-token');
    await writeFile(tokenFile, await podToken(pod));
    const sidecar = await startSidecarProcess({ nmiUrl: nmi.url, tokenFile, identityHeader: header });
    sidecars.push(sidecar);

    // The app container's variables exactly as the webhook set them, with the port this sidecar got.
    const port = new URL(sidecar.tokenUrl).port;
    const env = Object.fromEntries(pod.spec.containers[0].env.map((e: any) => [e.name, String(e.value).replace(':2578', `:${port}`)]));
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
      execFile(
        process.execPath,
        ['test/compat/clients/node-identity.mjs', 'https://vault.azure.net/.default', 'mi'],
        { cwd: ROOT, env: { PATH: process.env.PATH!, HOME: dir, ...env } },
        (err, stdout, stderr) => done({ code: err ? 1 : 0, stdout, stderr }),
      ),
    );
    expect(out.code, out.stderr).toBe(0);
    expect(world.tenant.verify(out.stdout.trim())).toMatchObject({
      aud: 'https://vault.azure.net',
      oid: world.msi.objectId,
      appid: world.msi.clientId,
    });
  });

  it('writes an AzureAssignedIdentity (Assigned) for the pod and deletes it when the pod goes', async () => {
    const name = `web-1-${NS}-app-msi`;
    const aai = await eventually('AzureAssignedIdentity', async () => {
      const r = await api(cluster, 'GET', `/apis/aadpodidentity.k8s.io/v1/namespaces/${NS}/azureassignedidentities/${name}`);
      return r.status === 200 && r.body.status?.status === 'Assigned' ? r.body : undefined;
    });
    expect(aai.spec).toMatchObject({ pod: 'web-1', podNamespace: NS, nodeName: NODE, azureIdentityRef: { metadata: { name: 'app-msi' } } });
    await api(cluster, 'DELETE', `/api/v1/namespaces/${NS}/pods/web-1?gracePeriodSeconds=0`);
    await eventually('AzureAssignedIdentity deleted', async () =>
      (await api(cluster, 'GET', `/apis/aadpodidentity.k8s.io/v1/namespaces/${NS}/azureassignedidentities/${name}`)).status === 404 ? true : undefined,
    );
  });

  it('reads a service principal’s Secret (old CRD casing) through its own RBAC', async () => {
    const pod = await createPod('sp-1', 'sp');
    const r = await nmiToken(await podToken(pod));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(world.tenant.verify(r.body.access_token)).toMatchObject({
      appid: world.identities.find((i) => i.name === 'sp-secret')!.clientID,
    });
  });

  it('refuses a token for another audience (401) and a pod of another node (403)', async () => {
    const pod = await createPod('web-2', 'app');
    const wrongAudience = await nmiToken(await podToken(pod, 'https://kubernetes.default.svc'));
    expect(wrongAudience.status).toBe(401);
    const elsewhere = await createPod('elsewhere', 'app', 'e2e-node-2');
    const r = await nmiToken(await podToken(elsewhere));
    expect(r).toMatchObject({ status: 403, body: { error: 'pod_not_on_node' } });
  });

  it('follows CRD changes: a binding added later serves a waiting pod; a removed one stops', async () => {
    const pod = await createPod('late-1', 'late');
    const token = await podToken(pod);
    expect((await nmiToken(token)).status).toBe(400);
    await applyBindings([['late', 'app-msi', 'late']]);
    await eventually('the new binding to be served', async () => ((await nmiToken(token)).status === 200 ? true : undefined), 20_000);
    await kube(cluster, ['delete', 'azureidentitybinding', 'late', '-n', NS]);
    const gone = await eventually(
      'the binding removal to be seen',
      async () => {
        const r = await nmiToken(token, 'resource=https://other.example');
        return r.status === 400 ? r : undefined;
      },
      20_000,
    );
    expect(gone.body.error_description).toBe(`pod ${NS}/late-1 has aadpodidbinding=late but no AzureIdentityBinding has selector late`);
  });

  it('a pod holding two identities and naming none gets the first, and a Warning Event says so (podid-nmi RBAC)', async () => {
    await applyBindings([
      ['both-app-msi', 'app-msi', 'both'],
      ['both-sp-secret', 'sp-secret', 'both'],
    ]);
    const pod = await createPod('two-ids', 'both');
    const token = await podToken(pod);
    const r = await eventually('both bindings to be served', async () => {
      const x = await nmiToken(token);
      return x.status === 200 ? x : undefined;
    });
    expect(world.tenant.verify(r.body.access_token).oid).toBe(world.msi.objectId); // e2e-nmi/app-msi sorts first
    const events = await eventually('the AmbiguousIdentity event', async () => {
      const list = await api(cluster, 'GET', `/api/v1/namespaces/${NS}/events?fieldSelector=involvedObject.name=two-ids,reason=AmbiguousIdentity`);
      return list.body.items?.length ? list.body.items : undefined;
    });
    expect(events[0]).toMatchObject({ type: 'Warning', source: { component: 'podid-nmi', host: NODE } });
    expect(events[0].message).toContain('holds 2 identities');
  });

  it('applies built-in exceptions (as the AKS add-on exception is applied) without any AzurePodIdentityException object', async () => {
    const r = await api(cluster, 'POST', `/api/v1/namespaces/${NS}/pods`, {
      ...appPod('builtin-excepted', 'app'),
      metadata: { name: 'builtin-excepted', namespace: NS, labels: { aadpodidbinding: 'app', 'podid.test/builtin': 'excepted' } },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const res = await eventually('the pod to be seen', async () => {
      const x = await nmiToken(await podToken(r.body));
      return x.status === 403 ? x : undefined;
    });
    expect(res.body.error).toBe('pod_exception');
  });

  it("took over MIC's leftovers on start: adopted the needed one, deleted the stale one (finalizer and all), left another node's", async () => {
    const get = (name: string) => api(cluster, 'GET', `/apis/aadpodidentity.k8s.io/v1/namespaces/${NS}/azureassignedidentities/${name}`);
    const kept = await get(`mic-kept-${NS}-app-msi`);
    expect(kept.status).toBe(200);
    expect(kept.body.metadata.labels).toMatchObject({ 'podid.io/node': NODE, nodename: NODE });
    expect(kept.body.metadata.finalizers ?? []).toEqual([]);
    expect((await get(`mic-gone-${NS}-app-msi`)).status).toBe(404);
    const other = await get(`mic-other-${NS}-app-msi`);
    expect(other.status).toBe(200);
    expect(other.body.metadata.finalizers).toEqual(['azureassignedidentity.finalizers.aadpodidentity.k8s.io']);
    // Let the other node's object go, as its own NMI would.
    await kube(cluster, [
      'patch',
      'azureassignedidentity',
      `mic-other-${NS}-app-msi`,
      '-n',
      NS,
      '--type=json',
      '-p',
      '[{"op":"add","path":"/metadata/finalizers","value":[]}]',
    ]);
  });
});

// Standard mode as shipped (`kubectl apply -k deploy/overlays/standard`): the real `podid controller` assigns
// type 0 identities to three scale-set node pools through the ARM emulator, and the real `podid nmi` serves a pod
// only once its AzureAssignedIdentity is Assigned. Deployments with a shared and a private identity; identities
// appear on the right scale sets, never touch the one someone else assigned, survive a leader killed in the middle
// of an update, and go once the last pod has (after the grace period).

import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startArm, type RunningArm } from '../emulators/arm.ts';
import { startImds, type RunningImds } from '../emulators/imds.ts';
import type { ManagedIdentity } from '../emulators/tenant.ts';
import { startWorld, type World } from '../emulators/world.ts';
import { api, eventually, kube, kubeJson, kubectl } from './kube.ts';
import { proxyService, type ServiceProxy } from './service-proxy.ts';
import { ShippedCluster, SYSTEM } from './shipped-cluster.ts';
import type { RunningContainer } from './kubelet.ts';

const cluster = inject('cluster');
const NS = 'standard';
const SUB = randomUUID();
const RG = `/subscriptions/${SUB}/resourceGroups/MC_podid_e2e_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets`;
const POOLS = ['pool-a', 'pool-b', 'pool-c'] as const;
const nodeOf = (pool: string) => ({ name: `aks-${pool}-vmss000000`, ip: `10.240.${POOLS.indexOf(pool as any) + 10}.4`, vmss: `${RG}/aks-${pool}-vmss` });
const A = nodeOf('pool-a');
let dir: string;
let world: World;
let arm: RunningArm;
let imds: RunningImds;
let proxy: ServiceProxy;
let k: ShippedCluster;
let controller: RunningContainer;
let kubelet: ManagedIdentity;
let controllerIPs = 30;

const names = (pool: string) =>
  arm.compute
    .assigned(nodeOf(pool).vmss)
    .map((id) => id.split('/').pop())
    .sort();
const deployment = (name: string, selector: string, replicas: number) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: NS },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name, aadpodidbinding: selector } }, spec: { containers: [{ name: 'app', image: 'example/app:1' }] } },
  },
});

/** Schedules a Deployment's pending pods round-robin over `pools`. */
async function schedule(app: string, pools: readonly string[], count: number): Promise<any[]> {
  const pods = await eventually(`${count} ${app} pods`, async () => {
    const p = await k.pods(NS, `app=${app}`);
    return p.length === count ? p : undefined;
  });
  let i = 0;
  for (const p of pods.filter((x) => !x.spec.nodeName)) {
    const n = nodeOf(pools[i++ % pools.length]!);
    await k.schedule(p, n.name, `10.244.${POOLS.indexOf(pools[(i - 1) % pools.length] as any) + 10}.${10 + i}`, n.ip);
  }
  return k.pods(NS, `app=${app}`);
}

const assignments = async () => (await kubeJson(cluster, ['get', 'azureassignedidentities', '-n', NS])).items as any[];

async function startController(): Promise<RunningContainer> {
  const pod = await eventually('a controller pod not yet started', async () => (await k.newestPods(SYSTEM, 'podid-controller')).find((p) => !p.spec.nodeName));
  return k.start(pod, 'controller', { node: A.name, podIP: `10.244.0.${controllerIPs++}`, hostIP: A.ip });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podid-e2e-standard-'));
  world = await startWorld(dir);
  arm = await startArm({ tenant: world.tenant, tls: { cert: world.tls.cert, key: world.tls.key }, subscriptionId: SUB });
  kubelet = {
    clientId: randomUUID(),
    objectId: randomUUID(),
    resourceId: `/subscriptions/${SUB}/resourceGroups/infra/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kubelet`,
  };
  world.tenant.managedIdentities.push(kubelet);
  // Each pool carries the kubelet identity someone else assigned; podid must never remove it.
  for (const pool of POOLS) arm.compute.add(nodeOf(pool).vmss, 'vmss', { userAssigned: [kubelet.resourceId] });
  // The IMDS of pool-a's node serves exactly the identities ARM has put on its scale set.
  imds = await startImds({
    tenant: world.tenant,
    attached: () => world.tenant.managedIdentities.filter((m) => arm.compute.assigned(A.vmss).includes(m.resourceId.toLowerCase())),
  });
  // The controller's ARM credential: a service principal in the node's azure.json, as on aks-engine clusters.
  const app = { clientId: randomUUID(), objectId: randomUUID(), secret: `arm-${randomUUID()}` };
  world.tenant.apps.push(app);
  const azureJson = join(dir, 'host/etc/kubernetes/azure.json');
  await mkdir(dirname(azureJson), { recursive: true });
  await writeFile(
    azureJson,
    JSON.stringify({
      cloud: 'AzurePublicCloud',
      tenantId: world.tenant.id,
      subscriptionId: SUB,
      resourceGroup: 'MC_podid_e2e_westeurope',
      vmType: 'vmss',
      useManagedIdentityExtension: false,
      aadClientId: app.clientId,
      aadClientSecret: app.secret,
    }),
  );

  k = new ShippedCluster(cluster, dir, {
    PODID_IMDS_URL: imds.url,
    PODID_AUTHORITY_HOST: world.aad.url,
    PODID_ARM_URL: arm.url,
    PODID_EXTRA_CA_FILE: world.tls.caFile,
    PODID_LOG_LEVEL: process.env.PODID_E2E_LOG_LEVEL ?? 'warn',
  });
  await k.uninstall();
  await kube(cluster, ['create', 'namespace', NS]);
  for (const pool of POOLS) await k.node(nodeOf(pool).name, nodeOf(pool).ip, `azure://${nodeOf(pool).vmss}/virtualMachines/0`);
  const applied = await kubectl(cluster, ['apply', '-k', 'deploy/overlays/standard']);
  expect(applied.code, applied.stderr).toBe(0);
  // An operator's setting (documented): a short grace period so the test sees removals.
  await kube(cluster, ['set', 'env', 'deployment/podid-controller', '-n', SYSTEM, 'PODID_UNASSIGN_GRACE=3s']);

  const at = (podIP: string) => ({ node: A.name, podIP, hostIP: A.ip });
  const first = async (what: string, find: () => Promise<any[]>) => eventually(what, async () => (await find())[0]);
  await k.start(await first('the webhook’s pods', () => k.newestPods(SYSTEM, 'podid-webhook')), 'webhook', at('10.244.0.10'));
  proxy = await proxyService(cluster, SYSTEM, 'podid-webhook');
  await k.start(
    await first('pool-a’s NMI pod', async () =>
      (await k.pods(SYSTEM, 'app.kubernetes.io/name=podid-nmi')).filter((p) => JSON.stringify(p.spec.affinity).includes(A.name)),
    ),
    'nmi',
    at(A.ip),
  );
  await eventually('the controller Deployment’s PODID_UNASSIGN_GRACE revision', async () =>
    (await k.newestPods(SYSTEM, 'podid-controller')).some((p) => JSON.stringify(p.spec).includes('PODID_UNASSIGN_GRACE')) ? true : undefined,
  );
  controller = await startController();

  const id = (name: string, m: ManagedIdentity) => ({
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzureIdentity',
    metadata: { name, namespace: NS },
    spec: { type: 0, resourceID: m.resourceId, clientID: m.clientId },
  });
  const binding = (name: string, selector: string) => ({
    apiVersion: 'aadpodidentity.k8s.io/v1',
    kind: 'AzureIdentityBinding',
    metadata: { name: `${name}-binding`, namespace: NS },
    spec: { azureIdentity: name, selector },
  });
  await kube(
    cluster,
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [id('shared', world.msi), id('private', world.msi2), binding('shared', 'shared'), binding('private', 'private')],
    }),
  );
}, 300_000);

afterAll(async () => {
  await proxy?.close();
  await k?.cleanup();
  await arm?.close();
  await imds?.close();
  await world?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('standard mode through the real apiserver and the ARM emulator', () => {
  it('puts the shared identity on pool-a and pool-b and the private one on pool-c, one PATCH per scale set, leaving the kubelet identity alone', async () => {
    const patches = arm.compute.stats.patches;
    await kube(
      cluster,
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [deployment('web', 'shared', 4), deployment('batch', 'private', 1)] }),
    );
    await schedule('web', ['pool-a', 'pool-b'], 4);
    await schedule('batch', ['pool-c'], 1);
    await eventually('every AzureAssignedIdentity Assigned', async () => {
      const a = await assignments();
      return a.length === 5 && a.every((x) => x.status?.status === 'Assigned') ? true : undefined;
    });
    expect(names('pool-a')).toEqual(['app-msi', 'kubelet']);
    expect(names('pool-b')).toEqual(names('pool-a'));
    expect(names('pool-c')).toEqual(['kubelet', 'other-msi']);
    // Pods scheduled one by one may be planned in more than one reconcile, never one PATCH per pod.
    expect(arm.compute.stats.patches - patches).toBeGreaterThanOrEqual(3);
    expect(arm.compute.stats.patches - patches).toBeLessThanOrEqual(5);
    const cm = (await kubeJson(cluster, ['get', 'configmaps', '-n', SYSTEM, '-l', 'podid.io/arm-ownership'])).items as any[];
    expect(cm.map((c) => JSON.parse(c.data.owned)).flat()).not.toContain(kubelet.resourceId.toLowerCase());
  });

  it('NMI serves a type 0 token only once its identity is Assigned: 503 identity_not_assigned naming the stage until then', async () => {
    // ARM throttles the next updates: the new pod's identity stays Created for a while.
    arm.compute.throttle(4, 2, 'PATCH');
    await kube(cluster, ['apply', '-f', '-'], JSON.stringify(deployment('late', 'private', 1)));
    const [pod] = await schedule('late', ['pool-a'], 1);
    const name = `${pod.metadata.name}-${NS}-private`;
    await eventually('the Created record', async () =>
      (await assignments()).find((a) => a.metadata.name === name)?.status?.status === 'Created' ? true : undefined,
    );
    const token = await api(cluster, 'POST', `/api/v1/namespaces/${NS}/serviceaccounts/default/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        audiences: ['podid'],
        expirationSeconds: 3600,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
      },
    });
    const ask = () =>
      fetch(`http://${A.ip}:2579/sidecar/token?resource=https://vault.azure.net`, { headers: { authorization: `Bearer ${token.body.status.token}` } });
    const early = await ask();
    const earlyBody = (await early.json()) as { error: string; error_description: string };
    if (early.status !== 200) {
      expect(early.status).toBe(503);
      expect(early.headers.get('retry-after')).toBe('5');
      expect(earlyBody).toMatchObject({ error: 'identity_not_assigned' });
      expect(earlyBody.error_description).toMatch(new RegExp(`AzureAssignedIdentity ${NS}/${name} is Created`));
    }
    await eventually('Assigned', async () => ((await assignments()).find((a) => a.metadata.name === name)?.status?.status === 'Assigned' ? true : undefined));
    const later = await ask();
    const body = (await later.json()) as { access_token: string };
    expect(later.status, JSON.stringify(body)).toBe(200);
    expect(world.tenant.verify(body.access_token)).toMatchObject({ appid: world.msi2.clientId });
    expect(early.status, 'the first answer came while ARM was throttled').toBe(503);
  });

  it('a leader killed in the middle of an ARM update loses nothing: the standby takes the Lease and finishes', async () => {
    arm.compute.operationMs = 2000;
    const patches = arm.compute.stats.patches;
    await kube(cluster, ['scale', 'deployment/batch', '-n', NS, '--replicas=2']);
    await schedule('batch', ['pool-b'], 2);
    await eventually('the PATCH for pool-b', async () => (arm.compute.stats.patches > patches ? true : undefined));
    controller.process.kill('SIGKILL');
    arm.compute.operationMs = 20;
    controller = await startController();
    await eventually(
      'pool-b to carry the private identity, Assigned',
      async () => {
        const a = await assignments();
        return names('pool-b').includes(world.msi2.resourceId.split('/').pop()!) && a.length === 7 && a.every((x) => x.status?.status === 'Assigned')
          ? true
          : undefined;
      },
      90_000,
    );
    const lease = (await kubeJson(cluster, ['get', 'lease', 'podid-controller', '-n', SYSTEM])).spec;
    expect(lease.leaseTransitions).toBeGreaterThanOrEqual(1);
  });

  it('scale to zero: the identity goes after the grace period, from every pool, and only what podid added', async () => {
    await kube(cluster, ['scale', 'deployment/web', '-n', NS, '--replicas=0']);
    // No kubelet here: the node's deletion of the pods is confirmed for it.
    const gone = await k.pods(NS, 'app=web');
    await k.forceDelete(
      NS,
      gone.map((p) => p.metadata.name),
    );
    await k.forceDelete(
      NS,
      (await kubeJson(cluster, ['get', 'pods', '-n', NS, '-l', 'app=web'])).items.map((p: any) => p.metadata.name),
    );
    const shared = world.msi.resourceId.split('/').pop()!;
    await eventually(
      'the shared identity to leave pool-a and pool-b',
      async () => (!names('pool-a').includes(shared) && !names('pool-b').includes(shared) ? true : undefined),
      60_000,
    );
    expect(names('pool-a')).toEqual(['kubelet', world.msi2.resourceId.split('/').pop()!].sort());
    for (const pool of POOLS) expect(names(pool)).toContain('kubelet');
    expect((await assignments()).filter((a) => a.spec.pod.startsWith('web-'))).toEqual([]);
  });
});

// Standard mode as shipped (`kubectl apply -k deploy/overlays/standard`): the real `podid controller` assigns
// type 0 identities to three scale-set node pools through the ARM emulator, and the real `podid nmi` serves a pod
// only once its AzureAssignedIdentity is Assigned. pool-a is the real node (test/node/node.ts), where podid's pods
// run as containers; pool-b and pool-c are nodes registered as the cloud provider registers them, whose kubelets are
// elsewhere: pods placed there (through the Binding API, as the scheduler binds) are objects the controller plans
// from, never run. Deployments with a shared and a private identity; identities appear on the right scale sets,
// never touch the one someone else assigned, survive a leader killed in the middle of an update (its container
// killed through containerd; the standby takes the Lease), and go once the last pod has (after the grace period).

import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startArm, type RunningArm } from '../../emulators/arm.ts';
import { startImds, type RunningImds } from '../../emulators/imds.ts';
import type { ManagedIdentity } from '../../emulators/tenant.ts';
import { startWorld, type World } from '../../emulators/world.ts';
import { addNodeAddress, IMDS_IP } from '../node/network.ts';
import { api, eventually, kube, kubeJson, kubectl } from './kube.ts';
import { CONTROLLER, emulatorEnv, installOnNode, NMI, ShippedCluster, SYSTEM } from './shipped-cluster.ts';

const cluster = inject('cluster');
const node = inject('node');
const NS = 'standard';
/** Pods of the test's Deployments are placed by the test (round-robin over pools), not by the scheduler. */
const PLACED_BY_TEST = 'podid-e2e-placement';
const SUB = randomUUID();
const RG = `/subscriptions/${SUB}/resourceGroups/MC_podid_e2e_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets`;
const POOLS = ['pool-a', 'pool-b', 'pool-c'] as const;
const nodeOf = (pool: string) => ({
  name: pool === 'pool-a' ? node.name : `aks-${pool}-vmss000000`,
  vmss: `${RG}/aks-${pool}-vmss`,
});
const A = nodeOf('pool-a');
let dir: string;
let world: World;
let arm: RunningArm;
let imds: RunningImds;
let k: ShippedCluster;
let kubelet: ManagedIdentity;

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
    template: {
      metadata: { labels: { app: name, aadpodidbinding: selector } },
      spec: { schedulerName: PLACED_BY_TEST, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'example/app:1' }] },
    },
  },
});

/** Schedules a Deployment's pending pods round-robin over `pools`. */
async function schedule(app: string, pools: readonly string[], count: number): Promise<any[]> {
  const pods = await eventually(`${count} ${app} pods`, async () => {
    const p = await k.pods(NS, `app=${app}`);
    return p.length === count ? p : undefined;
  });
  let i = 0;
  for (const p of pods.filter((x) => !x.spec.nodeName)) await bind(p, nodeOf(pools[i++ % pools.length]!).name);
  return k.pods(NS, `app=${app}`);
}

const assignments = async () => (await kubeJson(cluster, ['get', 'azureassignedidentities', '-n', NS])).items as any[];

/** Binds a pending pod to a node, as the scheduler does. */
async function bind(pod: any, nodeName: string): Promise<void> {
  const r = await api(cluster, 'POST', `/api/v1/namespaces/${NS}/pods/${pod.metadata.name}/binding`, {
    apiVersion: 'v1',
    kind: 'Binding',
    metadata: { name: pod.metadata.name, namespace: NS },
    target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
  });
  if (r.status !== 201) throw new Error(`binding ${pod.metadata.name} to ${nodeName}: ${r.status} ${JSON.stringify(r.body)}`);
}

/** A node whose kubelet is elsewhere: registered with its provider ID and a taint that keeps podid's pods off it. */
async function remoteNode(name: string, providerID: string): Promise<void> {
  const r = await api(cluster, 'POST', '/api/v1/nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': name } },
    spec: { providerID, taints: [{ key: 'podid-e2e/kubelet-elsewhere', effect: 'NoSchedule' }] },
  });
  if (r.status !== 201) throw new Error(`node ${name}: ${r.status} ${JSON.stringify(r.body)}`);
}

/** Pods of kubelet-less nodes: their deletion is confirmed for them (`--force`), as a node controller would. */
async function forceDelete(names: string[]): Promise<void> {
  if (names.length) await kubectl(cluster, ['delete', 'pod', ...names, '-n', NS, '--force', '--grace-period=0', '--ignore-not-found']);
}

/** The controller replica holding the Lease (its holderIdentity is the pod's name, "_" and a per-process id). */
async function leader(): Promise<any> {
  return eventually('a controller leader', async () => {
    const holder = (await kubeJson(cluster, ['get', 'lease', 'podid-controller', '-n', SYSTEM])).spec?.holderIdentity as string | undefined;
    return holder ? (await k.pods(SYSTEM, 'app.kubernetes.io/name=podid-controller')).find((p) => holder.startsWith(`${p.metadata.name}_`)) : undefined;
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podid-e2e-standard-'));
  // Where the controller's pod reaches them: the node's address (pods route to it through the bridge's gateway).
  world = await startWorld(dir, { host: node.ip });
  arm = await startArm({ tenant: world.tenant, tls: { cert: world.tls.cert, key: world.tls.key }, subscriptionId: SUB, host: node.ip });
  kubelet = {
    clientId: randomUUID(),
    objectId: randomUUID(),
    resourceId: `/subscriptions/${SUB}/resourceGroups/infra/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kubelet`,
  };
  world.tenant.managedIdentities.push(kubelet);
  // Each pool carries the kubelet identity someone else assigned; podid must never remove it.
  for (const pool of POOLS) arm.compute.add(nodeOf(pool).vmss, 'vmss', { userAssigned: [kubelet.resourceId] });
  // The IMDS of pool-a's node (the real node, at the metadata address inside the suite's namespace) serves exactly
  // the identities ARM has put on its scale set.
  await addNodeAddress(IMDS_IP);
  imds = await startImds({
    tenant: world.tenant,
    host: IMDS_IP,
    port: 80,
    attached: () => world.tenant.managedIdentities.filter((m) => arm.compute.assigned(A.vmss).includes(m.resourceId.toLowerCase())),
  });
  // The controller's ARM credential: a service principal in the node's azure.json, as on aks-engine clusters
  // (/etc/kubernetes is the suite's own tmpfs: test/cluster/in-netns.sh).
  const app = { clientId: randomUUID(), objectId: randomUUID(), secret: `arm-${randomUUID()}` };
  world.tenant.apps.push(app);
  await writeFile(
    '/etc/kubernetes/azure.json',
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

  k = new ShippedCluster(cluster, node);
  await k.uninstall();
  await kube(cluster, ['create', 'namespace', NS]);
  // pool-a is the real node: its provider ID names its scale set (set once, as the cloud provider does).
  const real = await api(cluster, 'GET', `/api/v1/nodes/${A.name}`);
  if (real.body.spec.providerID !== `azure://${A.vmss}/virtualMachines/0`) {
    const r = await api(
      cluster,
      'PATCH',
      `/api/v1/nodes/${A.name}`,
      { spec: { providerID: `azure://${A.vmss}/virtualMachines/0` } },
      'application/merge-patch+json',
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }
  for (const pool of ['pool-b', 'pool-c']) await remoteNode(nodeOf(pool).name, `azure://${nodeOf(pool).vmss}/virtualMachines/0`);
  // An operator's setting (documented): a short grace period so the test sees removals.
  await installOnNode(k, dir, 'deploy/overlays/standard', emulatorEnv(world, { PODID_ARM_URL: arm.url, PODID_UNASSIGN_GRACE: '3s' }), [NMI, CONTROLLER]);

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
  await kubectl(cluster, ['delete', 'namespace', NS, '--wait=false']);
  await kubectl(cluster, ['delete', 'node', 'aks-pool-b-vmss000000', 'aks-pool-c-vmss000000', '--ignore-not-found']);
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
    // ARM throttles every update until the test has NMI's first answer: the new pod's identity stays Created however
    // long the steps before take, so that answer is NMI's 503 after its --assignment-wait (5 s), never a token.
    arm.compute.throttle(1, 1_000, 'PATCH');
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
      fetch(`http://${node.ip}:2579/sidecar/token?resource=https://vault.azure.net`, { headers: { authorization: `Bearer ${token.body.status.token}` } });
    const early = await ask();
    const earlyBody = (await early.json()) as { error: string; error_description: string };
    arm.compute.clearFaults();
    expect(early.status, JSON.stringify(earlyBody)).toBe(503);
    expect(early.headers.get('retry-after')).toBe('5');
    expect(earlyBody).toMatchObject({ error: 'identity_not_assigned' });
    expect(earlyBody.error_description).toMatch(new RegExp(`AzureAssignedIdentity ${NS}/${name} is Created`));
    await eventually('Assigned', async () => ((await assignments()).find((a) => a.metadata.name === name)?.status?.status === 'Assigned' ? true : undefined));
    const later = await ask();
    const body = (await later.json()) as { access_token: string };
    expect(later.status, JSON.stringify(body)).toBe(200);
    expect(world.tenant.verify(body.access_token)).toMatchObject({ appid: world.msi2.clientId });
  });

  it('a leader killed in the middle of an ARM update loses nothing: the standby takes the Lease and finishes', async () => {
    arm.compute.operationMs = 2000;
    const patches = arm.compute.stats.patches;
    await kube(cluster, ['scale', 'deployment/batch', '-n', NS, '--replicas=2']);
    await schedule('batch', ['pool-b'], 2);
    await eventually('the PATCH for pool-b', async () => (arm.compute.stats.patches > patches ? true : undefined));
    // The leader's container killed by the runtime, mid-update; the kubelet restarts it, the standby takes over.
    const killed = await leader();
    const id = killed.status.containerStatuses[0].containerID.replace(/^containerd:\/\//, '');
    execFileSync('ctr', ['-a', node.containerdSocket, '-n', 'k8s.io', 'tasks', 'kill', '-s', 'SIGKILL', id]);
    arm.compute.operationMs = 20;
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
    // The real node's kubelet confirms its pods' deletion; pool-b's are confirmed for it.
    const remote = async () => ((await kubeJson(cluster, ['get', 'pods', '-n', NS, '-l', 'app=web'])).items as any[]).filter((p) => p.spec.nodeName !== A.name);
    await forceDelete((await remote()).map((p) => p.metadata.name));
    await eventually(
      'web’s pods to be gone',
      async () => ((await kubeJson(cluster, ['get', 'pods', '-n', NS, '-l', 'app=web'])).items.length ? undefined : true),
      60_000,
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

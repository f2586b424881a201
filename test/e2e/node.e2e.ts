// What only a real node shows (test/node/node.ts: kubelet + containerd + runc + a kubenet-style CNI bridge +
// kube-proxy), with podid installed from deploy/ as shipped and the app image's unmodified @azure/identity:
//   - the native token sidecar is created before the app and the app's first token request succeeds;
//   - a Job with the injected sidecar completes;
//   - the runtime, not podid, decides capabilities: CapEff in the container lacks NET_RAW under --netraw=fix;
//   - NMI's interception of 169.254.169.254 from a pod's own network namespace;
//   - the kubenet spoofing drill (CVE-2021-1677) with real pods on the bridge;
//   - faults as shipped: a webhook pod evicted under a stream of pod creations fails none; NMI away from the node,
//     sidecars serve the tokens they hold and recover without a restart;
//   - pod deletion: a new pod reusing the address gets nothing of the old pod's, the old pod's token is refused;
//   - the sidecar keeps serving after the kubelet rotates its projected token (10 minutes: the last test).

import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startImds, type RunningImds } from '../../emulators/imds.ts';
import { startWorld, type World } from '../../emulators/world.ts';
import { IMAGE } from '../node/images.ts';
import { addNodeAddress, IMDS_IP, POD_GATEWAY } from '../node/network.ts';
import { api, eventually, kube, kubeJson, kubectl } from './kube.ts';
import { askSidecar } from './sidecar-call.ts';
import { bindManagedIdentities, emulatorEnv, installOnNode, NMI, ShippedCluster, SYSTEM } from './shipped-cluster.ts';

const cluster = inject('cluster');
const node = inject('node');
const NS = 'node-e2e';
/** Exempt from the NET_RAW rule (deploy/'s namespaceSelectors): where the drill's attacker keeps NET_RAW. */
const EXEMPT = 'kube-system';
const NET_RAW_BIT = 1n << 13n; // CAP_NET_RAW is capability 13 (linux/capability.h).
const RESOURCE = 'https://vault.azure.net';
let dir: string;
let world: World;
let imds: RunningImds;
let k: ShippedCluster;
let rotationStarted = 0;

/** A pod of the e2e tools image (Node 24 + @azure/identity + Python), `args` for its node entrypoint. */
function toolsPod(
  name: string,
  o: {
    ns?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    args: string[];
    env?: Record<string, string>;
    securityContext?: object;
    restartPolicy?: string;
  },
) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: o.ns ?? NS, labels: o.labels ?? {}, annotations: o.annotations ?? {} },
    spec: {
      terminationGracePeriodSeconds: 1,
      restartPolicy: o.restartPolicy ?? 'Always',
      containers: [
        {
          name: 'app',
          image: IMAGE.tools,
          imagePullPolicy: 'Never',
          args: o.args,
          env: Object.entries(o.env ?? {}).map(([name, value]) => ({ name, value })),
          ...(o.securityContext ? { securityContext: o.securityContext } : {}),
        },
      ],
    },
  };
}

const SLEEP = ['-e', 'setInterval(() => {}, 1 << 30); process.on("SIGTERM", () => process.exit(0))'];
const CAPS = ['-e', 'console.log(/CapEff:\\s*(\\w+)/.exec(require("fs").readFileSync("/proc/self/status", "utf8"))[1]); setInterval(() => {}, 1 << 30)'];

async function apply(obj: object): Promise<void> {
  const r = await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(obj));
  if (r.code !== 0) throw new Error(`kubectl apply: ${r.stderr}`);
}

/** The app's JSON lines (test/node/app/get-token.mjs), once it has printed `count`. */
async function appLines(pod: string, count = 1, ns = NS): Promise<any[]> {
  return eventually(
    `${count} line(s) from ${ns}/${pod}`,
    async () => {
      const r = await kubectl(cluster, ['logs', '-n', ns, pod, '-c', 'app']);
      const lines =
        r.code === 0
          ? r.stdout
              .split('\n')
              .filter((l) => l.startsWith('{'))
              .map((l) => JSON.parse(l))
          : [];
      return lines.length >= count ? lines : undefined;
    },
    120_000,
  );
}

const podOf = (name: string, ns = NS) => kubeJson(cluster, ['get', 'pod', name, '-n', ns]);
const runningPod = (name: string, ns = NS) =>
  eventually(
    `${ns}/${name} running with an IP`,
    async () => {
      const p = await podOf(name, ns);
      return p.status?.podIP && p.status.containerStatuses?.every((c: any) => c.state?.running) ? p : undefined;
    },
    120_000,
  );
const capEff = async (pod: string, ns = NS) => BigInt(`0x${(await kube(cluster, ['logs', '-n', ns, pod, '-c', 'app'])).trim().split('\n')[0]}`);
const idOf = (pod: any, container: string) =>
  [...(pod.status.initContainerStatuses ?? []), ...pod.status.containerStatuses]
    .find((c: any) => c.name === container)
    .containerID.replace(/^containerd:\/\//, '');
/** containerd's own record of a container (ctr containers info), read from the node's runtime. */
const containerdInfo = (id: string) =>
  JSON.parse(execFileSync('ctr', ['-a', node.containerdSocket, '-n', 'k8s.io', 'containers', 'info', id], { encoding: 'utf8', maxBuffer: 16 << 20 }));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podid-e2e-node-'));
  world = await startWorld(dir);
  await addNodeAddress(IMDS_IP);
  imds = await startImds({ tenant: world.tenant, host: IMDS_IP, port: 80 });
  k = new ShippedCluster(cluster, node);
  await k.uninstall();
  await kube(cluster, ['create', 'namespace', NS]);
  // An operator's documented setting: the shortest token Kubernetes allows (10 minutes), so that the kubelet rotates it
  // (at 80%) within the suite.
  await installOnNode(k, dir, 'deploy', emulatorEnv(world, { PODID_TOKEN_EXPIRATION: '10m' }), [NMI, ['Deployment', 'podid-webhook', 'webhook']]);
  await bindManagedIdentities(cluster, NS, [
    ['victim', world.msi],
    ['other', world.msi2],
  ]);
  // The rotation test's pod starts first: its token is rotated ~8 minutes after it was issued.
  await apply(toolsPod('rotation', { labels: { aadpodidbinding: 'victim' }, args: SLEEP }));
  rotationStarted = Date.now();
}, 600_000);

afterAll(async () => {
  await kubectl(cluster, ['delete', 'namespace', NS, '--wait=false']);
  await kubectl(cluster, ['delete', 'pod', '-n', EXEMPT, '-l', 'podid-e2e=node', '--grace-period=0', '--force']);
  await k?.cleanup();
  await imds?.close();
  await world?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the injected native sidecar on a real kubelet', () => {
  it('an app Deployment gets its token with unmodified @azure/identity; containerd created the sidecar before the app', async () => {
    await apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'app', namespace: NS },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'app' } },
        template: {
          metadata: { labels: { app: 'app', aadpodidbinding: 'victim' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [{ name: 'app', image: IMAGE.tools, imagePullPolicy: 'Never', args: ['/app/get-token.mjs', 'default', `${RESOURCE}/.default`] }],
          },
        },
      },
    });
    const [pod] = await k.readyPods(NS, 'app=app');
    const [first] = await appLines(pod.metadata.name);
    // DefaultAzureCredential picked the endpoint from the environment the webhook injected; its first try worked.
    expect(first, JSON.stringify(first)).toMatchObject({ attempt: 1, ok: true, claims: { oid: world.msi.objectId, aud: RESOURCE } });
    const sidecar = containerdInfo(idOf(pod, 'podid-token'));
    const app = containerdInfo(idOf(pod, 'app'));
    expect(sidecar.Image).toBe(IMAGE.sidecar);
    expect(Date.parse(sidecar.CreatedAt)).toBeLessThan(Date.parse(app.CreatedAt));
    // The kubelet started the app only once the sidecar had started (a native sidecar's contract).
    const sidecarStarted = Date.parse(pod.status.initContainerStatuses[0].state.running.startedAt);
    expect(Date.parse(app.CreatedAt)).toBeGreaterThanOrEqual(sidecarStarted);
  });

  it('a Job whose pod has the injected sidecar completes', async () => {
    await apply({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'once', namespace: NS },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { labels: { aadpodidbinding: 'victim' } },
          spec: {
            restartPolicy: 'Never',
            containers: [
              { name: 'app', image: IMAGE.tools, imagePullPolicy: 'Never', args: ['/app/get-token.mjs', 'default', `${RESOURCE}/.default`, 'exit'] },
            ],
          },
        },
      },
    });
    const job = await eventually(
      'the Job to finish',
      async () => {
        const j = await kubeJson(cluster, ['get', 'job', 'once', '-n', NS]);
        return j.status?.succeeded || j.status?.failed ? j : undefined;
      },
      120_000,
    );
    expect(job.status).toMatchObject({ succeeded: 1 });
    const [pod] = (await kubeJson(cluster, ['get', 'pods', '-n', NS, '-l', 'job-name=once'])).items;
    expect(pod.spec.initContainers.map((c: any) => [c.name, c.restartPolicy])).toEqual([['podid-token', 'Always']]);
    expect(pod.status.phase).toBe('Succeeded');
  });
});

describe('NET_RAW as the container runtime applies it (CapEff in /proc/self/status)', () => {
  it('is absent under --netraw=fix from a bare pod, a pod adding another capability and a Deployment’s pods; present in an exempt namespace', async () => {
    await apply(toolsPod('caps-bare', { args: CAPS }));
    await apply(toolsPod('caps-add', { args: CAPS, securityContext: { capabilities: { add: ['NET_BIND_SERVICE'] } } }));
    await apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'caps', namespace: NS },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'caps' } },
        template: { metadata: { labels: { app: 'caps' } }, spec: toolsPod('x', { args: CAPS }).spec },
      },
    });
    // containerd's default set, which an exempt namespace keeps: the contrast that shows the bit is read right.
    await apply(toolsPod('caps-exempt', { ns: EXEMPT, labels: { 'podid-e2e': 'node' }, args: CAPS }));
    const deployed = (await k.readyPods(NS, 'app=caps', 2)).map((p) => p.metadata.name);
    for (const name of ['caps-bare', 'caps-add', ...deployed]) await runningPod(name);
    await runningPod('caps-exempt', EXEMPT);
    const caps = Object.fromEntries(await Promise.all(['caps-bare', 'caps-add', ...deployed].map(async (n) => [n, await capEff(n)] as const)));
    for (const [name, eff] of Object.entries(caps) as Array<[string, bigint]>) expect(eff & NET_RAW_BIT, `${name} CapEff ${eff.toString(16)}`).toBe(0n);
    expect(caps['caps-add']! & (1n << 10n)).not.toBe(0n); // NET_BIND_SERVICE, which the pod asked for, is kept
    expect((await capEff('caps-exempt', EXEMPT)) & NET_RAW_BIT).toBe(NET_RAW_BIT);
  });
});

describe('NMI’s metadata interception from pods’ own network namespaces', () => {
  it('a labeled pod without the sidecar (opted out) gets its token by asking 169.254.169.254; an injected pod is told to use its sidecar', async () => {
    await apply(
      toolsPod('imds-only', {
        labels: { aadpodidbinding: 'victim' },
        annotations: { 'podid.io/inject': 'false' },
        args: ['/app/get-token.mjs', 'managed', `${RESOURCE}/.default`],
      }),
    );
    const [line] = await appLines('imds-only');
    expect(line, JSON.stringify(line)).toMatchObject({ ok: true, claims: { oid: world.msi.objectId } });
    expect(imds.requests.length, 'NMI asked the node’s metadata service (the emulator at 169.254.169.254)').toBeGreaterThan(0);
    const [app] = await k.readyPods(NS, 'app=app');
    const direct = await k.exec(NS, app.metadata.name, 'app', [
      '/nodejs/bin/node',
      '-e',
      `fetch('http://${IMDS_IP}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${RESOURCE}', { headers: { Metadata: 'true' } }).then(async (r) => console.log(r.status, (await r.json()).error))`,
    ]);
    expect(direct.stdout.trim()).toBe('403 sidecar_required');
  });
});

interface DrillResult {
  raw_socket: boolean;
  attempts: number;
  error?: string;
  responses: Array<{ status: number; error?: string; claims?: { oid?: string; appid?: string } }>;
}

describe('the kubenet spoofing drill with real pods on the bridge (CVE-2021-1677)', () => {
  let gatewayMac: string;
  const victims: Record<string, string> = {};
  beforeAll(async () => {
    // V is injected (the sidecar; no NET_RAW); W holds the same identity but opted out of injection, so interception
    // serves it by address: forging W shows the attack works on this bridge, forging V that podid closes it.
    await apply(toolsPod('drill-v', { labels: { aadpodidbinding: 'victim' }, args: SLEEP }));
    await apply(toolsPod('drill-w', { labels: { aadpodidbinding: 'victim' }, annotations: { 'podid.io/inject': 'false' }, args: SLEEP }));
    await apply(toolsPod('attacker', { ns: EXEMPT, labels: { 'podid-e2e': 'node' }, args: SLEEP, env: { PODID_IN_TEST_NETNS: '1' } }));
    victims.V = (await runningPod('drill-v')).status.podIP;
    victims.W = (await runningPod('drill-w')).status.podIP;
    await runningPod('attacker', EXEMPT);
    gatewayMac = (JSON.parse(execFileSync('ip', ['-j', 'link', 'show', 'cni0'], { encoding: 'utf8' })) as Array<{ address: string }>)[0]!.address;
  }, 180_000);

  async function drill(victimIP: string, target: { ip: string; port: number; path: string; headers: Record<string, string> }): Promise<DrillResult> {
    const args = {
      interface: 'eth0',
      victim_ip: victimIP,
      gateway_ip: POD_GATEWAY,
      gateway_mac: gatewayMac,
      dst_ip: target.ip,
      dst_port: target.port,
      path: target.path,
      headers: target.headers,
      attempts: 5,
      budget_seconds: 20,
    };
    const r = await k.exec(EXEMPT, 'attacker', 'app', ['/usr/bin/python3.11', '/app/spoof.py', JSON.stringify(args)]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as DrillResult;
  }
  const imdsPath = `/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(RESOURCE)}`;
  const stolen = (r: DrillResult) => r.responses.filter((x) => x.status === 200 && x.claims?.oid === world.msi.objectId).length;

  it('the attack works on this bridge: forging W’s address through interception gets W’s token', async () => {
    const r = await drill(victims.W!, { ip: IMDS_IP, port: 80, path: imdsPath, headers: { Metadata: 'true' } });
    expect(r.raw_socket).toBe(true);
    expect(stolen(r), JSON.stringify(r.responses)).toBeGreaterThan(0);
  });

  it('forging the injected V’s address gets no token through interception: NMI answers the forged packets with sidecar_required', async () => {
    const r = await drill(victims.V!, { ip: IMDS_IP, port: 80, path: imdsPath, headers: { Metadata: 'true' } });
    // An attempt whose reply the attacker did not capture in time shows as status 0: it got nothing either.
    const captured = r.responses.filter((x) => x.status !== 0);
    expect(captured.length, `the forged requests reached NMI and its replies were captured: ${JSON.stringify(r.responses)}`).toBeGreaterThan(0);
    expect(
      captured.every((x) => x.status === 403 && x.error === 'sidecar_required'),
      JSON.stringify(r.responses),
    ).toBe(true);
    expect(stolen(r)).toBe(0);
  });

  it('forging V’s address on the sidecar path gets no token either: NMI answers by the presented token, not the address', async () => {
    const r = await drill(victims.V!, { ip: node.ip, port: 2579, path: `/sidecar/token?resource=${encodeURIComponent(RESOURCE)}`, headers: {} });
    const captured = r.responses.filter((x) => x.status !== 0);
    expect(captured.length, JSON.stringify(r.responses)).toBeGreaterThan(0);
    expect(
      captured.every((x) => x.status === 401),
      JSON.stringify(r.responses),
    ).toBe(true);
    expect(stolen(r)).toBe(0);
  });
});

/** Pod creations through the apiserver (dry run: admitted, not stored), `every` ms apart until `stop()`: each is
 * admitted by the mutating webhook through its Service, so a webhook pod that drops requests shows as a failure. */
function creationStream(every: number) {
  const failures: string[] = [];
  let sent = 0;
  let running = true;
  const pod = toolsPod('stream', { labels: { aadpodidbinding: 'victim' }, args: SLEEP });
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      sent++;
      const r = await api(cluster, 'POST', `/api/v1/namespaces/${NS}/pods?dryRun=All`, {
        ...pod,
        metadata: { ...pod.metadata, name: undefined, generateName: 'stream-' },
      }).catch((err: Error) => ({ status: 0, body: { message: err.message } }));
      const injected = r.status === 201 && r.body.spec.initContainers?.some((c: any) => c.name === 'podid-token');
      if (!injected) failures.push(`${r.status} ${r.body?.message ?? ''}`.slice(0, 300));
      await new Promise((res) => setTimeout(res, Math.max(0, every - (Date.now() - started))));
    }
  })();
  return {
    failures,
    sent: () => sent,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

const nmiAnswers = () =>
  fetch(`http://${node.ip}:2579/healthz`).then(
    (r) => r.status === 200,
    () => false,
  );

describe('faults as shipped: the webhook drained, NMI away', () => {
  it('a webhook pod evicted under a stream of pod creations: none fails (2 replicas, the PDB, the drain on SIGTERM)', async () => {
    const before = await k.readyPods(SYSTEM, 'app.kubernetes.io/name=podid-webhook', 2);
    const stream = creationStream(50);
    await new Promise((r) => setTimeout(r, 2_000));
    // An eviction, as `kubectl drain` makes it: the PDB (minAvailable 1) allows it while the other replica is Ready.
    const victim = before[0].metadata.name;
    const evicted = await api(cluster, 'POST', `/api/v1/namespaces/${SYSTEM}/pods/${victim}/eviction`, {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: victim, namespace: SYSTEM },
    });
    expect(evicted.status, JSON.stringify(evicted.body)).toBe(201);
    // Through the drain (--shutdown-drain 5s) and until the Deployment has two Ready replicas again.
    await eventually(
      'the evicted webhook pod to be gone and a new one Ready',
      async () => {
        const pods = await k.readyPods(SYSTEM, 'app.kubernetes.io/name=podid-webhook', 2, 120_000);
        return pods.every((p) => p.metadata.name !== victim) ? pods : undefined;
      },
      120_000,
    );
    await new Promise((r) => setTimeout(r, 2_000));
    await stream.stop();
    console.log(`webhook eviction: ${stream.sent()} pod creations during it, ${stream.failures.length} failed`);
    expect(stream.sent()).toBeGreaterThan(100);
    expect(stream.failures).toEqual([]);
  }, 240_000);

  it('NMI away from the node: sidecars serve the tokens they hold, and get new ones once NMI is back', async () => {
    await apply(toolsPod('nmi-away', { labels: { aadpodidbinding: 'victim' }, args: SLEEP }));
    const pod = await k.containerReady(NS, 'nmi-away', 'podid-token');
    expect((await askSidecar(k, pod, RESOURCE)).status).toBe(200);
    // The DaemonSet moved off the node (as an upgrade or a crash loop leaves it): no NMI answers on the node's port.
    const away = JSON.stringify({ spec: { template: { spec: { nodeSelector: { 'podid-e2e/nmi': 'nowhere' } } } } });
    const back = JSON.stringify({ spec: { template: { spec: { nodeSelector: { 'podid-e2e/nmi': null } } } } });
    await kube(cluster, ['patch', 'daemonset', 'podid-nmi', '-n', SYSTEM, '--type=strategic', '-p', away]);
    try {
      await eventually('NMI to stop answering on the node', async () => ((await nmiAnswers()) ? undefined : true), 120_000);
      const held = await askSidecar(k, pod, RESOURCE);
      expect(held.status, JSON.stringify(held)).toBe(200);
      expect(held.access_token?.split('.')).toHaveLength(3);
      const fresh = await askSidecar(k, pod, 'https://storage.azure.com/');
      expect(fresh.status, 'a resource the sidecar never held needs NMI').toBeGreaterThanOrEqual(500);
      expect(await nmiAnswers()).toBe(false);
    } finally {
      // Back: the sidecar reaches the new NMI without being restarted.
      await kube(cluster, ['patch', 'daemonset', 'podid-nmi', '-n', SYSTEM, '--type=strategic', '-p', back]);
    }
    await k.readyPods(SYSTEM, 'app.kubernetes.io/name=podid-nmi');
    const recovered = await eventually(
      'the sidecar to get a new token through the new NMI',
      async () => {
        const a = await askSidecar(k, pod, 'https://storage.azure.com/');
        return a.status === 200 ? a : undefined;
      },
      60_000,
    );
    expect(recovered.access_token?.split('.')).toHaveLength(3);
  }, 300_000);
});

describe('pod deletion', () => {
  it('a new pod at the deleted pod’s address gets nothing of the old pod’s; the old pod’s token is refused', async () => {
    await apply(
      toolsPod('old', {
        labels: { aadpodidbinding: 'victim' },
        annotations: { 'podid.io/inject': 'false' },
        args: ['/app/get-token.mjs', 'managed', `${RESOURCE}/.default`],
      }),
    );
    await apply(toolsPod('old-injected', { labels: { aadpodidbinding: 'victim' }, args: SLEEP }));
    const [served] = await appLines('old');
    expect(served).toMatchObject({ ok: true, claims: { oid: world.msi.objectId } });
    const oldIP = (await podOf('old')).status.podIP as string;
    const injected = await k.containerReady(NS, 'old-injected', 'podid-token');
    const token = (
      await k.exec(NS, 'old-injected', 'podid-token', [
        '/nodejs/bin/node',
        '-e',
        'process.stdout.write(require("fs").readFileSync(process.env.PODID_TOKEN_FILE, "utf8"))',
      ])
    ).stdout;
    expect(token.split('.')).toHaveLength(3);
    expect((await askSidecar(k, injected, RESOURCE)).status).toBe(200);
    await kube(cluster, ['delete', 'pod', 'old', 'old-injected', '-n', NS, '--wait=true']);

    // host-local hands out addresses in turn; pointing its cursor just before the freed one makes the next pod reuse it,
    // as a busy node's wrapped-around range does.
    const cursor = '/var/lib/cni/networks/podid-kubenet/last_reserved_ip.0';
    const [a, b, c, d] = oldIP.split('.').map(Number);
    await writeFile(cursor, `${a}.${b}.${c}.${d! - 1}`);
    await apply(toolsPod('new', { args: ['/app/get-token.mjs', 'managed', `${RESOURCE}/.default`] }));
    const fresh = await runningPod('new');
    expect(fresh.status.podIP).toBe(oldIP);
    const [line] = await appLines('new');
    expect(line.ok, JSON.stringify(line)).toBe(false);
    expect(line.error).toMatch(/identity_not_found|no AzureIdentityBinding|matches no/i);
    expect(await readFile(cursor, 'utf8')).toBe(oldIP);

    // The deleted pod's own token: NMI's TokenReview refuses it (the pod it is bound to is gone).
    const res = await fetch(`http://${node.ip}:2579/sidecar/token?resource=${encodeURIComponent(RESOURCE)}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
  });
});

describe('projected token rotation', () => {
  it('the sidecar keeps serving after the kubelet rotates its token and the first one has expired', async () => {
    const pod = await k.containerReady(NS, 'rotation', 'podid-token');
    const claims = async () =>
      JSON.parse(
        (
          await k.exec(NS, 'rotation', 'podid-token', [
            '/nodejs/bin/node',
            '-e',
            'const t = require("fs").readFileSync(process.env.PODID_TOKEN_FILE, "utf8"); console.log(Buffer.from(t.split(".")[1], "base64url").toString())',
          ])
        ).stdout,
      ) as { iat: number; exp: number };
    const first = await claims();
    expect(first.exp - first.iat).toBe(600);
    expect((await askSidecar(k, pod, RESOURCE)).status).toBe(200);
    // The kubelet refreshes at 80% of the lifetime; then the first token expires.
    const rotated = await eventually(
      'the kubelet to rotate the token',
      async () => {
        const now = await claims();
        return now.iat > first.iat ? now : undefined;
      },
      600_000,
    );
    expect(rotated.exp).toBeGreaterThan(first.exp);
    const wait = first.exp * 1000 + 5_000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    // A resource not asked before: the sidecar must go to NMI, presenting what the kubelet now projects.
    const answer = await askSidecar(k, pod, 'https://management.azure.com/');
    expect(answer.status, JSON.stringify(answer)).toBe(200);
    console.log(
      `token rotation: issued ${new Date(first.iat * 1000).toISOString()}, rotated after ${rotated.iat - first.iat} s, pod started ${Math.round((Date.now() - rotationStarted) / 1000)} s ago`,
    );
  }, 900_000);
});

// npm run bench:nmi — NMI at scale: 10k pods, 1k identities and 1k bindings.
// 1. Identity lookup (pod → binding → identity) in this process, against a bare Map.get baseline.
// 2. The real `podid nmi` process (dist/) against the real control plane of test/cluster/ (etcd + kube-apiserver,
//    inside the network namespace test/cluster/in-netns.sh made) holding those objects: time to sync, memory
//    after sync, the first token for every pod (a TokenReview each), cached token serving against NMI's /healthz,
//    and a pod churn of BENCH_CHURN_RATE pods/s created and as many deleted for BENCH_CHURN_SECONDS.
// The IMDS emulator (emulators/) answers the type 0 token requests; everything is on loopback.

import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eachLimited } from '../common/each-limited.ts';
import { sendRequest } from '../common/http-request.ts';
import { IdentityStore } from '../identity/store.ts';
import { lookupIdentity } from '../nmi/lookup.ts';
import { PodIndex } from '../nmi/pod-index.ts';
import { startControlPlane } from '../test/cluster/control-plane.ts';
import { api, ensureCrds } from '../test/e2e/kube.ts';
import { startWorld } from '../emulators/world.ts';
import { fmt, runLoad } from './load.ts';
import { bigNode } from './nmi-fixture.ts';
import { PODID_ENTRY, mem, memoryMiB, nodeFlagsOf, startPodid } from './process.ts';

const PODS = Number(process.env.BENCH_PODS ?? 10_000);
const IDENTITIES = Number(process.env.BENCH_IDENTITIES ?? 1_000);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const churnRate = Number(process.env.BENCH_CHURN_RATE ?? 100);
const churnSeconds = Number(process.env.BENCH_CHURN_SECONDS ?? 60);
const NODE = 'bench-node';
// NMI's Node flags as deploy/ ships them (its NODE_OPTIONS); BENCH_NODE_OPTIONS overrides them.
const nodeFlags = process.env.BENCH_NODE_OPTIONS !== undefined ? process.env.BENCH_NODE_OPTIONS.split(' ').filter(Boolean) : nodeFlagsOf('nmi');

function opsPerSecond(fn: (i: number) => unknown, iterations: number): number {
  for (let i = 0; i < 10_000; i++) fn(i);
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) fn(i);
  return iterations / ((performance.now() - t0) / 1000);
}

/** Runs `fn` over `items` with at most `n` in flight; resolves with each call's milliseconds. */
async function pool<T>(items: readonly T[], n: number, fn: (item: T, i: number) => Promise<void>): Promise<number[]> {
  const ms = new Array<number>(items.length);
  await eachLimited(items, n, async (item, i) => {
    const t0 = performance.now();
    await fn(item, i);
    ms[i] = performance.now() - t0;
  });
  return ms;
}

const pct = (ms: number[], p: number) => Float64Array.from(ms).sort()[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))]!;
const cpuSeconds = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (USER_HZ = 100)
};

// 1. Lookups, pure.
const fixture = bigNode(PODS, IDENTITIES);
{
  const pods = new PodIndex();
  const store = new IdentityStore();
  for (const i of fixture.identities) store.upsertIdentity(i);
  for (const b of fixture.bindings) store.upsertBinding(b);
  for (const p of fixture.pods) pods.upsert(p);
  const plain = new Map(fixture.pods.map((p) => [p.ips[0]!, p]));
  const ips = fixture.pods.map((p) => p.ips[0]!);
  const N = 1_000_000;
  const baselineOps = opsPerSecond((i) => plain.get(ips[i % PODS]!), N);
  const byIpOps = opsPerSecond((i) => pods.byIP(ips[i % PODS]!), N);
  const lookupOps = opsPerSecond((i) => lookupIdentity(pods.byIP(ips[i % PODS]!)!, {}, store, { forceNamespaced: false }), N);
  console.log(`podid NMI benchmark: ${PODS} pods, ${IDENTITIES} identities, ${IDENTITIES} bindings; Node ${process.version}`);
  console.log(
    `  lookup, in process:  Map.get baseline ${(baselineOps / 1e6).toFixed(1)} M/s; PodIndex.byIP ${(byIpOps / 1e6).toFixed(1)} M/s; pod → binding → identity ${(lookupOps / 1e6).toFixed(2)} M/s (${(1e9 / lookupOps).toFixed(0)} ns each, ${(baselineOps / lookupOps).toFixed(1)}x the baseline)`,
  );
}

// 2. The real process against the real apiserver.
const dir = await mkdtemp(join(tmpdir(), 'podid-bench-nmi-'));
const cluster = await startControlPlane();
const world = await startWorld(dir);
let nmi: Awaited<ReturnType<typeof startPodid>> | undefined;
try {
  const ok = (what: string, want: number) => (r: { status: number; body: any }) => {
    if (r.status !== want) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    return r.body;
  };
  await ensureCrds(cluster);
  const namespaces = [...new Set([...fixture.pods.map((p) => p.namespace), ...fixture.identities.map((i) => i.namespace)])];
  await pool(namespaces, 8, async (ns) => {
    ok('namespace', 201)(await api(cluster, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }));
    // No controller manager here: the service account the pods run as is made by hand.
    const sa = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns } };
    ok('serviceaccount', 201)(await api(cluster, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, sa));
  });
  const crd = (kind: string, plural: string, o: { name: string; namespace: string }, spec: object) =>
    api(cluster, 'POST', `/apis/aadpodidentity.k8s.io/v1/namespaces/${o.namespace}/${plural}`, {
      apiVersion: 'aadpodidentity.k8s.io/v1',
      kind,
      metadata: { name: o.name, namespace: o.namespace },
      spec,
    });
  let t0 = performance.now();
  await pool(fixture.identities, 32, async (i) => {
    ok(
      'identity',
      201,
    )(
      await crd('AzureIdentity', 'azureidentities', i, {
        type: 0,
        clientID: i.clientID,
        resourceID: `/subscriptions/0/resourcegroups/bench/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${i.name}`,
      }),
    );
    world.tenant.managedIdentities.push({
      clientId: i.clientID!,
      objectId: i.objectID!,
      resourceId: `/subscriptions/0/resourcegroups/bench/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${i.name}`,
    });
  });
  await pool(fixture.bindings, 32, async (b) =>
    ok('binding', 201)(await crd('AzureIdentityBinding', 'azureidentitybindings', b, { azureIdentity: b.azureIdentity, selector: b.selector })),
  );

  // Pods as the scheduler and kubelet leave them: bound to the node, then Running with an IP (status subresource).
  const podObject = (name: string, namespace: string, labels: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { nodeName: NODE, containers: [{ name: 'app', image: 'example/app:1', securityContext: { capabilities: { drop: ['ALL'] } } }] },
  });
  const uids = new Map<string, string>();
  const createPod = async (p: { name: string; namespace: string; labels: Record<string, string>; ips: string[] }) => {
    const created = ok('pod', 201)(await api(cluster, 'POST', `/api/v1/namespaces/${p.namespace}/pods`, podObject(p.name, p.namespace, p.labels)));
    uids.set(`${p.namespace}/${p.name}`, created.metadata.uid);
    const status = { status: { phase: 'Running', podIP: p.ips[0], podIPs: [{ ip: p.ips[0] }] } };
    ok('pod status', 200)(await api(cluster, 'PATCH', `/api/v1/namespaces/${p.namespace}/pods/${p.name}/status`, status, 'application/merge-patch+json'));
  };
  // What the kubelet projects into each pod: a service-account token bound to it, audience podid.
  const podToken = async (p: { name: string; namespace: string }) => {
    const r = ok(
      'token',
      201,
    )(
      await api(cluster, 'POST', `/api/v1/namespaces/${p.namespace}/serviceaccounts/default/token`, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          audiences: ['podid'],
          expirationSeconds: 3600,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: p.name, uid: uids.get(`${p.namespace}/${p.name}`) },
        },
      }),
    );
    return r.status.token as string;
  };
  await pool(fixture.pods, 32, createPod);
  const tokens = new Array<string>(PODS);
  await pool(fixture.pods, 32, async (p, i) => void (tokens[i] = await podToken(p)));
  const setupSeconds = (performance.now() - t0) / 1000;

  // The NMI process, as the DaemonSet runs it (its flags apart from the emulator's address and loopback).
  t0 = performance.now();
  nmi = await startPodid(
    [
      'nmi',
      '--listen',
      '127.0.0.1:0',
      '--node-name',
      NODE,
      '--kubeconfig',
      cluster.kubeconfig,
      '--imds-url',
      world.imds.url,
      '--caller-rate',
      '1000000',
      '--caller-burst',
      '1000000',
    ],
    { NODE_OPTIONS: nodeFlags.join(' ') },
  );
  const pid = nmi.proc.pid!;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const get = (path: string, headers: Record<string, string> = {}) => sendRequest(new URL(path, nmi!.url), { headers, timeoutMs: 60_000, agent });
  // The V8 heap as NMI's /metrics reports it (common/process-metrics.ts): used, total, and memory outside it.
  const heapOf = async () => {
    const text = (await get('/metrics')).text;
    const mib = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 1048576;
    return `heap used ${mib('nodejs_heap_size_used_bytes').toFixed(1)} MiB of ${mib('nodejs_heap_size_total_bytes').toFixed(1)} MiB, external ${mib('nodejs_external_memory_bytes').toFixed(1)} MiB`;
  };
  while ((await get('/healthz')).status !== 200) await new Promise((r) => setTimeout(r, 50));
  const syncSeconds = (performance.now() - t0) / 1000;
  const syncedAt = performance.now();
  await new Promise((r) => setTimeout(r, 2000));
  const synced = await memoryMiB(pid);
  const syncedHeap = await heapOf();
  // Profiling aid: with --heapsnapshot-signal=SIGUSR2 in BENCH_NODE_OPTIONS, a heap snapshot of NMI after sync.
  if (process.env.BENCH_HEAP_SNAPSHOT) {
    nmi.proc.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 8000));
  }

  // First token for every pod: TokenReview, pod lookup, and one IMDS call per identity.
  const tokenPath = '/sidecar/token?resource=https%3A%2F%2Fvault.azure.net';
  const cpu0 = cpuSeconds(pid);
  t0 = performance.now();
  const first = await pool(tokens, concurrency, async (token) => {
    const r = await get(tokenPath, { authorization: `Bearer ${token}` });
    if (r.status !== 200) throw new Error(`first token: HTTP ${r.status} ${r.text.slice(0, 200)}`);
  });
  const firstSeconds = (performance.now() - t0) / 1000;
  const firstCpu = cpuSeconds(pid) - cpu0;
  const afterFirst = await memoryMiB(pid);

  // Managed mode: NMI writes an AzureAssignedIdentity for every pod it serves after sync (8 at a time). Measured
  // here, and waited for, so that the serving figures below are not taken while it competes for the machine.
  const countAssigned = async () => {
    const r = await api(cluster, 'GET', '/apis/aadpodidentity.k8s.io/v1/azureassignedidentities?limit=1');
    return (r.body.items?.length ?? 0) + (r.body.metadata?.remainingItemCount ?? 0);
  };
  while ((await countAssigned()) < PODS) await new Promise((r) => setTimeout(r, 500));
  const recordsSeconds = (performance.now() - syncedAt) / 1000;
  // NMI keeps a TokenReview 30 s: ask once more for every pod so that the run below serves from its caches.
  await pool(tokens, concurrency, async (token) => void (await get(tokenPath, { authorization: `Bearer ${token}` })));
  const baseline = await runLoad({ url: `${nmi.url}/healthz`, concurrency, seconds });
  const served = await runLoad({
    url: `${nmi.url}${tokenPath}`,
    rotate: { header: 'authorization', values: tokens.map((t) => `Bearer ${t}`) },
    contains: 'access_token',
    concurrency,
    seconds,
  });
  const afterServing = await memoryMiB(pid);

  // Churn: each second, churnRate new pods (created, then given an IP) and as many of the first ones deleted.
  // Every second one new pod asks for its first token as soon as its IP is set: NMI must know it by then or
  // wait for its informer (--pod-wait).
  const cpu1 = cpuSeconds(pid);
  const newPodFirstToken: number[] = [];
  let created = 0;
  let deleted = 0;
  let churnErrors = 0;
  const churnStart = performance.now();
  for (let s = 0; s < churnSeconds; s++) {
    const tick = performance.now();
    const batch = Array.from({ length: churnRate }, (_, k) => {
      const n = PODS + s * churnRate + k;
      return {
        name: `churn-${n}`,
        namespace: `team-${n % 50}`,
        labels: { aadpodidbinding: `sel-${n % IDENTITIES}` },
        ips: [`10.${128 + ((n >> 16) & 127)}.${(n >> 8) & 255}.${n & 255}`],
      };
    });
    const gone = fixture.pods.slice(s * churnRate, (s + 1) * churnRate);
    await Promise.all([
      pool(batch, 16, async (p, k) => {
        await createPod(p).then(
          () => created++,
          () => churnErrors++,
        );
        if (k !== 0) return;
        const token = await podToken(p);
        const t = performance.now();
        const r = await get(tokenPath, { authorization: `Bearer ${token}` });
        if (r.status === 200) newPodFirstToken.push(performance.now() - t);
        else churnErrors++;
      }),
      pool(gone, 16, async (p) => {
        const r = await api(cluster, 'DELETE', `/api/v1/namespaces/${p.namespace}/pods/${p.name}?gracePeriodSeconds=0`);
        if (r.status === 200) deleted++;
        else churnErrors++;
      }),
    ]);
    const wait = 1000 - (performance.now() - tick);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const churnElapsed = (performance.now() - churnStart) / 1000;
  const churnCpu = cpuSeconds(pid) - cpu1;
  await new Promise((r) => setTimeout(r, 3000));
  const afterChurn = await memoryMiB(pid);
  const metrics = (await get('/metrics')).text;
  const indexedPods = Number(/podid_nmi_indexed_objects\{kind="pods"\} (\d+)/.exec(metrics)?.[1] ?? NaN);

  console.log(`  setup: ${PODS} pods (created, IP set, token issued), ${IDENTITIES} identities and bindings in the apiserver in ${setupSeconds.toFixed(0)} s`);
  console.log(`  NMI process: node ${[...nodeFlags, PODID_ENTRY, 'nmi'].join(' ')}; from start to synced (/healthz 200): ${syncSeconds.toFixed(2)} s`);
  console.log(`  NMI memory after sync          ${mem(synced)}; ${syncedHeap}`);
  console.log(
    `  first token for every pod      ${PODS} pods in ${firstSeconds.toFixed(1)} s (${(PODS / firstSeconds).toFixed(0)}/s, ${concurrency} at a time; p50 ${pct(first, 50).toFixed(1)} ms, p99 ${pct(first, 99).toFixed(1)} ms); NMI CPU ${firstCpu.toFixed(1)} s`,
  );
  console.log(`  NMI memory after first tokens  ${mem(afterFirst)}`);
  console.log(`  AzureAssignedIdentity for every pod written ${recordsSeconds.toFixed(1)} s after sync (managed mode, 8 writes at a time)`);
  console.log(`  baseline GET /healthz          ${fmt(baseline)}`);
  console.log(`  GET /sidecar/token (cached)    ${fmt(served)}`);
  console.log(`  token serving vs baseline      ${(served.rps / baseline.rps).toFixed(2)}x throughput, ${(served.p99ms / baseline.p99ms).toFixed(2)}x p99`);
  console.log(`  NMI memory after serving       ${mem(afterServing)}`);
  console.log(
    `  churn ${churnRate} pods/s for ${churnSeconds} s      ${created} created, ${deleted} deleted in ${churnElapsed.toFixed(1)} s, ${churnErrors} errors; NMI CPU ${churnCpu.toFixed(1)} s (${((100 * churnCpu) / churnElapsed).toFixed(0)}% of a core)`,
  );
  console.log(
    `  a new pod's first token        p50 ${pct(newPodFirstToken, 50).toFixed(1)} ms, p99 ${pct(newPodFirstToken, 99).toFixed(1)} ms, max ${Math.max(...newPodFirstToken).toFixed(1)} ms (${newPodFirstToken.length} pods, asked as soon as the IP is set)`,
  );
  console.log(`  NMI memory after churn         ${mem(afterChurn)}, peak RSS ${afterChurn.peak.toFixed(1)} MiB; ${await heapOf()}`);
  console.log(`  pods NMI indexes after churn   ${indexedPods} (want ${PODS})`);
  if (served.errors || baseline.errors || churnErrors || indexedPods !== PODS) process.exitCode = 1;
} finally {
  await nmi?.stop();
  await world.close();
  await cluster.stop();
  await rm(dir, { recursive: true, force: true });
}

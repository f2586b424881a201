// npm run bench:nmi — NMI with 10k pods, 1k identities and 1k bindings in its indexes:
// 1. identity lookup (pod → binding → identity) in this process, against a bare Map.get baseline;
// 2. token serving over HTTP (sidecar endpoint: cached tokens, random pods) against /healthz on the same server;
// 3. the NMI process's memory with the indexes filled, against the same process with them empty.

import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { createInterface } from 'node:readline';
import type { JsonReply } from '../common/https-json.ts';
import { jsonObject, sendRequest } from '../common/http-request.ts';
import { IdentityStore } from '../identity/store.ts';
import { lookupIdentity } from '../nmi/lookup.ts';
import { PodIndex } from '../nmi/pod-index.ts';
import { fmt, runLoad } from './load.ts';
import { bigNode } from './nmi-fixture.ts';
import { memoryMiB } from './process.ts';

const PODS = Number(process.env.BENCH_PODS ?? 10_000);
const IDENTITIES = Number(process.env.BENCH_IDENTITIES ?? 1_000);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);

function opsPerSecond(fn: (i: number) => unknown, iterations: number): number {
  for (let i = 0; i < 10_000; i++) fn(i);
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) fn(i);
  return iterations / ((performance.now() - t0) / 1000);
}

// 1. Lookups, pure.
const fixture = bigNode(PODS, IDENTITIES);
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

// 2 and 3. The server in its own process.
async function startServer(podCount: number, identityCount: number) {
  const proc = spawn(process.execPath, ['--expose-gc', 'bench/nmi-server.ts'], {
    env: { ...process.env, BENCH_PODS: String(podCount), BENCH_IDENTITIES: String(identityCount) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await new Promise<{ url: string; tokensFile: string }>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', (l) => resolve(JSON.parse(l)));
    proc.once('exit', (c) => reject(new Error(`bench/nmi-server.ts exited with ${c}`)));
  });
  await new Promise((r) => setTimeout(r, 500));
  return { proc, ...ready, stop: () => new Promise<void>((r) => (proc.once('exit', () => r()), proc.kill('SIGTERM'))) };
}

const empty = await startServer(0, 0);
const emptyMem = await memoryMiB(empty.proc.pid!);
await empty.stop();

const server = await startServer(PODS, IDENTITIES);
try {
  const filledMem = await memoryMiB(server.proc.pid!);
  const tokens = JSON.parse(await readFile(server.tokensFile, 'utf8')) as string[];
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const get = async (path: string, headers: Record<string, string> = {}): Promise<JsonReply> => {
    const r = await sendRequest(new URL(path, server.url), { headers, timeoutMs: 30_000, agent });
    return { status: r.status, body: jsonObject(r.text) };
  };
  let k = 0;
  const token = () => get('/sidecar/token?resource=https://vault.azure.net', { authorization: `Bearer ${tokens[k++ % tokens.length]}` });
  // Warm every identity's token once: afterwards the run measures serving, not the emulator.
  const warm = Date.now();
  for (let i = 0; i < tokens.length; i += 200) await Promise.all(tokens.slice(i, i + 200).map(() => token()));
  const warmSeconds = (Date.now() - warm) / 1000;
  const baseline = await runLoad(
    () => get('/healthz'),
    (r) => r.status === 200,
    concurrency,
    seconds,
  );
  const served = await runLoad(token, (r) => r.status === 200, concurrency, seconds);
  const loadedMem = await memoryMiB(server.proc.pid!);

  console.log(`podid NMI benchmark: ${PODS} pods, ${IDENTITIES} identities, ${IDENTITIES} bindings; Node ${process.version}`);
  console.log(
    `  lookup, in process:  Map.get baseline ${(baselineOps / 1e6).toFixed(1)} M/s; PodIndex.byIP ${(byIpOps / 1e6).toFixed(1)} M/s; pod → binding → identity ${(lookupOps / 1e6).toFixed(2)} M/s (${(1e9 / lookupOps).toFixed(0)} ns each, ${(baselineOps / lookupOps).toFixed(1)}x the baseline)`,
  );
  console.log(`  first token for all ${tokens.length} pods (${IDENTITIES} IMDS calls): ${warmSeconds.toFixed(1)} s`);
  console.log(`  baseline GET /healthz          ${fmt(baseline)}`);
  console.log(`  GET /sidecar/token (cached)    ${fmt(served)}`);
  console.log(`  token serving vs baseline      ${(served.rps / baseline.rps).toFixed(2)}x throughput, ${(served.p99ms / baseline.p99ms).toFixed(2)}x p99`);
  console.log(
    `  NMI RSS: empty ${emptyMem.rss.toFixed(1)} MiB; with the indexes filled ${filledMem.rss.toFixed(1)} MiB (+${(filledMem.rss - emptyMem.rss).toFixed(1)} MiB); after load ${loadedMem.rss.toFixed(1)} MiB`,
  );
  console.log("  (the NMI process also holds the emulators and the test reviewer's token map; its indexes are what grows with pods)");
  if (served.errors || baseline.errors) process.exitCode = 1;
} finally {
  await server.stop();
}

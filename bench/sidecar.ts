// npm run bench:sidecar — the per-pod token server as the image runs it (dist/sidecar.js with the image's Node
// flags, its own process): launch to ready and idle memory against the floor of any Node sidecar (a bare node:http
// server, same binary and flags, interleaved), cached-token throughput and latency over keep-alive against the same
// process's /livez, cold-miss latency (sidecar → NMI → AAD emulator) against calling NMI directly, and memory after
// load. The emulators and NMI run in this process on loopback.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonReply } from '../common/https-json.ts';
import { jsonObject, sendRequest } from '../common/http-request.ts';
import { startWorld } from '../emulators/world.ts';
import { startLocalNmi } from '../emulators/local-nmi.ts';
import { startSidecarProcess, type SidecarProcessOptions } from '../test/sidecar-process.ts';
import { fmt, runLoad } from './load.ts';
import { SIDECAR_ENTRY, mem, memoryMiB, sidecarImageFlags } from './process.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const coldSamples = Number(process.env.BENCH_COLD ?? 200);
const restSeconds = Number(process.env.BENCH_REST_SECONDS ?? 10);

function percentiles(ms: number[]): { p50: number; p99: number } {
  const s = Float64Array.from(ms).sort();
  return { p50: s[Math.floor(0.5 * s.length)]!, p99: s[Math.min(s.length - 1, Math.floor(0.99 * s.length))]! };
}

const median = (xs: number[]) => percentiles(xs).p50;

/** Launch-to-ready times and idle private memory of one kind of process, over repeated launches. */
class Launches {
  readyMs: number[] = [];
  idlePrivateMiB: number[] = [];

  async measure(options: SidecarProcessOptions, sampleMemory: boolean): Promise<void> {
    const t0 = performance.now();
    const p = await startSidecarProcess(options);
    try {
      const live = await sendRequest(new URL(`${p.healthUrl}/livez`), { timeoutMs: 10_000 });
      if (live.status !== 200) throw new Error(`${options.entry}: /livez answered ${live.status}`);
      this.readyMs.push(performance.now() - t0);
      if (!sampleMemory) return;
      await new Promise((r) => setTimeout(r, 1000));
      this.idlePrivateMiB.push((await memoryMiB(p.proc.pid!)).anon);
    } finally {
      await p.stop();
    }
  }
}

/** Private memory after `seconds` of load at `concurrency` clients on `url` of a fresh process. */
async function afterLoad(options: SidecarProcessOptions, path: string, headers: Record<string, string>, contains?: string) {
  const p = await startSidecarProcess(options);
  try {
    const url = `${p.tokenUrl}${path}`;
    await runLoad({ url, headers, contains, concurrency, seconds: 1 });
    const run = await runLoad({ url, headers, contains, concurrency, seconds });
    return { run, memory: await memoryMiB(p.proc.pid!) };
  } finally {
    await p.stop();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'podid-bench-sidecar-'));
const world = await startWorld(dir);
const nmi = await startLocalNmi(world, dir);
const tokenFile = join(dir, 'sa-token');
await writeFile(tokenFile, nmi.addPod({ name: 'bench', labels: { aadpodidbinding: 'sp-secret' } }));
// The Node flags of the image's sidecar ENTRYPOINT (the Dockerfile's `sidecar` stage), so the figures are what
// ships; BENCH_SIDECAR_NODE_ARGS overrides them (empty: none) to compare settings.
const imageFlags = sidecarImageFlags();
const nodeArgs = process.env.BENCH_SIDECAR_NODE_ARGS !== undefined ? process.env.BENCH_SIDECAR_NODE_ARGS.split(' ').filter(Boolean) : imageFlags;
console.log(`sidecar command line: node ${[...nodeArgs, SIDECAR_ENTRY, 'sidecar'].join(' ')}`);
const sidecarOptions = { nmiUrl: nmi.url, tokenFile, identityHeader: 'bench-header', entry: SIDECAR_ENTRY, nodeArgs };

// The floor: a bare node:http server, same Node binary and flags, started and measured the same way, interleaved
// launch by launch. Launch to ready: spawn to the first 200 from /livez; idle memory 1 s after that.
const bareOptions = { ...sidecarOptions, entry: 'bench/bare-http-server.mjs' };
const launches = Number(process.env.BENCH_LAUNCHES ?? 20);
const memorySamples = Math.min(launches, Number(process.env.BENCH_MEMORY_SAMPLES ?? 5));
const launched = { sidecar: new Launches(), bare: new Launches() };
for (let i = 0; i < launches; i++) {
  await launched.sidecar.measure(sidecarOptions, i < memorySamples);
  await launched.bare.measure(bareOptions, i < memorySamples);
}

const sidecar = await startSidecarProcess(sidecarOptions);
try {
  const pid = sidecar.proc.pid!;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const get = async (url: string, headers: Record<string, string> = {}): Promise<JsonReply> => {
    const r = await sendRequest(new URL(url), { headers, timeoutMs: 10_000, agent });
    return { status: r.status, body: jsonObject(r.text) };
  };
  const imds = (resource: string) =>
    get(`${sidecar.tokenUrl}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(resource)}`, {
      Metadata: 'true',
    });
  const ok = (r: JsonReply) => r.status === 200 && typeof (r.body as { access_token?: unknown }).access_token === 'string';

  // Cold misses: each new resource costs sidecar → NMI → Azure AD (MSAL, client secret) → back.
  const cold: number[] = [];
  const direct: number[] = [];
  const saToken = (await readFile(tokenFile, 'utf8')).trim();
  for (let i = 0; i < coldSamples; i++) {
    let t0 = performance.now();
    const r = await imds(`https://cold-${i}.example`);
    cold.push(performance.now() - t0);
    if (!ok(r)) throw new Error(`cold request ${i} failed: ${r.status}`);
    t0 = performance.now();
    const d = await get(`${nmi.url}/sidecar/token?resource=${encodeURIComponent(`https://direct-${i}.example`)}`, {
      authorization: `Bearer ${saToken}`,
    });
    direct.push(performance.now() - t0);
    if (d.status !== 200) throw new Error(`direct NMI request ${i} failed: ${d.status}`);
  }

  const imdsLoad = {
    url: `${sidecar.tokenUrl}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent('https://vault.azure.net')}`,
    headers: { Metadata: 'true' },
    contains: '"access_token"',
  };
  const livez = { url: `${sidecar.healthUrl}/livez` };
  await runLoad({ ...imdsLoad, concurrency, seconds: 1 }); // warm-up
  const baseline = await runLoad({ ...livez, concurrency, seconds });
  const cached = await runLoad({ ...imdsLoad, concurrency, seconds });
  // One app asking at a time, as a pod's SDK does: latency without queueing behind 15 other clients.
  const single = await runLoad({ ...imdsLoad, concurrency: 1, seconds });
  const singleBaseline = await runLoad({ ...livez, concurrency: 1, seconds });
  const loaded = await memoryMiB(pid);
  // V8's memory reducer shrinks the heap a few seconds after the allocation rate drops: what a pod keeps paying.
  await new Promise((r) => setTimeout(r, restSeconds * 1000));
  const rested = await memoryMiB(pid);
  const bareLoaded = await afterLoad(bareOptions, '/livez', {});
  const c = percentiles(cold);
  const d = percentiles(direct);

  console.log(
    `podid sidecar benchmark: ${SIDECAR_ENTRY} (the sidecar image's bundle) in its own process${nodeArgs.length ? ` (node ${nodeArgs.join(' ')})` : ''}, ${concurrency} keep-alive clients, ${seconds} s per run, Node ${process.version}`,
  );
  console.log(`  baseline GET /livez (same process)  ${fmt(baseline)}`);
  console.log(`  cached IMDS token                   ${fmt(cached)}`);
  console.log(
    `  cached vs baseline                  ${(cached.rps / baseline.rps).toFixed(2)}x throughput, ${(cached.p99ms / baseline.p99ms).toFixed(2)}x p99`,
  );
  console.log(`  1 client: baseline /livez           ${fmt(singleBaseline)}`);
  console.log(`  1 client: cached IMDS token         ${fmt(single)}`);
  console.log(`  cold miss via NMI → AAD emulator    p50 ${c.p50.toFixed(2)} ms  p99 ${c.p99.toFixed(2)} ms  (${coldSamples} new resources, one at a time)`);
  console.log(
    `  NMI called directly, cold           p50 ${d.p50.toFixed(2)} ms  p99 ${d.p99.toFixed(2)} ms  (sidecar adds ${(c.p50 - d.p50).toFixed(2)} ms at p50)`,
  );
  const ratio = (x: number, floor: number) => `${(x / floor).toFixed(2)}x`;
  const ready = { sidecar: median(launched.sidecar.readyMs), bare: median(launched.bare.readyMs) };
  const idle = { sidecar: median(launched.sidecar.idlePrivateMiB), bare: median(launched.bare.idlePrivateMiB) };
  console.log(`  against the floor: a bare node:http server (bench/bare-http-server.mjs), same node and flags, interleaved`);
  console.log(
    `  launch to /livez 200, p50           sidecar ${ready.sidecar.toFixed(1)} ms, bare ${ready.bare.toFixed(1)} ms: ${ratio(ready.sidecar, ready.bare)} (${launches} launches each)`,
  );
  console.log(
    `  idle private memory, median         sidecar ${idle.sidecar.toFixed(1)} MiB, bare ${idle.bare.toFixed(1)} MiB: ${ratio(idle.sidecar, idle.bare)} (${memorySamples} launches each, 1 s after ready)`,
  );
  console.log(
    `  after load, private memory          sidecar ${loaded.anon.toFixed(1)} MiB (${ratio(loaded.anon, idle.sidecar)} its idle), bare ${bareLoaded.memory.anon.toFixed(1)} MiB after ${fmt(bareLoaded.run).trim()}`,
  );
  console.log(`  ${`${restSeconds} s after the load`.padEnd(35)} sidecar ${rested.anon.toFixed(1)} MiB private (${ratio(rested.anon, idle.sidecar)} its idle)`);
  console.log(`  sidecar memory after load           ${mem(loaded)}, peak RSS ${loaded.peak.toFixed(1)} MiB`);
  console.log('  (file-backed pages are the node binary and its libraries, shared by every process mapping the same image layer)');
  if (cached.errors || baseline.errors || bareLoaded.run.errors) process.exitCode = 1;
} finally {
  await sidecar.stop();
  await nmi.close();
  await world.close();
  await rm(dir, { recursive: true, force: true });
}

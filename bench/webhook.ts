// npm run bench:webhook — /mutate and /validate throughput and latency against a /healthz baseline on the same
// server and against the floor (a bare node:https server reading the same review and answering as many bytes),
// then a sustained /mutate run (60 s) and the server's memory after it and once the load stops.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCA, createServingCert } from '../certs/generate.ts';
import { admissionReviewFor, sampleLabeledPod } from '../cli/demo-samples.ts';
import { readAdmissionReview, review as reviewOf } from '../webhook/admission.ts';
import { defaultInjectionConfig } from '../webhook/injection-config.ts';
import { mutate } from '../webhook/mutate.ts';
import { secretSource } from '../webhook/secrets.ts';
import { fmt, runLoad, type LoadResult } from './load.ts';
import { PODID_ENTRY, mem, memoryMiB, nodeFlagsOf, startPodid, startServer } from './process.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const sustainedSeconds = Number(process.env.BENCH_SUSTAINED_SECONDS ?? 60);
const pacedRate = Number(process.env.BENCH_RATE ?? 1000);
const roundCount = Number(process.env.BENCH_ROUNDS ?? 3);
// The webhook's Node flags as deploy/ ships them (its NODE_OPTIONS); BENCH_NODE_OPTIONS overrides them.
const nodeFlags = process.env.BENCH_NODE_OPTIONS !== undefined ? process.env.BENCH_NODE_OPTIONS.split(' ').filter(Boolean) : nodeFlagsOf('webhook');

const dir = await mkdtemp(join(tmpdir(), 'podid-bench-'));
const ca = createCA({ commonName: 'bench CA', validityDays: 1 });
const serving = createServingCert(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 1 });
await writeFile(join(dir, 'tls.crt'), serving.certPem);
await writeFile(join(dir, 'tls.key'), serving.keyPem);

const server = await startPodid(
  ['webhook', '--listen', '127.0.0.1:0', '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--shutdown-drain', '0s'],
  { NODE_OPTIONS: nodeFlags.join(' ') },
  (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
);
const review = admissionReviewFor(sampleLabeledPod());
// The floor answers POSTs with as many bytes as podid's /mutate answer to this review.
const answerBytes = JSON.stringify(reviewOf(mutate(readAdmissionReview(review), defaultInjectionConfig, secretSource()).response)).length;
const floor = await startServer(
  'bench/bare-https-server.mjs',
  [join(dir, 'tls.crt'), join(dir, 'tls.key'), String(answerBytes)],
  { NODE_OPTIONS: nodeFlags.join(' ') },
  (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
);
try {
  const deploymentKind = { kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, resource: { group: 'apps', version: 'v1', resource: 'deployments' } };
  const deployment = admissionReviewFor(tenContainerDeployment(), {
    ...deploymentKind,
    requestKind: deploymentKind.kind,
    requestResource: deploymentKind.resource,
  });
  const https = { caPem: ca.certPem, concurrency };
  const floorPost = { ...https, url: `${floor.url}/mutate`, method: 'POST', body: review } as const;
  const mutateLoad = { ...https, url: `${server.url}/mutate`, method: 'POST', body: review, contains: '"patch":"' } as const;
  const idle = await memoryMiB(server.proc.pid!);

  await runLoad({ ...mutateLoad, seconds: 1 }); // warm-up
  await runLoad({ ...floorPost, seconds: 1 });
  // Interleaved rounds, medians: this machine's speed drifts by up to 2× from one minute to the next.
  const rounds: Record<'healthz' | 'mutate' | 'floorGet' | 'floorPost', LoadResult[]> = { healthz: [], mutate: [], floorGet: [], floorPost: [] };
  for (let i = 0; i < roundCount; i++) {
    rounds.healthz.push(await runLoad({ ...https, url: `${server.url}/healthz`, seconds }));
    rounds.mutate.push(await runLoad({ ...mutateLoad, seconds }));
    rounds.floorPost.push(await runLoad({ ...floorPost, seconds }));
    rounds.floorGet.push(await runLoad({ ...https, url: `${floor.url}/healthz`, seconds }));
  }
  const [baseline, mutated, floorPosted, floorGot] = [rounds.healthz, rounds.mutate, rounds.floorPost, rounds.floorGet].map(medianRun) as [
    LoadResult,
    LoadResult,
    LoadResult,
    LoadResult,
  ];
  const validated = await runLoad({ ...https, url: `${server.url}/validate`, method: 'POST', body: deployment, contains: '"allowed":true', seconds });
  // Latency at a fixed pace well above a busy cluster's pod creations, rather than at saturation (where p99 is queueing).
  const pacedBaseline = await runLoad({ ...https, url: `${server.url}/healthz`, seconds, rate: pacedRate });
  const paced = await runLoad({ ...mutateLoad, seconds, rate: pacedRate });
  const loaded = await memoryMiB(server.proc.pid!);
  const sustained = sustainedSeconds > 0 ? await runLoad({ ...mutateLoad, seconds: sustainedSeconds }) : undefined;
  const afterSustained = await memoryMiB(server.proc.pid!);
  await new Promise((r) => setTimeout(r, 10_000));
  const rested = await memoryMiB(server.proc.pid!);

  console.log(
    `podid webhook benchmark: ${concurrency} keep-alive HTTPS clients (podid-loadgen), ${seconds} s per run (medians of ${roundCount} interleaved rounds), Node ${process.version}`,
  );
  console.log(`  server: node ${[...nodeFlags, PODID_ENTRY, 'webhook'].join(' ')}`);
  console.log(`  baseline GET /healthz   ${fmt(baseline)}`);
  console.log(`  POST /mutate            ${fmt(mutated)}`);
  console.log(`  POST /validate (10 ctr) ${fmt(validated)}`);
  console.log(`  /mutate vs baseline     ${(mutated.rps / baseline.rps).toFixed(2)}x throughput, ${(mutated.p99ms / baseline.p99ms).toFixed(2)}x p99`);
  console.log(`  the floor: a bare node:https server, same node and NODE_OPTIONS (bench/bare-https-server.mjs), interleaved`);
  console.log(`    GET, small answer     ${fmt(floorGot)}`);
  console.log(`    POST, ${String(answerBytes).padEnd(4)} B answer   ${fmt(floorPosted)}`);
  console.log(`    floor POST vs GET     ${(floorPosted.rps / floorGot.rps).toFixed(2)}x throughput (what a review's bytes cost Node before any work)`);
  console.log(`  /mutate vs floor POST   ${(mutated.rps / floorPosted.rps).toFixed(2)}x throughput, ${(mutated.p99ms / floorPosted.p99ms).toFixed(2)}x p99`);
  console.log(`  /validate vs baseline   ${(validated.rps / baseline.rps).toFixed(2)}x throughput, ${(validated.p99ms / baseline.p99ms).toFixed(2)}x p99`);
  console.log(`  at ${pacedRate} req/s: /healthz  ${fmt(pacedBaseline)}`);
  console.log(`  at ${pacedRate} req/s: /mutate   ${fmt(paced)}`);
  if (sustained) console.log(`  POST /mutate, ${sustainedSeconds} s     ${fmt(sustained)}`);
  console.log(`  server memory idle      ${mem(idle)}`);
  console.log(`  after the short runs    ${mem(loaded)}`);
  if (sustained) console.log(`  after ${sustainedSeconds} s /mutate    ${mem(afterSustained)}, peak RSS ${afterSustained.peak.toFixed(1)} MiB`);
  console.log(`  10 s after the load     ${mem(rested)}`);
  if (mutated.errors || baseline.errors || validated.errors || paced.errors || sustained?.errors) process.exitCode = 1;
} finally {
  await floor.stop();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}

function tenContainerDeployment() {
  const containers = Array.from({ length: 10 }, (_, i) => ({
    name: `c${i}`,
    image: 'example/app:1',
    env: [{ name: 'N', value: String(i) }],
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
  }));
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'bench', namespace: 'demo' },
    spec: { selector: { matchLabels: { app: 'bench' } }, template: { metadata: { labels: { app: 'bench' } }, spec: { containers } } },
  };
}

/** The run with the median throughput. */
function medianRun(runs: LoadResult[]): LoadResult {
  return [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)]!;
}

// npm run bench:webhook — /mutate throughput and latency against a /healthz baseline on the same server.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCA, createServingCert } from '../certs/generate.ts';
import { admissionReviewFor, sampleLabeledPod } from '../cli/demo-samples.ts';
import { httpsAgent, postJson, type JsonReply } from '../common/https-json.ts';
import { fmt, runLoad } from './load.ts';
import { memoryMiB, startPodid } from './process.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);

const dir = await mkdtemp(join(tmpdir(), 'podid-bench-'));
const ca = createCA({ commonName: 'bench CA', validityDays: 1 });
const serving = createServingCert(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 1 });
await writeFile(join(dir, 'tls.crt'), serving.certPem);
await writeFile(join(dir, 'tls.key'), serving.keyPem);

const server = await startPodid([
  'webhook',
  '--listen',
  '127.0.0.1:0',
  '--tls-cert',
  join(dir, 'tls.crt'),
  '--tls-key',
  join(dir, 'tls.key'),
  '--shutdown-drain',
  '0s',
]);
try {
  const agent = httpsAgent(ca.certPem, true, concurrency);
  const review = admissionReviewFor(sampleLabeledPod());
  const mutated = (r: JsonReply) => r.status === 200 && typeof (r.body as { response?: { patch?: string } }).response?.patch === 'string';
  const healthy = (r: JsonReply) => r.status === 200;
  const idle = await memoryMiB(server.proc.pid!);

  await runLoad(() => postJson(`${server.url}/mutate`, review, agent), mutated, concurrency, 1); // warm-up
  const baseline = await runLoad(() => postJson(`${server.url}/healthz`, undefined, agent), healthy, concurrency, seconds);
  const mutate = await runLoad(() => postJson(`${server.url}/mutate`, review, agent), mutated, concurrency, seconds);
  const deployment = admissionReviewFor(tenContainerDeployment(), { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } });
  const allowed = (r: JsonReply) => r.status === 200 && (r.body as { response?: { allowed?: boolean } }).response?.allowed === true;
  const validate = await runLoad(() => postJson(`${server.url}/validate`, deployment, agent), allowed, concurrency, seconds);
  const loaded = await memoryMiB(server.proc.pid!);

  console.log(`podid webhook benchmark: ${concurrency} keep-alive HTTPS clients, ${seconds} s per run, Node ${process.version}`);
  console.log(`  baseline GET /healthz   ${fmt(baseline)}`);
  console.log(`  POST /mutate            ${fmt(mutate)}`);
  console.log(`  POST /validate (10 ctr) ${fmt(validate)}`);
  console.log(`  /mutate vs baseline     ${(mutate.rps / baseline.rps).toFixed(2)}x throughput, ${(mutate.p99ms / baseline.p99ms).toFixed(2)}x p99`);
  console.log(`  /validate vs baseline   ${(validate.rps / baseline.rps).toFixed(2)}x throughput, ${(validate.p99ms / baseline.p99ms).toFixed(2)}x p99`);
  console.log(`  server RSS              idle ${idle.rss.toFixed(1)} MiB, after load ${loaded.rss.toFixed(1)} MiB, peak ${loaded.peak.toFixed(1)} MiB`);
  if (mutate.errors || baseline.errors || validate.errors) process.exitCode = 1;
} finally {
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

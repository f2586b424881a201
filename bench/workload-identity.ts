// npm run bench:workload-identity — admission of azure-workload-identity's pods: podid's `/mutate-workload-identity`
// (dist/podid.js with deploy/'s NODE_OPTIONS) against the Go peer doing the same job, azure-workload-identity
// v1.5.1's own webhook (its pkg/webhook mutator behind controller-runtime's admission.Webhook over HTTPS:
// test/azwi-oracle `serve`), on the same review, interleaved rounds, medians. Each reads the pod's ServiceAccount:
// azwi from its informer cache (here controller-runtime's fake client), podid through its 5 s cache from an HTTPS
// endpoint in this process answering the apiserver's ServiceAccount GET.

import { existsSync } from 'node:fs';
import { createServer } from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createCA, createServingCert } from '../certs/generate.ts';
import { listenOn } from '../common/serve.ts';
import { admissionReviewFor } from '../cli/demo-samples.ts';
import { CLIENT, TENANT, wiPod } from '../test/workload-identity-cases.ts';
import { fmt, runLoad, type LoadResult } from './load.ts';
import { memoryMiB, nodeFlagsOf, startCommand, startPodid, type Child } from './process.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const roundCount = Number(process.env.BENCH_ROUNDS ?? 3);
const ROOT = resolve(import.meta.dirname, '..');
const ORACLE = join(ROOT, '.cache/bin/azwi-webhook-oracle');

const dir = await mkdtemp(join(tmpdir(), 'podid-bench-wi-'));
const ca = createCA({ commonName: 'bench CA', validityDays: 1 });
const serving = createServingCert(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 1 });
const [cert, key] = [join(dir, 'tls.crt'), join(dir, 'tls.key')];
await writeFile(cert, serving.certPem);
await writeFile(key, serving.keyPem);

const serviceAccount = {
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name: 'api', namespace: 'apps', annotations: { 'azure.workload.identity/client-id': CLIENT } },
};
const pod = wiPod({ sa: 'api' });
const review = admissionReviewFor(pod, { namespace: 'apps' });

// The ServiceAccount GET podid makes (GET /api/v1/namespaces/apps/serviceaccounts/api), counted.
let serviceAccountReads = 0;
const apiserver = createServer({ cert: serving.certPem, key: serving.keyPem }, function serviceAccountGet(req, res) {
  serviceAccountReads++;
  const ok = req.url === '/api/v1/namespaces/apps/serviceaccounts/api';
  res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
  res.end(JSON.stringify(ok ? serviceAccount : { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 }));
});
const apiserverUrl = await listenOn(apiserver, '127.0.0.1', 0, 'https');
const kubeconfig = join(dir, 'kubeconfig');
await writeFile(
  kubeconfig,
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'bench', cluster: { server: apiserverUrl, 'certificate-authority-data': Buffer.from(ca.certPem).toString('base64') } }],
    users: [{ name: 'bench', user: { token: 'bench' } }],
    contexts: [{ name: 'bench', context: { cluster: 'bench', user: 'bench' } }],
    'current-context': 'bench',
  }),
);

/** azwi's webhook: the oracle binary in `serve` mode, which prints its URL when it listens. */
async function startAzwi(): Promise<Child> {
  if (!existsSync(ORACLE)) throw new Error(`${ORACLE} is missing: run test/compat/setup.sh (it builds test/azwi-oracle)`);
  const input = join(dir, 'azwi-input.json');
  await writeFile(input, JSON.stringify({ namespace: 'apps', tenantID: TENANT, kubeVersion: 'v1.34.0', serviceAccount }));
  return startCommand(ORACLE, ['serve', cert, key, input]);
}

const nodeFlags = nodeFlagsOf('webhook');
const podid = await startPodid(
  [
    'webhook',
    '--listen',
    '127.0.0.1:0',
    '--tls-cert',
    cert,
    '--tls-key',
    key,
    '--shutdown-drain',
    '0s',
    '--workload-identity',
    '--wi-tenant-id',
    TENANT,
    '--kubeconfig',
    kubeconfig,
  ],
  { NODE_OPTIONS: nodeFlags.join(' ') },
);
const azwi = await startAzwi();
const medianRun = (runs: LoadResult[]) => [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)]!;
try {
  const https = { caPem: ca.certPem, concurrency, method: 'POST', body: review, contains: '"patch":"' } as const;
  const ours = { ...https, url: `${podid.url}/mutate-workload-identity` };
  const theirs = { ...https, url: `${azwi.url}/mutate` };
  await runLoad({ ...ours, seconds: 1 });
  await runLoad({ ...theirs, seconds: 1 });
  const rounds = { podid: [] as LoadResult[], azwi: [] as LoadResult[] };
  for (let i = 0; i < roundCount; i++) {
    rounds.podid.push(await runLoad({ ...ours, seconds }));
    rounds.azwi.push(await runLoad({ ...theirs, seconds }));
  }
  const [p, a] = [medianRun(rounds.podid), medianRun(rounds.azwi)];
  const [pm, am] = [await memoryMiB(podid.proc.pid!), await memoryMiB(azwi.proc.pid!)];
  console.log(
    `workload-identity admission: ${concurrency} keep-alive HTTPS clients (podid-loadgen), ${seconds} s per run, medians of ${roundCount} interleaved rounds`,
  );
  console.log(`  podid /mutate-workload-identity   ${fmt(p)}`);
  console.log(`  azwi v1.5.1 webhook (Go)          ${fmt(a)}`);
  console.log(`  podid vs azwi                     ${(p.rps / a.rps).toFixed(2)}x throughput, ${(p.p99ms / a.p99ms).toFixed(2)}x p99`);
  console.log(`  ServiceAccount reads by podid     ${serviceAccountReads} for ${rounds.podid.reduce((n, r) => n + r.requests, 0)} admissions (5 s cache)`);
  console.log(
    `  memory after the runs             podid RSS ${pm.rss.toFixed(1)} MiB (${pm.anon.toFixed(1)} private), azwi RSS ${am.rss.toFixed(1)} MiB (${am.anon.toFixed(1)} private)`,
  );
  if (p.errors || a.errors) {
    console.log(`  errors: podid ${p.errors} (${p.firstError ?? ''}), azwi ${a.errors} (${a.firstError ?? ''})`);
    process.exitCode = 1;
  }
} finally {
  await podid.stop();
  await azwi.stop();
  apiserver.close();
  await rm(dir, { recursive: true, force: true });
}

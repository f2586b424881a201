// npm run bench:sidecar-proxy — the sidecar as azure-workload-identity's proxy (`--token-source workload-identity`,
// dist/sidecar.js with the image's Node flags, its own process), against the AAD emulator on loopback:
//   - cached-token throughput and p99 against the same process's /livez, and how many exchanges Azure AD saw for
//     them (a proxy that builds a client per request, as azwi-proxy does, makes one exchange per request);
//   - one exchange (a new resource: sidecar → Azure AD with the client assertion) against posting the same exchange
//     to the emulator directly;
//   - idle and after-load private memory against a bare node:http server with the same flags (the floor).

import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { sendRequest } from '../common/http-request.ts';
import { exchangeForm, tokenEndpoint } from '../aad/federated-exchange.ts';
import { startWorld } from '../emulators/world.ts';
import { startSidecarProcess, type SidecarProcessOptions } from '../test/sidecar-process.ts';
import { fmt, runLoad } from './load.ts';
import { SIDECAR_ENTRY, memoryMiB, sidecarImageFlags } from './process.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const coldSamples = Number(process.env.BENCH_COLD ?? 100);
const launches = Number(process.env.BENCH_LAUNCHES ?? 5);

const p50 = (xs: number[]) => Float64Array.from(xs).sort()[Math.floor(xs.length / 2)]!;

const dir = await mkdtemp(join(tmpdir(), 'podid-bench-proxy-'));
const world = await startWorld(dir);
const tokenFile = join(dir, 'azure-identity-token');
await writeFile(tokenFile, world.federatedAssertion());
const clientId = world.identities.find((i) => i.name === 'sp-federated')!.clientID!;
const nodeArgs = sidecarImageFlags();
const proxyOptions: SidecarProcessOptions = {
  nmiUrl: 'http://127.0.0.1:9', // unused in this mode
  tokenFile,
  identityHeader: 'bench-header',
  entry: SIDECAR_ENTRY,
  nodeArgs,
  env: {
    PODID_TOKEN_SOURCE: 'workload-identity',
    AZURE_CLIENT_ID: clientId,
    AZURE_TENANT_ID: world.tenant.id,
    AZURE_AUTHORITY_HOST: world.aad.url,
    AZURE_FEDERATED_TOKEN_FILE: tokenFile,
    NODE_EXTRA_CA_CERTS: world.tls.caFile,
  },
};
const bareOptions = { ...proxyOptions, entry: 'bench/bare-http-server.mjs' };

/** Idle private memory 1 s after /livez answers, for `launches` interleaved launches. */
async function idle(options: SidecarProcessOptions): Promise<number> {
  const p = await startSidecarProcess(options);
  try {
    await sendRequest(new URL(`${p.healthUrl}/livez`), { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 1000));
    return (await memoryMiB(p.proc.pid!)).anon;
  } finally {
    await p.stop();
  }
}
const idles = { proxy: [] as number[], bare: [] as number[] };
for (let i = 0; i < launches; i++) {
  idles.proxy.push(await idle(proxyOptions));
  idles.bare.push(await idle(bareOptions));
}

const proxy = await startSidecarProcess(proxyOptions);
try {
  const imdsUrl = (resource: string) => `${proxy.tokenUrl}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(resource)}`;
  // One exchange per new resource, one at a time; then the same exchange posted to Azure AD directly.
  const cold: number[] = [];
  const direct: number[] = [];
  const agent = new Agent({ keepAlive: true, ca: world.tls.caPem });
  const endpoint = tokenEndpoint(world.aad.url, world.tenant.id);
  for (let i = 0; i < coldSamples; i++) {
    let t0 = performance.now();
    const r = await sendRequest(new URL(imdsUrl(`https://cold-${i}.example`)), { headers: { Metadata: 'true' }, timeoutMs: 10_000 });
    cold.push(performance.now() - t0);
    if (r.status !== 200) throw new Error(`cold request ${i}: ${r.status} ${r.text.slice(0, 200)}`);
    t0 = performance.now();
    const d = await sendRequest(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: exchangeForm(clientId, `https://direct-${i}.example`, world.federatedAssertion()),
      timeoutMs: 10_000,
      agent,
    });
    direct.push(performance.now() - t0);
    if (d.status !== 200) throw new Error(`direct exchange ${i}: ${d.status}`);
  }
  const load = { url: imdsUrl('https://vault.azure.net'), headers: { Metadata: 'true' }, contains: '"access_token"' };
  await runLoad({ ...load, concurrency, seconds: 1 });
  const exchangesBefore = world.aad.requests.length;
  const baseline = await runLoad({ url: `${proxy.healthUrl}/livez`, concurrency, seconds });
  const cached = await runLoad({ ...load, concurrency, seconds });
  const exchanges = world.aad.requests.length - exchangesBefore;
  const loaded = await memoryMiB(proxy.proc.pid!);
  const idleProxy = p50(idles.proxy);
  const idleBare = p50(idles.bare);

  console.log(
    `podid sidecar as the workload-identity proxy: ${SIDECAR_ENTRY} (node ${nodeArgs.join(' ')}), ${concurrency} keep-alive clients, ${seconds} s per run, Node ${process.version}`,
  );
  console.log(`  baseline GET /livez (same process)  ${fmt(baseline)}`);
  console.log(`  cached IMDS token                   ${fmt(cached)}`);
  console.log(
    `  cached vs baseline                  ${(cached.rps / baseline.rps).toFixed(2)}x throughput, ${(cached.p99ms / baseline.p99ms).toFixed(2)}x p99`,
  );
  console.log(`  exchanges with Azure AD for them    ${exchanges} (a proxy exchanging per request: ${cached.requests})`);
  console.log(`  one exchange through the proxy      p50 ${p50(cold).toFixed(2)} ms (${coldSamples} new resources)`);
  console.log(`  the same exchange posted directly   p50 ${p50(direct).toFixed(2)} ms (the proxy adds ${(p50(cold) - p50(direct)).toFixed(2)} ms)`);
  console.log(
    `  idle private memory, median         proxy ${idleProxy.toFixed(1)} MiB, bare node:http ${idleBare.toFixed(1)} MiB: ${(idleProxy / idleBare).toFixed(2)}x (${launches} launches each)`,
  );
  console.log(
    `  after load, private memory          proxy ${loaded.anon.toFixed(1)} MiB (${(loaded.anon / idleProxy).toFixed(2)}x its idle; it has loaded TLS for Azure AD)`,
  );
  if (cached.errors || baseline.errors) process.exitCode = 1;
} finally {
  await proxy.stop();
  await world.close();
  await rm(dir, { recursive: true, force: true });
}

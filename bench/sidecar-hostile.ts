// npm run bench:sidecar-hostile — one pod's token sidecar under a hostile neighbour, as the image runs it (the
// Dockerfile's sidecar flags) against the memory limit the webhook gives it: connections held open past
// --max-connections, slow headers, 4 MB form bodies on the POST (MSI_ENDPOINT) route, 100 KB URLs and oversized
// headers, from BENCH_CLIENTS (12) clients at once. Prints what each phase got back and the process's peak RSS
// (VmHWM) against the limit; exits 1 on a 5xx other than NMI being unreachable, or a peak past 75% of the limit.
// NMI is not running (its URL is a closed port): every token request that passes the checks fails upstream with 503.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LEGACY_MSI_TOKEN_PATH, IMDS_TOKEN_PATH } from '../tokens/wire.ts';
import { defaultInjectionConfig } from '../webhook/injection-config.ts';
import { startSidecarProcess } from '../test/sidecar-process.ts';
import { SIDECAR_ENTRY, memoryMiB, quantityMiB, sidecarImageFlags } from './process.ts';

const clients = Number(process.env.BENCH_CLIENTS ?? 12);
const rounds = Number(process.env.BENCH_ROUNDS ?? 40);
const limitMiB = quantityMiB(defaultInjectionConfig.resources.memoryLimit ?? '', "the webhook's default sidecar limit");
const dir = await mkdtemp(join(tmpdir(), 'podid-bench-sidecar-hostile-'));
await writeFile(join(dir, 'token'), 'not-a-token');
const nodeArgs = sidecarImageFlags();
const sidecar = await startSidecarProcess({
  nmiUrl: 'http://127.0.0.1:9',
  tokenFile: join(dir, 'token'),
  identityHeader: 'h',
  entry: SIDECAR_ENTRY,
  nodeArgs,
});
const base = new URL(sidecar.tokenUrl);
const tally: Record<string, Record<string, number>> = {};
const count = (phase: string, answer: string) => ((tally[phase] ??= {})[answer] = (tally[phase]![answer] ?? 0) + 1);

function send(phase: string, path: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer }): Promise<void> {
  return new Promise((resolve) => {
    const req = request({ host: base.hostname, port: base.port, path, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      res.resume();
      res.on('end', () => (count(phase, String(res.statusCode)), resolve()));
    });
    req.on('error', (err: NodeJS.ErrnoException) => (count(phase, err.code ?? 'error'), resolve()));
    req.end(opts.body);
  });
}

/** A phase's answers, and the peak RSS so far (VmHWM only grows: the phase that raised it shows). */
async function report(phase: string): Promise<void> {
  const answers = Object.entries(tally[phase] ?? {}).map(([k, n]) => `${k}: ${n}`);
  console.log(`  ${phase.padEnd(34)} ${answers.join(', ')}; peak RSS so far ${(await memoryMiB(sidecar.proc.pid!)).peak.toFixed(1)} MiB`);
}

async function parallel(phase: string, one: () => Promise<void>): Promise<void> {
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = 0; i < rounds; i++) await one();
    }),
  );
  await report(phase);
}

try {
  console.log(
    `podid sidecar under a hostile neighbour: node ${[...nodeArgs, SIDECAR_ENTRY, 'sidecar'].join(' ')}; limit ${limitMiB} MiB (the webhook's default)`,
  );
  const idle = await memoryMiB(sidecar.proc.pid!);
  console.log(`  idle                               RSS ${idle.rss.toFixed(1)} MiB (private ${idle.anon.toFixed(1)} MiB)`);
  // Connections held with half a request line, past the cap (256 by default): the rest are closed as they arrive.
  const held: Socket[] = [];
  await Promise.all(
    Array.from(
      { length: 400 },
      () =>
        new Promise<void>((resolve) => {
          const s = connect(Number(base.port), base.hostname, () => (s.write('GET /metadata/identity/oauth2/tok'), resolve()));
          s.on('error', () => resolve());
          s.on('close', () => count('400 slow connections held', 'closed by the sidecar'));
          held.push(s);
        }),
    ),
  );
  await new Promise((r) => setTimeout(r, 1_000));
  count('400 slow connections held', `open after 1 s: ${held.filter((s) => !s.destroyed).length}`);
  await report('400 slow connections held');
  for (const s of held) s.destroy();
  await new Promise((r) => setTimeout(r, 500));

  const form = Buffer.alloc(4 * 1024 * 1024, 'resource=https%3A%2F%2Fvault.azure.net&');
  await parallel('4 MB form bodies (POST)', () =>
    send('4 MB form bodies (POST)', LEGACY_MSI_TOKEN_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(form.length), secret: 'h' },
      body: form,
    }),
  );
  const longQuery = `${IMDS_TOKEN_PATH}?api-version=2018-02-01&resource=${'x'.repeat(100_000)}`;
  await parallel('100 KB URLs', () => send('100 KB URLs', longQuery, { headers: { metadata: 'true' } }));
  const bigHeaders = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`x-pad-${i}`, 'y'.repeat(8_000)]));
  await parallel('64 KB of headers', () =>
    send('64 KB of headers', `${IMDS_TOKEN_PATH}?api-version=2018-02-01&resource=https://vault.azure.net`, { headers: { metadata: 'true', ...bigHeaders } }),
  );
  await parallel('plain token requests (NMI down)', () =>
    send('plain token requests (NMI down)', `${IMDS_TOKEN_PATH}?api-version=2018-02-01&resource=https://vault.azure.net`, { headers: { metadata: 'true' } }),
  );

  const peak = (await memoryMiB(sidecar.proc.pid!)).peak;
  const share = (peak / limitMiB) * 100;
  console.log(`  peak RSS ${peak.toFixed(1)} MiB = ${share.toFixed(0)}% of the ${limitMiB} MiB limit (goal: under 75%)`);
  const errors = Object.entries(tally).flatMap(([phase, answers]) =>
    Object.keys(answers)
      .filter((a) => /^5\d\d$/.test(a) && !(a === '503' && phase.includes('NMI down')) && !(a === '503' && phase.includes('form')))
      .map((a) => `${phase}: ${a}`),
  );
  if (errors.length) console.log(`  unexpected 5xx: ${errors.join('; ')}`);
  if (errors.length || share >= 75) process.exitCode = 1;
} finally {
  await sidecar.stop();
  await rm(dir, { recursive: true, force: true });
}

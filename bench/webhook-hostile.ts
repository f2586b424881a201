// npm run bench:webhook-hostile — the webhook under a hostile load, as deploy/ ships it (its NODE_OPTIONS, its memory
// limit): BENCH_CLIENTS (12) concurrent keep-alive HTTPS clients send BENCH_REVIEWS (15,000) seeded fuzzed reviews per
// mode, --netraw=enforce then --netraw=fix (test/fuzz/reviews.ts: well-formed, malformed envelopes, and hostile bodies
// of several MB, 10k containers, 1M empty objects, 50k-deep nesting). It prints what came back by class, the allowed
// malformed envelopes, NET_RAW bypasses and 5xx (each should be 0), and the process's peak RSS (VmHWM) against the
// shipped limit. Exits 1 when any count is not 0 or the peak passes 75% of the limit.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCA, createServingCert } from '../certs/generate.ts';
import { fuzzCase, verdictOf, type FuzzClass, type Verdict } from '../test/fuzz/reviews.ts';
import { PODID_ENTRY, memoryLimitMiB, memoryMiB, nodeFlagsOf, startPodid } from './process.ts';

const reviews = Number(process.env.BENCH_REVIEWS ?? 15_000);
const clients = Number(process.env.BENCH_CLIENTS ?? 12);
const hostileShare = Number(process.env.BENCH_HOSTILE ?? 0.03);
const nodeFlags = nodeFlagsOf('webhook');
const limitMiB = memoryLimitMiB('webhook');

const dir = await mkdtemp(join(tmpdir(), 'podid-bench-hostile-'));
const ca = createCA({ commonName: 'bench CA', validityDays: 1 });
const serving = createServingCert(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 1 });
await writeFile(join(dir, 'tls.crt'), serving.certPem);
await writeFile(join(dir, 'tls.key'), serving.keyPem);

interface Tally {
  byClass: Record<FuzzClass, Record<string, number>>;
  verdicts: Record<Verdict, number>;
  examples: string[];
  peakMiB: number;
  seconds: number;
}

function post(agent: Agent, url: string, body: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text.slice(0, 200);
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    // A connection the server closed mid-body (413 before reading it) is an answer of its own.
    req.on('error', (err) => resolve({ status: 0, body: { error: (err as NodeJS.ErrnoException).code ?? err.message } }));
    req.end(body);
  });
}

async function run(mode: 'enforce' | 'fix'): Promise<Tally> {
  const server = await startPodid(
    [
      'webhook',
      '--listen',
      '127.0.0.1:0',
      '--tls-cert',
      join(dir, 'tls.crt'),
      '--tls-key',
      join(dir, 'tls.key'),
      '--shutdown-drain',
      '0s',
      '--netraw',
      mode,
      '--metrics-listen',
      '',
    ],
    { NODE_OPTIONS: nodeFlags.join(' ') },
  );
  const agent = new Agent({ keepAlive: true, maxSockets: clients, ca: ca.certPem });
  const tally: Tally = {
    byClass: { valid: {}, malformed: {}, hostile: {} },
    verdicts: { ok: 0, 'allowed-malformed': 0, bypass: 0, 'server-error': 0 },
    examples: [],
    peakMiB: 0,
    seconds: 0,
  };
  const started = Date.now();
  let next = 0;
  async function client(): Promise<void> {
    for (let i = next++; i < reviews; i = next++) {
      const c = fuzzCase(mode === 'enforce' ? 11 : 12, i, { malformed: 0.3, hostile: hostileShare });
      const res = await post(agent, `${server.url}${c.endpoint}`, c.body);
      const answer = res.status === 200 ? `200 ${res.body?.response?.allowed ? 'allowed' : 'denied'}` : `${res.status} ${res.body?.error ?? ''}`.trim();
      const counts = tally.byClass[c.class];
      counts[answer] = (counts[answer] ?? 0) + 1;
      const verdict = verdictOf(c, res.status, res.body, mode);
      tally.verdicts[verdict]++;
      if (process.env.BENCH_PROGRESS && i % 500 === 0) console.error(`    ${mode} #${i} ${((Date.now() - started) / 1000).toFixed(1)} s`);
      if (verdict !== 'ok' && tally.examples.length < 10) tally.examples.push(`#${i} ${c.class} ${c.endpoint} ${c.label}: ${answer}`);
    }
  }
  await Promise.all(Array.from({ length: clients }, client));
  tally.seconds = (Date.now() - started) / 1000;
  tally.peakMiB = (await memoryMiB(server.proc.pid!)).peak;
  agent.destroy();
  await server.stop();
  return tally;
}

try {
  console.log(
    `podid webhook under hostile load: ${clients} HTTPS clients, ${reviews} seeded reviews per mode (${Math.round(hostileShare * 100)}% hostile bodies, 30% malformed), Node ${process.version}`,
  );
  console.log(`  server: node ${[...nodeFlags, PODID_ENTRY, 'webhook'].join(' ')}; deploy/ limit ${limitMiB} MiB`);
  let failed = false;
  for (const mode of ['enforce', 'fix'] as const) {
    const t = await run(mode);
    const share = (t.peakMiB / limitMiB) * 100;
    console.log(`  --netraw=${mode}: ${reviews} reviews in ${t.seconds.toFixed(1)} s`);
    for (const [cls, counts] of Object.entries(t.byClass)) {
      console.log(
        `    ${cls.padEnd(9)} ${Object.entries(counts)
          .sort(([, a], [, b]) => b - a)
          .map(([k, n]) => `${k}: ${n}`)
          .join(', ')}`,
      );
    }
    console.log(`    allowed malformed envelopes ${t.verdicts['allowed-malformed']}, NET_RAW bypasses ${t.verdicts.bypass}, 5xx ${t.verdicts['server-error']}`);
    console.log(`    peak RSS ${t.peakMiB.toFixed(1)} MiB = ${share.toFixed(0)}% of the ${limitMiB} MiB limit (goal: under 75%)`);
    for (const e of t.examples) console.log(`      ${e}`);
    if (t.verdicts['allowed-malformed'] || t.verdicts.bypass || t.verdicts['server-error'] || share >= 75) failed = true;
  }
  if (failed) process.exitCode = 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}

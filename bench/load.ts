// Closed-loop load for the benchmarks: N concurrent keep-alive clients for T seconds, run by podid-loadgen
// (bench/loadgen, Go), built into .cache/bin on first use. A Go client costs the 2-core machine far less CPU than
// a Node one, which took about as much as the server it measured and put its own GC pauses into the p99.

import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50ms: number;
  p99ms: number;
  maxms: number;
  firstError?: string;
}

export interface LoadSpec {
  url: string;
  method?: 'GET' | 'POST';
  /** Sent as JSON. */
  body?: unknown;
  /** CA for an https URL. */
  caPem?: string;
  headers?: Record<string, string>;
  /** A header whose value changes per request, taken in turn from `values` (e.g. each pod's token). */
  rotate?: { header: string; values: string[] };
  /** What a successful reply has: this status (200 by default) and, when set, this string in its body. */
  status?: number;
  contains?: string;
  concurrency: number;
  seconds: number;
  /** Requests per second in all, paced (open loop); unset: as fast as the clients go (closed loop). */
  rate?: number;
}

const source = resolve(import.meta.dirname, 'loadgen');
const binDir = resolve(import.meta.dirname, '../.cache/bin');
const binary = join(binDir, 'podid-loadgen');

/** Builds podid-loadgen when it is missing or its source changed (stdlib only: no module download). */
function loadgen(): string {
  const stampFile = join(binDir, '.podid-loadgen-built-from');
  const want = createHash('sha256')
    .update(readFileSync(join(source, 'main.go')))
    .update(readFileSync(join(source, 'go.mod')))
    .digest('hex');
  if (existsSync(binary) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === want) return binary;
  execFileSync('go', ['build', '-trimpath', '-o', binary, '.'], { cwd: source, stdio: 'inherit' });
  writeFileSync(stampFile, want);
  return binary;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'podid-load-'));
  try {
    const args = ['-url', spec.url, '-method', spec.method ?? 'GET', '-c', String(spec.concurrency), '-d', String(spec.seconds)];
    args.push('-status', String(spec.status ?? 200));
    if (spec.rate) args.push('-rate', String(spec.rate));
    if (spec.contains) args.push('-contains', spec.contains);
    if (spec.body !== undefined) {
      await writeFile(join(dir, 'body.json'), JSON.stringify(spec.body));
      args.push('-body', join(dir, 'body.json'));
    }
    if (spec.caPem) {
      await writeFile(join(dir, 'ca.pem'), spec.caPem);
      args.push('-cacert', join(dir, 'ca.pem'));
    }
    for (const [name, value] of Object.entries(spec.headers ?? {})) args.push('-H', `${name}: ${value}`);
    if (spec.rotate) {
      await writeFile(join(dir, 'values'), spec.rotate.values.join('\n'));
      args.push('-rotate-header', spec.rotate.header, '-rotate-values', join(dir, 'values'));
    }
    const out = await new Promise<string>((done, fail) => {
      const proc = spawn(loadgen(), args, { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      proc.stdout.on('data', (c: Buffer) => (text += c));
      proc.once('error', fail);
      proc.once('exit', (code) => (code === 0 ? done(text) : fail(new Error(`podid-loadgen exited with ${code}`))));
    });
    return JSON.parse(out) as LoadResult;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const fmt = (r: LoadResult): string =>
  `${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50ms.toFixed(2)} ms  p99 ${r.p99ms.toFixed(2)} ms  (${r.requests} requests, ${r.errors} errors, ${r.seconds.toFixed(1)} s)` +
  (r.firstError ? `\n      first error: ${r.firstError}` : '');

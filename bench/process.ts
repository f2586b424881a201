// Starting a podid server as a child process for benchmarks, and reading its memory.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { loadAll } from 'js-yaml';
import { createInterface } from 'node:readline';

/** The bundled `podid` command the default image runs, and the sidecar image's one-command bundle (npm run build). */
export const PODID_ENTRY = 'dist/podid.js';
export const SIDECAR_ENTRY = 'dist/sidecar.js';

export interface Child {
  proc: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** Spawns the built `podid <args>` (what the image runs) and waits for its "listening" log line, which carries the URL. */
export function startPodid(args: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Promise<Child> {
  return startServer(PODID_ENTRY, args, env, nodeArgs);
}

/** Spawns `node [nodeArgs] script args` and waits for a stdout line carrying `"url":"…"`. */
export function startServer(script: string, args: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Promise<Child> {
  return startCommand(process.execPath, [...nodeArgs, script, ...args], env);
}

/** Spawns `command args` (a Node script or another server, e.g. Go) and waits for a stdout line carrying `"url":"…"`. */
export async function startCommand(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Child> {
  const proc = spawn(command, args, {
    env: { ...process.env, PODID_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! });
    lines.on('line', (line) => {
      const m = /"url":"([^"]+)"/.exec(line);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited with ${code} before listening`)));
  });
  // Keep draining logs so the child never blocks on a full pipe; BENCH_CHILD_LOGS=1 shows them (on stderr).
  if (process.env.BENCH_CHILD_LOGS) proc.stdout!.pipe(process.stderr);
  else proc.stdout!.resume();
  const stop = () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  return { proc, url, stop };
}

/** Resident memory of a process in MiB, from /proc: total, private (anon), file-backed (shared code), peak. */
export async function memoryMiB(pid: number): Promise<{ rss: number; anon: number; file: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, anon: kb('RssAnon') / 1024, file: kb('RssFile') / 1024, peak: kb('VmHWM') / 1024 };
}

export const mem = (m: { rss: number; anon: number; file: number }): string =>
  `RSS ${m.rss.toFixed(1)} MiB (private ${m.anon.toFixed(1)} MiB + file-backed ${m.file.toFixed(1)} MiB)`;

interface ShippedContainer {
  name: string;
  env?: Array<{ name: string; value?: string }>;
  resources?: { limits?: { memory?: string } };
}

/** A component's container (`webhook`, `nmi`, `controller`) as deploy/base ships it. */
function shippedContainer(component: string): ShippedContainer {
  const docs = loadAll(readFileSync(`deploy/base/${component}.yaml`, 'utf8')) as Array<{ kind?: string; spec?: unknown }>;
  for (const doc of docs) {
    const spec = (doc?.spec as { template?: { spec?: { containers?: ShippedContainer[] } } })?.template?.spec;
    const container = spec?.containers?.find((c) => c.name === component);
    if (container) return container;
  }
  throw new Error(`deploy/base/${component}.yaml has no container named ${component}`);
}

/** The NODE_OPTIONS flags deploy/base gives a component's container: what ships. */
export function nodeFlagsOf(component: string): string[] {
  return (shippedContainer(component).env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '').split(' ').filter(Boolean);
}

/** A memory quantity in Mi or Gi (`256Mi` → 256), as deploy/ and the webhook's sidecar settings write limits. */
export function quantityMiB(quantity: string, where: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!m) throw new Error(`${where}: memory ${JSON.stringify(quantity)} is not in Mi or Gi`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

/** The memory limit deploy/base gives a component's container, in MiB. */
export function memoryLimitMiB(component: string): number {
  return quantityMiB(shippedContainer(component).resources?.limits?.memory ?? '', `deploy/base/${component}.yaml ${component}'s limit`);
}

/** The Node flags of the Dockerfile's `sidecar` stage ENTRYPOINT (what every pod's sidecar runs with). */
export function sidecarImageFlags(): string[] {
  const stage =
    readFileSync('Dockerfile', 'utf8')
      .split(/^FROM /m)
      .find((s) => / AS sidecar\b/.test(s)) ?? '';
  const ep = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(stage)?.[1] ?? '[]') as string[];
  return ep.slice(
    1,
    ep.findIndex((a) => a.endsWith('.js')),
  );
}

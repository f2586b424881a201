// What the network-namespace suites share: running a command (in a namespace), `ip`, and the node side
// (test/netns/node-side.ts: emulators, NMI and its iptables rules) started inside the node namespace.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = resolve(import.meta.dirname, '../..');

export function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
  timeout = 120_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(cmd, args, { env: { PATH: process.env.PATH!, ...env }, timeout, cwd: ROOT, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

export async function ip(...args: string[]): Promise<string> {
  const r = await run('ip', args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

export const inNs = (ns: string, argv: string[], env: Record<string, string> = {}) => run('ip', ['netns', 'exec', ns, ...argv], env);

export interface NodePodSpec {
  name: string;
  ip: string;
  selector: string;
}

export interface NodeSide<T> {
  ready: T;
  stop(): Promise<void>;
}

/** Starts node-side.ts in namespace `ns` with NMI on `nmiIP`:2579 and these pods; resolves with its ready line. */
export async function startNodeSide<T>(
  ns: string,
  pods: readonly NodePodSpec[],
  nmiIP: string,
  excludeInterfaces: readonly string[] = [],
): Promise<NodeSide<T>> {
  const node: ChildProcess = spawn('ip', ['netns', 'exec', ns, process.execPath, 'test/netns/node-side.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      PODS: JSON.stringify(pods.map((p) => ({ name: p.name, ip: p.ip, selector: p.selector }))),
      NMI_IP: nmiIP,
      NMI_PORT: '2579',
      EXCLUDE_INTERFACES: excludeInterfaces.join(','),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await new Promise<T>((resolvePromise, reject) => {
    createInterface({ input: node.stdout! }).once('line', (line) => resolvePromise(JSON.parse(line) as T));
    node.once('exit', (code) => reject(new Error(`the node side exited with ${code}`)));
  });
  return {
    ready,
    async stop() {
      if (node.exitCode !== null) return;
      node.kill('SIGTERM');
      await new Promise((r) => node.once('exit', r));
    },
  };
}

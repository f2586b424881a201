// `podid sidecar` as its own process, configured the way the webhook configures it in a pod (environment
// variables only), for the compatibility suite, the demo and the sidecar benchmark.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface SidecarProcess {
  proc: ChildProcess;
  tokenUrl: string;
  healthUrl: string;
  stop(): Promise<void>;
}

export interface SidecarProcessOptions {
  nmiUrl: string;
  tokenFile: string;
  identityHeader: string;
  /** `bin/podid.js` (TypeScript source, default) or `dist/sidecar.js` (the bundle the sidecar image runs). */
  entry?: string;
  nodeArgs?: string[];
  /** A command the sidecar runs under, e.g. `ip netns exec <pod namespace>`. */
  wrap?: string[];
  /** More environment (e.g. the workload-identity proxy's variables); undefined removes one of the above. */
  env?: Record<string, string | undefined>;
}

export async function startSidecarProcess(opts: SidecarProcessOptions): Promise<SidecarProcess> {
  const env = {
    PATH: process.env.PATH,
    PODID_SIDECAR_LISTEN: '127.0.0.1:0',
    PODID_SIDECAR_HEALTH_LISTEN: '127.0.0.1:0',
    PODID_NMI_URL: opts.nmiUrl,
    PODID_TOKEN_FILE: opts.tokenFile,
    PODID_IDENTITY_HEADER: opts.identityHeader,
    PODID_LOG_LEVEL: 'info',
    ...opts.env,
  };
  const argv = [...(opts.wrap ?? []), process.execPath, ...(opts.nodeArgs ?? []), opts.entry ?? 'bin/podid.js', 'sidecar'];
  const proc = spawn(argv[0]!, argv.slice(1), {
    env,
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  const urls = await new Promise<{ tokenUrl: string; healthUrl: string }>((resolve, reject) => {
    const lines = createInterface({ input: proc.stderr! });
    lines.on('line', (line) => {
      if (!line.includes('"tokenUrl"')) return process.stderr.write(`[sidecar] ${line}\n`);
      const { tokenUrl, healthUrl } = JSON.parse(line) as { tokenUrl: string; healthUrl: string };
      resolve({ tokenUrl, healthUrl });
    });
    proc.once('exit', (code) => reject(new Error(`podid sidecar exited with ${code} before listening`)));
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  return { proc, ...urls, stop };
}

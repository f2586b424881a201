// Talking to the e2e control plane: kubectl (the one test/cluster built) and raw API calls.

import { execFile } from 'node:child_process';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { BIN } from '../cluster/control-plane.ts';
import type { ClusterInfo } from './global-setup.ts';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function kubectl(cluster: ClusterInfo, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      join(BIN, 'kubectl'),
      args,
      { env: { ...process.env, KUBECONFIG: cluster.kubeconfig }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** kubectl that must succeed; returns stdout. */
export async function kube(cluster: ClusterInfo, args: string[], input?: string): Promise<string> {
  const r = await kubectl(cluster, args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export async function kubeJson<T = any>(cluster: ClusterInfo, args: string[], input?: string): Promise<T> {
  return JSON.parse(await kube(cluster, [...args, '-o', 'json'], input)) as T;
}

// One keep-alive agent per cluster: suites and benchmarks make thousands of calls.
const agents = new WeakMap<ClusterInfo, Agent>();
const agentFor = (cluster: ClusterInfo) =>
  agents.get(cluster) ?? agents.set(cluster, new Agent({ ca: cluster.caPem, keepAlive: true, maxSockets: 64 })).get(cluster)!;

export function api(
  cluster: ClusterInfo,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; body: any }> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      `${cluster.server}${path}`,
      {
        method,
        agent: agentFor(cluster),
        headers: {
          authorization: `Bearer ${cluster.token}`,
          ...(data ? { 'content-type': contentType, 'content-length': data.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The podid CRDs (deploy/base/crds.yaml), for files that need them whatever ran before. */
export async function ensureCrds(cluster: ClusterInfo): Promise<void> {
  await kube(cluster, ['apply', '-f', 'deploy/base/crds.yaml']);
  await kube(cluster, ['wait', '--for=condition=Established', '--timeout=60s', '-f', 'deploy/base/crds.yaml']);
}

// Asking a pod's injected sidecar for a token from inside the pod: `kubectl exec` into the sidecar's container (the
// kubelet and containerd run the command in the pod's network namespace, where the sidecar listens on loopback) with
// the App Service endpoint and header the webhook gave the app container.

import type { ShippedCluster } from './shipped-cluster.ts';

export interface SidecarAnswer {
  status: number;
  access_token?: string;
  error?: string;
  error_description?: string;
}

const FETCH = `const [u, h] = process.argv.slice(1);
fetch(u, { headers: { 'X-IDENTITY-HEADER': h } }).then(async (r) => console.log(JSON.stringify({ status: r.status, ...(await r.json()) })),
  (e) => console.log(JSON.stringify({ status: 0, error: String(e.cause?.code ?? e.message) })));`;

export function appEnv(pod: any, container = 0): Record<string, string> {
  return Object.fromEntries((pod.spec.containers[container].env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
}

export async function askSidecar(k: ShippedCluster, pod: any, resource: string): Promise<SidecarAnswer> {
  const env = appEnv(pod);
  const url = `${env.IDENTITY_ENDPOINT}?resource=${encodeURIComponent(resource)}&api-version=2019-08-01`;
  const r = await k.exec(pod.metadata.namespace, pod.metadata.name, 'podid-token', ['/nodejs/bin/node', '-e', FETCH, url, env.IDENTITY_HEADER ?? '']);
  if (r.code !== 0) throw new Error(`kubectl exec into ${pod.metadata.name}/podid-token failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as SidecarAnswer;
}

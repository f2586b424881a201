// Just enough of a kubelet to run podid's own containers from the objects the apiserver holds, so the e2e suite
// tests what ships: the pod spec (args, env with fieldRefs, volume mounts, service account) decides how
// `node bin/podid.js` is started, and the readiness probe decides when the pod is marked Ready (which the
// EndpointSlice controller, and so the Service, follow). Only podid's image runs; anything else is refused.
// Pod and node addresses are added to loopback inside the suite's network namespace (test/cluster/in-netns.sh).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import type { ClusterInfo } from './global-setup.ts';
import { api, eventually } from './kube.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');

/** Adds an address to loopback in this network namespace (the suite's own: never the machine's). */
export function addLoopbackAddress(ip: string): void {
  const shown = execFileSync('ip', ['-o', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' });
  if (!shown.includes(` ${ip}/`)) execFileSync('ip', ['addr', 'add', `${ip}/32`, 'dev', 'lo']);
}

export interface RunningContainer {
  name: string;
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Binds a pending pod to a node, as the scheduler would. */
export async function bindPod(cluster: ClusterInfo, namespace: string, name: string, node: string): Promise<void> {
  const r = await api(cluster, 'POST', `/api/v1/namespaces/${namespace}/pods/${name}/binding`, {
    apiVersion: 'v1',
    kind: 'Binding',
    metadata: { name, namespace },
    target: { apiVersion: 'v1', kind: 'Node', name: node },
  });
  if (r.status !== 201) throw new Error(`binding ${namespace}/${name} to ${node}: ${r.status} ${JSON.stringify(r.body)}`);
}

/** A token the kubelet would project: the pod's service account, bound to the pod, for `audience`. */
async function projectedToken(cluster: ClusterInfo, pod: any, audience: string | undefined, expirationSeconds = 3600): Promise<string> {
  const sa = pod.spec.serviceAccountName ?? 'default';
  const r = await api(cluster, 'POST', `/api/v1/namespaces/${pod.metadata.namespace}/serviceaccounts/${sa}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: {
      ...(audience ? { audiences: [audience] } : {}),
      expirationSeconds,
      boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
    },
  });
  if (r.status !== 201) throw new Error(`TokenRequest for ${pod.metadata.namespace}/${sa}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.status.token;
}

function fieldRef(pod: any, path: string, ips: { podIP: string; hostIP: string }): string {
  const values: Record<string, string> = {
    'metadata.name': pod.metadata.name,
    'metadata.namespace': pod.metadata.namespace,
    'metadata.uid': pod.metadata.uid,
    'spec.nodeName': pod.spec.nodeName,
    'spec.serviceAccountName': pod.spec.serviceAccountName ?? 'default',
    'status.hostIP': ips.hostIP,
    'status.podIP': ips.podIP,
  };
  if (!(path in values)) throw new Error(`kubelet.ts does not resolve fieldRef ${path}`);
  return values[path]!;
}

export interface RunOptions {
  podIP: string;
  hostIP: string;
  dir: string;
  /** What the node's environment adds (upstream addresses of the emulators): never overrides the pod spec. */
  nodeEnv?: Record<string, string>;
}

/** Starts one container (regular or native sidecar) of a scheduled pod as `node bin/podid.js <args>`. */
export async function runContainer(cluster: ClusterInfo, pod: any, containerName: string, o: RunOptions): Promise<RunningContainer> {
  const c = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((x: any) => x.name === containerName);
  if (!c) throw new Error(`pod ${pod.metadata.name} has no container ${containerName}`);
  if (!/(^|\/)podid(-sidecar)?(:|@)/.test(c.image)) throw new Error(`kubelet.ts runs podid's image only, not ${c.image}`);
  if (c.command) throw new Error(`podid's image is run through its entrypoint; container ${containerName} overrides command`);
  const root = join(o.dir, pod.metadata.namespace, pod.metadata.name, containerName);
  await mkdir(root, { recursive: true });

  // Volumes: each mount becomes a directory (or file) under root; paths in env and args are rewritten to it.
  const volumes = new Map<string, any>((pod.spec.volumes ?? []).map((v: any) => [v.name, v]));
  const mounts: Array<[string, string]> = [];
  for (const m of c.volumeMounts ?? []) {
    const v = volumes.get(m.name);
    const local = join(root, 'volumes', m.name);
    if (v.emptyDir) await mkdir(local, { recursive: true });
    else if (v.hostPath) {
      const hostLocal = join(o.dir, 'host', v.hostPath.path);
      await mkdir(v.hostPath.type === 'FileOrCreate' || v.hostPath.type === 'File' ? dirname(hostLocal) : hostLocal, { recursive: true });
      if (v.hostPath.type === 'FileOrCreate') await writeFile(hostLocal, '', { flag: 'a' });
      mounts.push([m.mountPath, hostLocal]);
      continue;
    } else if (v.projected) {
      await mkdir(local, { recursive: true });
      for (const src of v.projected.sources) {
        if (src.serviceAccountToken) {
          const t = src.serviceAccountToken;
          await writeFile(join(local, t.path), await projectedToken(cluster, pod, t.audience, t.expirationSeconds));
        } else if (src.configMap) {
          const cm = await api(cluster, 'GET', `/api/v1/namespaces/${pod.metadata.namespace}/configmaps/${src.configMap.name}`);
          for (const item of src.configMap.items ?? []) await writeFile(join(local, item.path), cm.body.data?.[item.key] ?? '');
        } else if (src.downwardAPI) {
          for (const item of src.downwardAPI.items ?? []) await writeFile(join(local, item.path), fieldRef(pod, item.fieldRef.fieldPath, o));
        } else throw new Error(`kubelet.ts does not project ${Object.keys(src).join(', ')} (volume ${m.name})`);
      }
    } else throw new Error(`kubelet.ts does not mount volume ${m.name} (${Object.keys(v).join(', ')})`);
    mounts.push([m.mountPath, local]);
  }
  const rewrite = (text: string) => {
    for (const [from, to] of mounts) if (text === from || text.startsWith(`${from}/`)) return to + text.slice(from.length);
    return text;
  };

  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...o.nodeEnv };
  for (const e of c.env ?? []) {
    // $(NAME) refers to a variable defined before it in the container, as the kubelet expands it.
    if (e.value !== undefined) env[e.name] = rewrite(e.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m: string, n: string) => env[n] ?? m));
    else if (e.valueFrom?.fieldRef) env[e.name] = fieldRef(pod, e.valueFrom.fieldRef.fieldPath, o);
    else throw new Error(`kubelet.ts does not resolve env ${e.name}`);
  }
  // The service account's API credentials, as in-cluster config would read them (automountServiceAccountToken).
  if (pod.spec.automountServiceAccountToken !== false) {
    const kubeconfig = join(root, 'kubeconfig');
    const token = await projectedToken(cluster, pod, undefined);
    const caFile = join(root, 'ca.crt');
    await writeFile(caFile, cluster.caPem);
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'in-cluster', cluster: { server: cluster.server, 'certificate-authority': caFile } }],
        users: [{ name: 'sa', user: { token } }],
        contexts: [{ name: 'in-cluster', context: { cluster: 'in-cluster', user: 'sa', namespace: pod.metadata.namespace } }],
        'current-context': 'in-cluster',
      }),
    );
    env.KUBECONFIG = kubeconfig;
  }
  const args = (c.args ?? []).map(rewrite);
  let out = '';
  const child = spawn(NODE, [join(ROOT, 'bin/podid.js'), ...args], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return {
    name: `${pod.metadata.namespace}/${pod.metadata.name}/${containerName}`,
    process: child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** One probe of a container's httpGet probe (named ports resolved), as the kubelet runs it. */
export function probe(pod: any, container: any, p: any, ip: string): Promise<boolean> {
  const port = typeof p.httpGet.port === 'number' ? p.httpGet.port : container.ports.find((x: any) => x.name === p.httpGet.port)?.containerPort;
  const https = p.httpGet.scheme === 'HTTPS';
  const send = https ? httpsRequest : httpRequest;
  return new Promise((done) => {
    // The kubelet does not verify an HTTPS probe's certificate.
    const req = send({ host: ip, port, path: p.httpGet.path, method: 'GET', timeout: 1000, ...(https ? { rejectUnauthorized: false } : {}) }, (res) => {
      res.resume();
      done((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
    });
    req.on('error', () => done(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Waits for the container's readiness (or startup) probe, then reports the pod Running and Ready. */
export async function markReadyWhenProbed(
  cluster: ClusterInfo,
  pod: any,
  containerName: string,
  ips: { podIP: string; hostIP: string },
  running: RunningContainer,
): Promise<void> {
  const c = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((x: any) => x.name === containerName);
  const p = c.readinessProbe ?? c.startupProbe;
  await eventually(
    `${running.name} to pass its probe`,
    async () => {
      if (running.process.exitCode !== null) throw new Error(`${running.name} exited (${running.process.exitCode}):\n${running.output()}`);
      return (await probe(pod, c, p, ips.podIP)) || undefined;
    },
    60_000,
  );
  const now = new Date().toISOString();
  const status = {
    phase: 'Running',
    hostIP: ips.hostIP,
    hostIPs: [{ ip: ips.hostIP }],
    podIP: ips.podIP,
    podIPs: [{ ip: ips.podIP }],
    startTime: now,
    conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: now })),
  };
  const cur = await api(cluster, 'GET', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`);
  const u = await api(cluster, 'PUT', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/status`, { ...cur.body, status });
  if (u.status !== 200) throw new Error(`pod status ${pod.metadata.name}: ${u.status} ${JSON.stringify(u.body)}`);
}

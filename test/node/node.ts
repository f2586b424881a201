// A real Kubernetes node for the e2e suite, inside the suite's network and mount namespaces
// (test/cluster/in-netns.sh): containerd + runc (Debian's, test/node/setup.sh), the CNI bridge and host-local
// plugins in a kubenet-style config, kubelet, kube-proxy (iptables mode) and kube-scheduler (built from
// k8s.io/kubernetes at the control plane's version by test/cluster/build.sh). podid's images (test/node/images.ts)
// are imported into containerd; pods run as containers; Services route through kube-proxy's rules.
// Each setting below is one ../shared/real-node.md found necessary on these machines; its quirk number is cited.

import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN, freePort, startLogged as start, stopChild } from '../cluster/control-plane.ts';
import { IMAGE } from './images.ts';
import { CLUSTER_CIDR, NODE_IP, POD_CIDR, POD_GATEWAY } from './network.ts';

export interface NodeOptions {
  /** The control plane's admin kubeconfig and server (on the node IP). */
  kubeconfig: string;
  server: string;
  caPem: string;
  token: string;
  /** The docker-archive of test/node/images.ts. */
  images: string;
  dir: string;
  name?: string;
}

export interface RealNode {
  name: string;
  ip: string;
  /** containerd's socket, for `ctr -a SOCKET -n k8s.io …`. */
  containerdSocket: string;
  dir: string;
  ctr(args: string[]): string;
  stop(): Promise<void>;
}

const STATE = '/run/containerd/podid';
const SOCKET = `${STATE}/containerd.sock`;
const CGROUP_ROOT = '/sys/fs/cgroup';
// Containers and shims outlive containerd and the kubelet: ended when this process exits, however it exits.
process.once('exit', () => killContainers());

async function waitFor(what: string, dir: string, log: string, check: () => boolean | Promise<boolean>, timeoutMs: number, child?: ChildProcess) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) break;
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  const text = await readFile(join(dir, `${log}.log`), 'utf8').catch(() => '');
  throw new Error(`${what} did not happen in ${timeoutMs} ms; last lines of ${log}.log:\n${text.split('\n').slice(-30).join('\n')}`);
}

/** The pids of every process in the kubepods cgroups (the pods' containers). */
function kubepodsPids(): number[] {
  const pids: number[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    try {
      for (const line of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (line) pids.push(Number(line));
    } catch {}
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
  };
  walk(join(CGROUP_ROOT, 'pids/kubepods'));
  return pids;
}

/** Ends the containers and their shims: containerd and the kubelet leave both running when they stop. */
function killContainers(): void {
  for (const pid of kubepodsPids())
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  try {
    const shims = execFileSync('pgrep', ['-f', `containerd-shim-runc-v2 .*-address ${SOCKET}`], { encoding: 'utf8' });
    for (const pid of shims.split('\n').filter(Boolean))
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {}
  } catch {}
}

/** Removes the kubepods cgroups the kubelet made, deepest first, in every hierarchy. */
function removeCgroups(): void {
  const rmTree = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rmTree(join(d, e.name));
    try {
      rmdirSync(d);
    } catch {}
  };
  for (const h of readdirSync(CGROUP_ROOT)) {
    const d = join(CGROUP_ROOT, h, 'kubepods');
    if (existsSync(d) && statSync(d).isDirectory()) rmTree(d);
  }
}

function containerdConfig(dir: string): string {
  // Quirk 2: no CAP_SYS_RESOURCE here, so nothing may lower oom_score_adj (restrict_oom_score_adj).
  return `version = 2
root = "${join(dir, 'containerd')}"
state = "${STATE}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.opt", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "${SOCKET}"
[ttrpc]
  address = "${STATE}/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${IMAGE.pause}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${join(dir, 'cni')}"
`;
}

/** kubenet's shape: one Linux bridge, host-local addresses from the node's pod range, no masquerade. */
const cniConfig = () =>
  JSON.stringify({
    cniVersion: '0.4.0',
    name: 'podid-kubenet',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        hairpinMode: true,
        ipMasq: false,
        ipam: { type: 'host-local', ranges: [[{ subnet: POD_CIDR, gateway: POD_GATEWAY }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  });

const kubeletConfig = (dir: string, healthz: number) =>
  JSON.stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // kubelet 1.35 refuses cgroup v1 unless told; this machine has v1 hierarchies.
    failCgroupV1: false,
    failSwapOn: false,
    cgroupDriver: 'cgroupfs',
    containerRuntimeEndpoint: `unix://${SOCKET}`,
    address: NODE_IP,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: healthz,
    resolvConf: '',
    podLogsDir: join(dir, 'pod-logs'),
    // Quirk 5: the apiserver can pass this kubelet's authentication (logs, exec) inside the test.
    authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
    authorization: { mode: 'AlwaysAllow' },
    evictionHard: { 'memory.available': '50Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    nodeStatusUpdateFrequency: '2s',
    nodeStatusReportFrequency: '10s',
    syncFrequency: '3s',
    fileCheckFrequency: '5s',
    serializeImagePulls: false,
    clusterDomain: 'cluster.local',
    // Projected tokens: refreshed by the kubelet at 80% of their life, as in production.
    staticPodPath: join(dir, 'manifests'),
    registerNode: true,
  });

const kubeProxyConfig = (kubeconfig: string, name: string, healthz: number, metrics: number) =>
  JSON.stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    bindAddress: NODE_IP,
    clusterCIDR: CLUSTER_CIDR,
    hostnameOverride: name,
    clientConnection: { kubeconfig },
    // The machine's conntrack table and timeouts stay as they are: 0 tells kube-proxy to leave each alone.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    healthzBindAddress: `127.0.0.1:${healthz}`,
    metricsBindAddress: `127.0.0.1:${metrics}`,
    iptables: { syncPeriod: '5s', minSyncPeriod: '0s' },
  });

async function api(o: NodeOptions, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const { request, Agent } = await import('node:https');
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      `${o.server}${path}`,
      {
        method,
        agent: new Agent({ ca: o.caPem }),
        headers: { authorization: `Bearer ${o.token}`, 'content-type': method === 'PATCH' ? 'application/json-patch+json' : 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

export async function startNode(o: NodeOptions): Promise<RealNode> {
  if (process.getuid?.() !== 0) throw new Error('the real node runs containerd and the kubelet: it needs root (CI runs as root)');
  if (process.env.PODID_IN_NETNS !== '1') throw new Error('the real node runs only inside test/cluster/in-netns.sh (its own network and mount namespaces)');
  const name = o.name ?? 'aks-nodepool1-00000000-vmss000000';
  const dir = o.dir;
  for (const d of ['cni', 'manifests', 'kubelet']) await mkdir(join(dir, d), { recursive: true });
  await mkdir(STATE, { recursive: true });
  const procs: ChildProcess[] = [];
  const ctr = (args: string[]) => execFileSync('ctr', ['-a', SOCKET, '-n', 'k8s.io', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const stop = async () => {
    for (const p of [...procs].reverse()) if (p !== procs[0]) await stopChild(p);
    killContainers();
    if (procs[0]) await stopChild(procs[0]);
    removeCgroups();
    await rm(join(dir, 'containerd'), { recursive: true, force: true }).catch(() => {});
  };
  try {
    await writeFile(join(dir, 'containerd.toml'), containerdConfig(dir));
    await writeFile(join(dir, 'cni/10-podid-kubenet.conflist'), cniConfig());
    const containerd = start(dir, 'containerd', 'containerd', ['--config', join(dir, 'containerd.toml'), '--log-level', 'warn']);
    procs.push(containerd);
    await waitFor('containerd to serve', dir, 'containerd', () => existsSync(SOCKET), 20_000, containerd);
    const importStarted = Date.now();
    ctr(['images', 'import', '--no-unpack', o.images]);
    const importMs = Date.now() - importStarted;

    // The kubelet and kube-proxy use the admin kubeconfig: the node authorizer is not what is under test.
    const kubeletHealthz = await freePort();
    await writeFile(join(dir, 'kubelet.json'), kubeletConfig(dir, kubeletHealthz));
    const kubelet = start(dir, 'kubelet', join(BIN, 'kubelet'), [
      `--config=${join(dir, 'kubelet.json')}`,
      `--kubeconfig=${o.kubeconfig}`,
      `--root-dir=/var/lib/kubelet`,
      `--cert-dir=${join(dir, 'kubelet')}`,
      `--hostname-override=${name}`,
      // Quirk 4: the kubelet refuses a loopback node IP: the namespace's veth carries it.
      `--node-ip=${NODE_IP}`,
      '--node-labels=kubernetes.io/os=linux',
      '--v=1',
    ]);
    procs.push(kubelet);
    const [proxyHealthz, proxyMetrics] = [await freePort(), await freePort()];
    await writeFile(join(dir, 'kube-proxy.json'), kubeProxyConfig(o.kubeconfig, name, proxyHealthz, proxyMetrics));
    procs.push(start(dir, 'kube-proxy', join(BIN, 'kube-proxy'), [`--config=${join(dir, 'kube-proxy.json')}`, '--v=1']));
    procs.push(
      start(dir, 'kube-scheduler', join(BIN, 'kube-scheduler'), [
        `--kubeconfig=${o.kubeconfig}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${await freePort()}`,
      ]),
    );
    // Ready, and (quirk 3) without the not-ready taint node-lifecycle-controller removes once it sees it Ready.
    await waitFor(
      `node ${name} to be Ready and schedulable`,
      dir,
      'kubelet',
      async () => {
        const r = await api(o, 'GET', `/api/v1/nodes/${name}`);
        if (r.status !== 200) return false;
        const ready = r.body.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
        return ready && !(r.body.spec.taints ?? []).some((t: any) => t.key.startsWith('node.kubernetes.io/'));
      },
      90_000,
      kubelet,
    );
    console.log(`real node ${name} Ready at ${NODE_IP} (images imported in ${importMs} ms)`);
    return { name, ip: NODE_IP, containerdSocket: SOCKET, dir, ctr, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

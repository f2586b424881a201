// A real control plane for end-to-end tests: etcd, kube-apiserver and (optionally) kube-controller-manager from
// .cache/bin (test/cluster/build.sh), in a temp dir, on free ports. On loopback; or, with `nodeIP`, the apiserver
// serves on the node's address too, so that the real node (test/node/node.ts) and its pods reach it (pods through
// the `kubernetes` Service, whose endpoint the apiserver keeps), and the controller manager runs what a node needs.

import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const BIN = resolve(import.meta.dirname, '../../.cache/bin');

export interface ControlPlane {
  dir: string;
  server: string;
  kubeconfig: string;
  caPem: string;
  token: string;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  controllerManager?: boolean;
  /** Extra kube-apiserver flags. */
  apiserverArgs?: string[];
  /** The real node's address (test/cluster/in-netns.sh puts it on the namespace's veth): serve there for it. */
  nodeIP?: string;
}

/** What a real node needs of the controller manager besides workloads: node lifecycle (the not-ready taint goes once
 * the node is Ready), the kube-root-ca.crt ConfigMap of projected token volumes, and pod GC. */
const NODE_CONTROLLERS = ['node-lifecycle-controller', 'root-ca-certificate-publisher-controller', 'pod-garbage-collector-controller'];

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolvePort(port));
    });
  });
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** Starts `cmd` with its output in `<dir>/<name>.log`; killed when this process exits. The real node uses it too. */
export function startLogged(dir: string, name: string, cmd: string, args: string[]): ChildProcess {
  const log = createWriteStream(join(dir, `${name}.log`));
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

const start = (dir: string, name: string, args: string[]) => startLogged(dir, name, join(BIN, name), args);

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function get(url: string, ca: string, token: string): Promise<number> {
  return new Promise((done) => {
    const req = request(url, { agent: new Agent({ ca }), headers: { authorization: `Bearer ${token}` }, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode ?? 0));
    });
    req.on('error', () => done(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, dir: string, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) break;
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  const log = await readFile(join(dir, `${what}.log`), 'utf8').catch(() => '');
  throw new Error(`${what} did not become ready in ${timeoutMs} ms; last log lines:\n${log.split('\n').slice(-25).join('\n')}`);
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const dir = await mkdtemp(join(tmpdir(), 'podid-cluster-'));
  const procs: ChildProcess[] = [];
  const stop = async () => {
    for (const p of procs.reverse()) await stopChild(p);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcd = start(dir, 'etcd', [
      '--name=podid-e2e',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=podid-e2e=http://127.0.0.1:${etcdPeer}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    procs.push(etcd);

    const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const saKey = join(dir, 'sa.key');
    const saPub = join(dir, 'sa.pub');
    await writeFile(saKey, sa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(saPub, sa.publicKey.export({ type: 'spki', format: 'pem' }));
    const token = randomBytes(24).toString('hex');
    await writeFile(join(dir, 'tokens.csv'), `${token},podid-e2e-admin,admin,"system:masters"\n`);

    const certDir = join(dir, 'apiserver-certs');
    const apiserver = start(dir, 'kube-apiserver', [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      `--bind-address=${opts.nodeIP ?? '127.0.0.1'}`,
      `--advertise-address=${opts.nodeIP ?? '127.0.0.1'}`,
      `--secure-port=${apiPort}`,
      `--cert-dir=${certDir}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${saPub}`,
      `--service-account-signing-key-file=${saKey}`,
      '--authorization-mode=RBAC',
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--allow-privileged=true',
      // With a node, the apiserver keeps the `kubernetes` Service's endpoint (pods' in-cluster config dials it), and
      // dials kubelets by the address they report (node names resolve nowhere here).
      ...(opts.nodeIP ? ['--kubelet-preferred-address-types=InternalIP'] : ['--endpoint-reconciler-type=none']),
      '--profiling=false',
      ...(opts.apiserverArgs ?? []),
    ]);
    procs.push(apiserver);
    const server = `https://${opts.nodeIP ?? '127.0.0.1'}:${apiPort}`;
    let caPem = '';
    await waitFor(
      'kube-apiserver',
      async () => {
        caPem ||= await readFile(join(certDir, 'apiserver.crt'), 'utf8').catch(() => '');
        return caPem !== '' && (await get(`${server}/readyz`, caPem, token)) === 200;
      },
      90_000,
      dir,
      apiserver,
    );

    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'e2e', cluster: { server, 'certificate-authority': join(certDir, 'apiserver.crt') } }],
        users: [{ name: 'admin', user: { token } }],
        contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'admin', namespace: 'default' } }],
        'current-context': 'e2e',
      }),
    );

    if (opts.controllerManager) {
      const kcm = start(dir, 'kube-controller-manager', [
        `--kubeconfig=${kubeconfig}`,
        `--service-account-private-key-file=${saKey}`,
        `--root-ca-file=${join(certDir, 'apiserver.crt')}`,
        '--use-service-account-credentials',
        `--controllers=${[
          'serviceaccount-controller',
          'serviceaccount-token-controller',
          'deployment-controller',
          'replicaset-controller',
          'daemonset-controller',
          'endpointslice-controller',
          'job-controller',
          'cronjob-controller',
          'garbage-collector-controller',
          'namespace-controller',
          // PodDisruptionBudget status, which evictions (kubectl drain) are judged against.
          'disruption-controller',
          ...(opts.nodeIP ? NODE_CONTROLLERS : []),
        ].join(',')}`,
        ...(opts.nodeIP ? ['--node-monitor-grace-period=20s'] : []),
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${await freePort()}`,
      ]);
      procs.push(kcm);
      // Ready when the service-account controller has made the default namespace's service account.
      await waitFor(
        'kube-controller-manager',
        async () => (await get(`${server}/api/v1/namespaces/default/serviceaccounts/default`, caPem, token)) === 200,
        60_000,
        dir,
        kcm,
      );
    }
    return { dir, server, kubeconfig, caPem, token, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

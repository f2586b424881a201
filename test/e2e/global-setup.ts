// Starts one control plane and one real node (kubelet + containerd + CNI bridge + kube-proxy + scheduler:
// test/node/node.ts) for the whole e2e run, and stops both afterwards, pass or fail. The binaries and images are
// built before the run enters its namespace (npm run test:e2e: test/cluster/build.sh, test/node/images.ts).

import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startControlPlane } from '../cluster/control-plane.ts';
import { IMAGES_ARCHIVE } from '../node/images.ts';
import { NODE_IP } from '../node/network.ts';
import { startNode } from '../node/node.ts';

export interface ClusterInfo {
  server: string;
  kubeconfig: string;
  caPem: string;
  token: string;
}

export interface NodeInfo {
  name: string;
  ip: string;
  containerdSocket: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ClusterInfo;
    node: NodeInfo;
  }
}

export default async function setup(project: TestProject) {
  // The apiserver dials what webhook configurations name (a Service's cluster IP, too): never off this machine.
  const routes = execFileSync('ip', ['route', 'show', 'default'], { encoding: 'utf8' }).trim();
  if (routes || process.env.PODID_IN_NETNS !== '1') {
    throw new Error(
      `the e2e suite must run in its own network namespace with no route out (npm run test:e2e uses test/cluster/in-netns.sh)${routes ? `; this one routes ${routes}` : ''}`,
    );
  }
  const started = Date.now();
  const cp = await startControlPlane({ controllerManager: true, nodeIP: NODE_IP });
  console.log(`control plane ready in ${Date.now() - started} ms at ${cp.server}`);
  const dir = await mkdtemp(join(tmpdir(), 'podid-node-'));
  const node = await startNode({ ...cp, images: IMAGES_ARCHIVE, dir }).catch(async (err) => {
    await cp.stop();
    throw err;
  });
  console.log(`control plane and node ready in ${Date.now() - started} ms`);
  project.provide('cluster', { server: cp.server, kubeconfig: cp.kubeconfig, caPem: cp.caPem, token: cp.token });
  project.provide('node', { name: node.name, ip: node.ip, containerdSocket: node.containerdSocket });
  return async () => {
    if (process.env.PODID_E2E_KEEP_LOGS) console.log(`node logs kept in ${dir}`);
    await node.stop();
    await cp.stop();
    if (!process.env.PODID_E2E_KEEP_LOGS) await rm(dir, { recursive: true, force: true });
  };
}

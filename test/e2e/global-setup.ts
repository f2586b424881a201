// Builds (or finds cached) control-plane binaries, starts one control plane for the whole e2e run,
// and stops it afterwards, pass or fail.

import { execFileSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import type { TestProject } from 'vitest/node';
import { startControlPlane } from '../cluster/control-plane.ts';

export interface ClusterInfo {
  server: string;
  kubeconfig: string;
  caPem: string;
  token: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ClusterInfo;
  }
}

/** The network interfaces with addresses: inside the e2e namespace only loopback. */
function nonLoopbackInterfaces(): string[] {
  return Object.entries(networkInterfaces())
    .filter(([, addrs]) => (addrs ?? []).some((a) => !a.internal))
    .map(([name]) => name);
}

export default async function setup(project: TestProject) {
  // The apiserver dials what webhook configurations name (a Service's cluster IP, too): never off this machine.
  const outside = nonLoopbackInterfaces();
  if (outside.length) {
    throw new Error(`the e2e suite must run in its own network namespace (npm run test:e2e uses test/cluster/in-netns.sh); this one has ${outside.join(', ')}`);
  }
  execFileSync('bash', ['test/cluster/build.sh'], { stdio: 'inherit' });
  const started = Date.now();
  const cp = await startControlPlane({ controllerManager: true });
  console.log(`control plane ready in ${Date.now() - started} ms at ${cp.server}`);
  project.provide('cluster', { server: cp.server, kubeconfig: cp.kubeconfig, caPem: cp.caPem, token: cp.token });
  return async () => {
    await cp.stop();
  };
}

// Builds (or finds cached) control-plane binaries, starts one control plane for the whole e2e run,
// and stops it afterwards, pass or fail.

import { execFileSync } from 'node:child_process';
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

export default async function setup(project: TestProject) {
  execFileSync('bash', ['test/cluster/build.sh'], { stdio: 'inherit' });
  const started = Date.now();
  const cp = await startControlPlane({ controllerManager: true });
  console.log(`control plane ready in ${Date.now() - started} ms at ${cp.server}`);
  project.provide('cluster', { server: cp.server, kubeconfig: cp.kubeconfig, caPem: cp.caPem, token: cp.token });
  return async () => {
    await cp.stop();
  };
}

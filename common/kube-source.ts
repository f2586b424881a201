// Where a podid process finds its cluster, in kubectl's order: --kubeconfig, $KUBECONFIG (its first existing file),
// ~/.kube/config, then the pod's service account (in-cluster). When none is there the error names each source and
// what was found of it, as kubectl does, instead of a client library's guess (client-node falls back to
// http://localhost:8080 and then fails with "HTTP protocol is not allowed when skipTLSVerify is not set or false").

import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type KubeSource = { kind: 'file'; path: string } | { kind: 'in-cluster'; host: string };

export class NoClusterConfig extends Error {}

/** The service account files a pod has (kubelet mounts them here). */
export const IN_CLUSTER_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeSourceInputs {
  flag?: string;
  env: NodeJS.ProcessEnv;
  home: string;
  exists: (path: string) => boolean;
}

/** Pure: the first source that is there, or NoClusterConfig naming every source tried. */
export function findKubeSource({ flag, env, home, exists }: KubeSourceInputs): KubeSource {
  if (flag) return { kind: 'file', path: flag };
  const listed = (env.KUBECONFIG ?? '').split(':').filter(Boolean);
  const fromEnv = listed.find(exists);
  if (fromEnv) return { kind: 'file', path: fromEnv };
  const homeConfig = join(home, '.kube', 'config');
  if (exists(homeConfig)) return { kind: 'file', path: homeConfig };
  const host = env.KUBERNETES_SERVICE_HOST;
  if (host && exists(join(IN_CLUSTER_DIR, 'token'))) return { kind: 'in-cluster', host };
  const tried = [
    '--kubeconfig (not set)',
    listed.length ? `KUBECONFIG (${listed.join(', ')}: no such file)` : 'KUBECONFIG (not set)',
    `~/.kube/config (${homeConfig}: no such file)`,
    host ? `in-cluster (${join(IN_CLUSTER_DIR, 'token')}: no such file)` : 'in-cluster (KUBERNETES_SERVICE_HOST is not set)',
  ];
  throw new NoClusterConfig(`no Kubernetes configuration found; tried ${tried.join(', ')}. Pass --kubeconfig FILE or set KUBECONFIG`);
}

/** findKubeSource for this process. */
export const kubeSource = (flag?: string, env: NodeJS.ProcessEnv = process.env): KubeSource =>
  findKubeSource({ flag, env, home: homedir(), exists: existsSync });

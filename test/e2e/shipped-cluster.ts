// podid's manifests run as a cluster runs them, for the suites that test what ships (shipped.e2e.ts,
// standard.e2e.ts, node.e2e.ts): the real node's kubelet runs the pods the scheduler puts on it, from the images
// test/node/images.ts imported into its containerd; the apiserver reaches the webhook through its Service, which
// kube-proxy's iptables rules route to the webhook's pods.
//
// Where the emulated Azure is, the node's operator says in a kustomize overlay of the shipped base (emulatorOverlay):
// the authority host, the CA that signs the emulators' certificates (a hostPath, read-only), the log level. The base
// itself is applied unchanged; the IMDS emulator answers at the real metadata address inside the suite's namespace,
// so NMI's default --imds-url stays as shipped.

import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { IdentityType } from '../../identity/crds.ts';
import { identityManifests } from '../../identity/manifests.ts';
import type { ManagedIdentity } from '../../emulators/tenant.ts';
import type { ClusterInfo, NodeInfo } from './global-setup.ts';
import { eventually, kube, kubeJson, kubectl } from './kube.ts';

export const SYSTEM = 'podid-system';
const ROOT = resolve(import.meta.dirname, '../..');

/** The emulators' coordinates, as the overlay gives them to podid's containers. */
export interface EmulatorEnv {
  /** The emulators' CA certificate file (its directory is mounted read-only at the same path). */
  caFile: string;
  env: Record<string, string>;
}

/** What the emulated world tells podid's containers: its AAD and CA, and the suite's log level. */
export function emulatorEnv(world: { aad: { url: string }; tls: { caFile: string } }, extra: Record<string, string> = {}): EmulatorEnv {
  return {
    caFile: world.tls.caFile,
    env: { PODID_AUTHORITY_HOST: world.aad.url, PODID_EXTRA_CA_FILE: world.tls.caFile, PODID_LOG_LEVEL: process.env.PODID_E2E_LOG_LEVEL ?? 'warn', ...extra },
  };
}

/** The workloads that talk to Azure, by kind, name and container. */
export const NMI = ['DaemonSet', 'podid-nmi', 'nmi'] as const;
export const CONTROLLER = ['Deployment', 'podid-controller', 'controller'] as const;

/** A kustomize overlay of `base` (a folder of this repo) that points `targets` at the emulators. */
export async function emulatorOverlay(
  dir: string,
  base: string,
  emulators: EmulatorEnv,
  targets: ReadonlyArray<readonly [string, string, string]>,
): Promise<string> {
  const overlay = join(dir, 'overlay');
  await mkdir(overlay, { recursive: true });
  const caDir = dirname(emulators.caFile);
  // A public certificate only; the containers run as other users than the test (the controller as 65532).
  await chmod(caDir, 0o755);
  const env = Object.entries(emulators.env).map(([name, value]) => ({ name, value }));
  // Strategic merge: env, mounts and volumes are merged by name into what the base has.
  const patch = (kind: string, name: string, container: string) => ({
    target: { kind, name },
    patch: JSON.stringify({
      apiVersion: 'apps/v1',
      kind,
      metadata: { name },
      spec: {
        template: {
          spec: {
            containers: [{ name: container, env, volumeMounts: [{ name: 'e2e-emulator-ca', mountPath: caDir, readOnly: true }] }],
            volumes: [{ name: 'e2e-emulator-ca', hostPath: { path: caDir, type: 'Directory' } }],
          },
        },
      },
    }),
  });
  await writeFile(
    join(overlay, 'kustomization.yaml'),
    JSON.stringify({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: [relative(overlay, join(ROOT, base))],
      patches: targets.map(([kind, name, container]) => patch(kind, name, container)),
    }),
  );
  return overlay;
}

/** An AzureIdentity (type 0) and its AzureIdentityBinding for each emulated managed identity, selected by `name`. */
export async function bindManagedIdentities(
  cluster: ClusterInfo,
  namespace: string,
  identities: ReadonlyArray<readonly [string, ManagedIdentity]>,
): Promise<void> {
  const items = identities.flatMap(([name, msi]) =>
    identityManifests({ name, namespace, type: IdentityType.UserAssignedMSI, clientID: msi.clientId, resourceID: msi.resourceId, selector: name }),
  );
  const r = await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  if (r.code !== 0) throw new Error(`kubectl apply (identities): ${r.stderr}`);
}

/** Installs `base` with the emulator overlay and waits until the node runs every podid pod Ready and the apiserver is
 * admitting through the webhook Service (the webhook publishes its caBundle first). */
export async function installOnNode(
  k: ShippedCluster,
  dir: string,
  base: string,
  emulators: EmulatorEnv,
  targets: ReadonlyArray<readonly [string, string, string]>,
): Promise<void> {
  const applied = await kubectl(k.cluster, ['apply', '-k', await emulatorOverlay(dir, base, emulators, targets)]);
  if (applied.code !== 0) throw new Error(`kubectl apply -k ${base} (with the emulator overlay): ${applied.stderr}`);
  await k.readyPods(SYSTEM, 'app.kubernetes.io/name=podid-webhook', 2);
  await k.readyPods(SYSTEM, 'app.kubernetes.io/name=podid-nmi');
  await k.readyPods(SYSTEM, 'app.kubernetes.io/name=podid-controller');
  const probe = JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'probe', labels: { aadpodidbinding: 'x' } },
    spec: { containers: [{ name: 'c', image: 'x' }] },
  });
  await eventually(
    'the webhook to answer through its Service',
    async () => {
      const r = await kubectl(k.cluster, ['create', '--dry-run=server', '-n', 'default', '-o', 'json', '-f', '-'], probe);
      return r.code === 0 && JSON.parse(r.stdout).spec.initContainers?.length ? true : undefined;
    },
    60_000,
  );
}

const ready = (p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');

export class ShippedCluster {
  readonly cluster: ClusterInfo;
  readonly node: NodeInfo;

  constructor(cluster: ClusterInfo, node: NodeInfo) {
    this.cluster = cluster;
    this.node = node;
  }

  /**
   * Removes another suite's podid install (its webhooks would refuse labeled pods; its certificates are its own).
   * The servers go first, and are waited for until their pods are gone: a webhook pod still running would write its
   * Secret and caBundle again over the next suite's.
   */
  async uninstall(): Promise<void> {
    await kubectl(this.cluster, ['delete', 'deployment,daemonset', '--all', '-n', SYSTEM, '--ignore-not-found', '--cascade=foreground', '--wait=true']);
    await kubectl(this.cluster, ['wait', '--for=delete', 'pod', '--all', '-n', SYSTEM, '--timeout=120s']);
    await kubectl(this.cluster, ['delete', 'mutatingwebhookconfiguration,validatingwebhookconfiguration', 'podid', '--ignore-not-found']);
    await kubectl(this.cluster, ['delete', 'secret', 'podid-webhook-tls', '-n', SYSTEM, '--ignore-not-found']);
  }

  async pods(ns: string, selector: string): Promise<any[]> {
    return (await kubeJson(this.cluster, ['get', 'pods', '-n', ns, '-l', selector])).items.filter((p: any) => !p.metadata.deletionTimestamp);
  }

  /** The newest ReplicaSet's pods of a Deployment (pods of earlier revisions are left alone). */
  async newestPods(ns: string, deployment: string): Promise<any[]> {
    const sets = (await kubeJson(this.cluster, ['get', 'replicasets', '-n', ns])).items.filter((rs: any) =>
      rs.metadata.ownerReferences?.some((o: any) => o.name === deployment),
    );
    const revision = (rs: any) => Number(rs.metadata.annotations['deployment.kubernetes.io/revision']);
    const newest = sets.sort((a: any, b: any) => revision(b) - revision(a))[0];
    return newest ? this.pods(ns, `pod-template-hash=${newest.metadata.labels['pod-template-hash']}`) : [];
  }

  /** Waits until `count` pods matching `selector` are Ready on the node (their probes passed, as the kubelet ran them). */
  async readyPods(ns: string, selector: string, count = 1, timeoutMs = 120_000): Promise<any[]> {
    return eventually(
      `${count} Ready pod(s) ${ns}/${selector}`,
      async () => {
        const pods = (await this.pods(ns, selector)).filter(ready);
        return pods.length >= count ? pods : undefined;
      },
      timeoutMs,
    );
  }

  /** Waits until one container of a pod is running and ready (a native sidecar, while the app's image is absent). */
  async containerReady(ns: string, pod: string, container: string, timeoutMs = 120_000): Promise<any> {
    return eventually(
      `container ${container} of ${ns}/${pod} to be ready`,
      async () => {
        const p = await kubeJson(this.cluster, ['get', 'pod', pod, '-n', ns]);
        const st = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].find((s: any) => s.name === container);
        return st?.ready && st.state?.running ? p : undefined;
      },
      timeoutMs,
    );
  }

  /** `kubectl exec` into a container: the kubelet and containerd run the command in the pod's namespaces. */
  async exec(ns: string, pod: string, container: string, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return kubectl(this.cluster, ['exec', '-n', ns, pod, '-c', container, '--', ...argv]);
  }

  async logs(ns: string, pod: string, container: string): Promise<string> {
    return kube(this.cluster, ['logs', '-n', ns, pod, '-c', container]);
  }

  /** uninstall(), and what else the real servers wrote: the controller's Lease and ownership records. */
  async cleanup(): Promise<void> {
    await this.uninstall();
    await kubectl(this.cluster, ['delete', 'lease', 'podid-controller', '-n', SYSTEM, '--ignore-not-found']);
    await kubectl(this.cluster, ['delete', 'configmap', '-l', 'podid.io/arm-ownership', '-n', SYSTEM, '--ignore-not-found']);
  }
}

// podid's manifests run as a cluster runs them, for the suites that test what ships (shipped.e2e.ts,
// standard.e2e.ts): nodes registered like the cloud provider registers them, pods scheduled on them, their podid
// containers started by kubelet.ts, everything removed afterwards (bound pods have no kubelet to confirm their
// deletion, so they are removed with --force).

import type { ClusterInfo } from './global-setup.ts';
import { addLoopbackAddress, bindPod, markReadyWhenProbed, runContainer, type RunningContainer } from './kubelet.ts';
import { api, kubeJson, kubectl } from './kube.ts';

export const SYSTEM = 'podid-system';

export class ShippedCluster {
  readonly running: RunningContainer[] = [];
  private readonly bound: Array<[string, string]> = [];
  private readonly nodes: string[] = [];
  private readonly cluster: ClusterInfo;
  private readonly dir: string;
  /** What the nodes' environment adds: where the emulated Azure is. Never overrides a pod spec. */
  private readonly nodeEnv: Record<string, string>;

  constructor(cluster: ClusterInfo, dir: string, nodeEnv: Record<string, string>) {
    this.cluster = cluster;
    this.dir = dir;
    this.nodeEnv = nodeEnv;
  }

  /** Removes another suite's podid install (its webhooks would refuse labeled pods; its certificates are its own). */
  async uninstall(): Promise<void> {
    await kubectl(this.cluster, ['delete', 'mutatingwebhookconfiguration,validatingwebhookconfiguration', 'podid', '--ignore-not-found']);
    await kubectl(this.cluster, ['delete', 'deployment,daemonset', '--all', '-n', SYSTEM, '--ignore-not-found']);
    await kubectl(this.cluster, ['delete', 'secret', 'podid-webhook-tls', '-n', SYSTEM, '--ignore-not-found']);
  }

  /** A Linux node with an internal IP (on loopback here) and, for standard mode, an Azure provider ID. */
  async node(name: string, ip: string, providerID?: string): Promise<void> {
    addLoopbackAddress(ip);
    const r = await api(this.cluster, 'POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': name } },
      spec: providerID ? { providerID } : {},
    });
    if (r.status !== 201) throw new Error(`node ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    this.nodes.push(name);
    await api(this.cluster, 'PUT', `/api/v1/nodes/${name}/status`, { ...r.body, status: { addresses: [{ type: 'InternalIP', address: ip }] } });
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

  /** Schedules a pod on `node` (as the scheduler would) and reports it Running with `podIP`, no container started. */
  async schedule(pod: any, node: string, podIP: string, hostIP: string): Promise<any> {
    if (!pod.spec.nodeName) await bindPod(this.cluster, pod.metadata.namespace, pod.metadata.name, node);
    this.bound.push([pod.metadata.namespace, pod.metadata.name]);
    return (await api(this.cluster, 'GET', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`)).body;
  }

  /** Schedules a pod, runs one of its podid containers and reports it Ready once its probe passes. */
  async start(pod: any, container: string, at: { node: string; podIP: string; hostIP: string }): Promise<RunningContainer> {
    addLoopbackAddress(at.podIP);
    const fresh = await this.schedule(pod, at.node, at.podIP, at.hostIP);
    const c = await runContainer(this.cluster, fresh, container, { podIP: at.podIP, hostIP: at.hostIP, dir: this.dir, nodeEnv: this.nodeEnv });
    this.running.push(c);
    await markReadyWhenProbed(this.cluster, fresh, container, at, c);
    return c;
  }

  /** A pod the node's kubelet has finished: removed at once. */
  async forceDelete(ns: string, names: string[]): Promise<void> {
    if (names.length) await kubectl(this.cluster, ['delete', 'pod', ...names, '-n', ns, '--force', '--grace-period=0', '--ignore-not-found']);
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.running.map((c) => c.stop()));
    if (process.env.PODID_E2E_LOG_LEVEL) for (const c of this.running) console.log(`--- ${c.name}\n${c.output()}`);
    for (const [ns, name] of this.bound) await this.forceDelete(ns, [name]);
    for (const node of this.nodes) await kubectl(this.cluster, ['delete', 'node', node, '--ignore-not-found']);
    await kubectl(this.cluster, ['delete', 'mutatingwebhookconfiguration,validatingwebhookconfiguration', 'podid', '--ignore-not-found']);
    // What the real servers wrote: the webhook's certificate Secret, the controller's Lease and ownership records.
    await kubectl(this.cluster, ['delete', 'secret', 'podid-webhook-tls', '-n', SYSTEM, '--ignore-not-found']);
    await kubectl(this.cluster, ['delete', 'lease', 'podid-controller', '-n', SYSTEM, '--ignore-not-found']);
    await kubectl(this.cluster, ['delete', 'configmap', '-l', 'podid.io/arm-ownership', '-n', SYSTEM, '--ignore-not-found']);
    await kubectl(this.cluster, ['delete', 'deployment,daemonset', '--all', '-n', SYSTEM, '--ignore-not-found']);
  }
}

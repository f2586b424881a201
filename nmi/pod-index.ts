// The pods of this node, indexed by IP and by namespace/name so every lookup is O(1). Holds only what
// NMI needs of a pod, so memory follows the node's pod count, not the cluster's.

import { Waiters } from '../common/waiters.ts';
import type { PodRef } from '../identity/crds.ts';

export interface NodePod extends PodRef {
  uid: string;
  ips: string[];
  serviceAccount: string;
  hostNetwork: boolean;
  /** Audiences of the pod's projected service-account tokens: one for NMI's --token-audience means the pod can prove
   * who it is (podid's sidecar presents it), so NMI serves it only on that proof, never by source address. */
  tokenAudiences?: readonly string[];
}

/** The audiences of a pod spec's projected serviceAccountToken sources (the kubelet's default audience is ''). */
function projectedAudiences(spec: Record<string, unknown>): string[] {
  const out = new Set<string>();
  for (const v of Array.isArray(spec.volumes) ? spec.volumes : [])
    for (const src of Array.isArray(rec(rec(v).projected).sources) ? (rec(rec(v).projected).sources as unknown[]) : []) {
      const t = rec(src).serviceAccountToken;
      if (t && typeof t === 'object') out.add(str(rec(t).audience));
    }
  return [...out];
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const rec = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** A Kubernetes Pod object (as the API returns it) → NodePod; undefined when it has no name. */
export function toNodePod(obj: unknown): NodePod | undefined {
  const meta = rec(rec(obj).metadata);
  const spec = rec(rec(obj).spec);
  const status = rec(rec(obj).status);
  const name = str(meta.name);
  if (!name) return undefined;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec(meta.labels))) if (typeof v === 'string') labels[k] = v;
  const ips = new Set<string>();
  if (str(status.podIP)) ips.add(str(status.podIP));
  for (const p of Array.isArray(status.podIPs) ? status.podIPs : []) if (str(rec(p).ip)) ips.add(str(rec(p).ip));
  return {
    name,
    namespace: str(meta.namespace) || 'default',
    uid: str(meta.uid),
    labels,
    ips: [...ips],
    serviceAccount: str(spec.serviceAccountName) || 'default',
    hostNetwork: spec.hostNetwork === true,
    tokenAudiences: projectedAudiences(spec),
  };
}

const key = (namespace: string, name: string) => `${namespace}/${name}`;
/** How many deleted pods' UIDs NMI remembers (a node's churn over minutes; 36 bytes each). */
const FORGOTTEN_KEPT = 4096;

export class PodIndex {
  private readonly byKey = new Map<string, NodePod>();
  private readonly byAddress = new Map<string, NodePod>();
  private readonly waiters = new Waiters<NodePod>();
  private readonly forgotten: Array<(pod: NodePod) => void> = [];
  /** UIDs of pods that left, newest last, at most FORGOTTEN_KEPT: their tokens are refused without a wait. */
  private readonly gone = new Set<string>();

  /** Calls `listener` with each pod that leaves the node: deleted, or replaced by another pod of the same name. */
  onForget(listener: (pod: NodePod) => void): void {
    this.forgotten.push(listener);
  }

  wasForgotten(uid: string): boolean {
    return this.gone.has(uid);
  }

  private forget(pod: NodePod): void {
    if (pod.uid) {
      this.gone.delete(pod.uid);
      this.gone.add(pod.uid);
      for (const uid of this.gone) {
        if (this.gone.size <= FORGOTTEN_KEPT) break;
        this.gone.delete(uid);
      }
    }
    for (const f of this.forgotten) f(pod);
  }

  get size(): number {
    return this.byKey.size;
  }

  pods(): IterableIterator<NodePod> {
    return this.byKey.values();
  }

  upsert(pod: NodePod): void {
    const k = key(pod.namespace, pod.name);
    const old = this.byKey.get(k);
    if (old) this.dropAddresses(old);
    this.byKey.set(k, pod);
    this.gone.delete(pod.uid);
    if (old && old.uid !== pod.uid) this.forget(old);
    // Host-network pods share the node's address: it identifies none of them.
    if (!pod.hostNetwork) for (const ip of pod.ips) this.byAddress.set(ip, pod);
    this.waiters.wake(k, pod);
    for (const ip of pod.ips) this.waiters.wake(`ip:${ip}`, pod);
  }

  remove(namespace: string, name: string): NodePod | undefined {
    const k = key(namespace, name);
    const old = this.byKey.get(k);
    if (!old) return undefined;
    this.byKey.delete(k);
    this.dropAddresses(old);
    return old;
  }

  /** The pod was deleted (the watch said so): removed, and remembered as gone. */
  deleted(namespace: string, name: string): NodePod | undefined {
    const old = this.remove(namespace, name);
    if (old) this.forget(old);
    return old;
  }

  byName(namespace: string, name: string): NodePod | undefined {
    return this.byKey.get(key(namespace, name));
  }

  byIP(ip: string): NodePod | undefined {
    return this.byAddress.get(normalizeIP(ip));
  }

  /** The pod, waiting up to `timeoutMs` for a brand-new one the informer has not delivered yet. */
  waitByName(namespace: string, name: string, timeoutMs: number): Promise<NodePod | undefined> {
    return this.wait(key(namespace, name), () => this.byName(namespace, name), timeoutMs);
  }

  waitByIP(ip: string, timeoutMs: number): Promise<NodePod | undefined> {
    const addr = normalizeIP(ip);
    return this.wait(`ip:${addr}`, () => this.byIP(addr), timeoutMs);
  }

  private wait(k: string, now: () => NodePod | undefined, timeoutMs: number): Promise<NodePod | undefined> {
    const found = now();
    if (found || timeoutMs <= 0) return Promise.resolve(found);
    return this.waiters.wait(k, timeoutMs);
  }

  private dropAddresses(pod: NodePod): void {
    for (const ip of pod.ips) if (this.byAddress.get(ip) === pod) this.byAddress.delete(ip);
  }
}

/** `::ffff:10.0.0.5` (an IPv4 peer on a dual-stack socket) → `10.0.0.5`. */
export function normalizeIP(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

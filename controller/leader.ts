// Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does it: the holder renews
// every retry period; another replica takes over once renewTime + leaseDurationSeconds has passed; a holder
// that cannot renew within the renew deadline steps down (the process exits and its Deployment restarts it);
// a holder shutting down releases the Lease so the standby takes over at once.

import { statusOf, type KubeClient } from '../common/kube-client.ts';
import type { Logger } from '../common/log.ts';

export interface LeaseView {
  holder?: string;
  renewTime?: Date;
  durationSeconds?: number;
}

/**
 * This process's name in the Lease: the replica's (pod) name and a per-process suffix, as kube-controller-manager
 * names itself (host name + "_" + a UUID). A container the kubelet restarts inside the same pod is then a new
 * candidate: it waits out its killed predecessor's Lease like any other replica instead of renewing it as its own.
 */
export const candidateIdentity = (replica: string, processId: string): string => `${replica}_${processId}`;

/** What a candidate does with the Lease as read: take it (free or expired), renew it (its own) or wait. */
export function leaseDecision(lease: LeaseView | undefined, me: string, now: Date): 'acquire' | 'renew' | 'wait' {
  if (!lease?.holder) return 'acquire';
  if (lease.holder === me) return 'renew';
  const expires = (lease.renewTime?.getTime() ?? 0) + (lease.durationSeconds ?? 15) * 1000;
  return now.getTime() >= expires ? 'acquire' : 'wait';
}

export interface ElectionSettings {
  kube: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  leaseSeconds: number;
  renewDeadlineMs: number;
  retryMs: number;
  log: Logger;
}

export interface Election {
  /** Resolves when this replica leads. */
  leading: Promise<void>;
  /** Resolves when this replica, having led, lost the Lease. */
  lost: Promise<void>;
  /** Stops campaigning; a leader releases the Lease. */
  stop(): Promise<void>;
}

/**
 * A Lease's acquireTime and renewTime are MicroTime: RFC 3339 with exactly six fractional digits (a Date's ISO form
 * has three, which the apiserver refuses).
 */
export const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

export function startElection(s: ElectionSettings): Election {
  const leases = `/apis/coordination.k8s.io/v1/namespaces/${s.namespace}/leases`;
  const api = {
    read: () => s.kube.request<Lease>('GET', `${leases}/${s.name}`),
    replace: (body: Lease) => s.kube.request('PUT', `${leases}/${s.name}`, { body }),
    create: (body: Lease) => s.kube.request('POST', leases, { body }),
  };
  let leader = false;
  let stopped = false;
  let lastRenew = 0;
  let timer: NodeJS.Timeout | undefined;
  let becameLeader!: () => void;
  let lostLease!: () => void;
  const leading = new Promise<void>((r) => (becameLeader = r));
  const lost = new Promise<void>((r) => (lostLease = r));

  const spec = (acquireTime: string | undefined, transitions: number) => ({
    holderIdentity: s.identity,
    leaseDurationSeconds: s.leaseSeconds,
    acquireTime: acquireTime ?? microTime(new Date()),
    renewTime: microTime(new Date()),
    leaseTransitions: transitions,
  });

  async function attempt(): Promise<void> {
    let current: Lease | undefined;
    try {
      current = await api.read();
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    const view = current?.spec && {
      holder: current.spec.holderIdentity,
      renewTime: current.spec.renewTime ? new Date(current.spec.renewTime) : undefined,
      durationSeconds: current.spec.leaseDurationSeconds,
    };
    const decision = leaseDecision(view, s.identity, new Date());
    if (decision === 'wait') return;
    const transitions = (current?.spec?.leaseTransitions ?? 0) + (decision === 'acquire' && current ? 1 : 0);
    const body: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: s.name, namespace: s.namespace, resourceVersion: current?.metadata?.resourceVersion },
      spec: spec(decision === 'renew' ? current?.spec?.acquireTime : undefined, transitions),
    };
    // resourceVersion makes the write conditional: of two replicas racing, one gets 409 and waits.
    if (current) await api.replace(body);
    else await api.create(body);
    lastRenew = Date.now();
    if (!leader) {
      leader = true;
      s.log.info({ lease: `${s.namespace}/${s.name}`, identity: s.identity }, 'became the leader');
      becameLeader();
    }
  }

  async function loop(): Promise<void> {
    if (stopped) return;
    try {
      await attempt();
    } catch (err) {
      if (statusOf(err) !== 409) s.log.warn({ err: (err as Error).message, code: statusOf(err) }, 'cannot read or write the leader Lease');
    }
    if (leader && Date.now() - lastRenew > s.renewDeadlineMs) {
      leader = false;
      s.log.error({ lease: `${s.namespace}/${s.name}` }, 'lost the leader Lease (could not renew in time)');
      lostLease();
      return;
    }
    if (!stopped) timer = setTimeout(() => void loop(), s.retryMs);
  }
  void loop();

  return {
    leading,
    lost,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      if (!leader) return;
      leader = false;
      try {
        const current = await api.read();
        if (current.spec?.holderIdentity !== s.identity) return;
        current.spec = { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(new Date(0)) };
        await api.replace(current);
        s.log.info({ lease: `${s.namespace}/${s.name}` }, 'released the leader Lease');
      } catch (err) {
        s.log.warn({ err: (err as Error).message }, 'cannot release the leader Lease; the standby takes over when it expires');
      }
    },
  };
}

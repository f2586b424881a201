// Kubernetes Events podid writes, for what an object's owner should see with `kubectl describe` (NMI on pods, e.g. a
// pod holding several identities asking without naming one; the controller on bindings). The same event is written
// at most once per object and reason in a window, so a busy pod cannot flood the apiserver.

import { statusOf, type KubeClient } from './kube-client.ts';
import type { Logger } from './log.ts';

/** What an Event needs of its object: a pod by default; `kind` and `apiVersion` name another (a binding). */
export interface EventPod {
  name: string;
  namespace: string;
  uid: string;
  kind?: string;
  apiVersion?: string;
}

export interface PodEvents {
  warn(pod: EventPod, reason: string, message: string): void;
}

/** Forwards an event only when this pod (by UID) has not had one with this reason within `windowMs`. */
export function dedupedEvents(inner: PodEvents, windowMs = 10 * 60_000, now = () => Date.now(), maxKeys = 10_000): PodEvents {
  const last = new Map<string, number>();
  return {
    warn(pod, reason, message) {
      const key = `${pod.kind ?? 'Pod'}|${pod.uid || `${pod.namespace}/${pod.name}`}|${reason}`;
      const at = last.get(key);
      if (at !== undefined && now() - at < windowMs) return;
      last.delete(key);
      last.set(key, now());
      for (const k of last.keys()) {
        if (last.size <= maxKeys) break;
        last.delete(k);
      }
      inner.warn(pod, reason, message);
    },
  };
}

/** Warning Events on pods (`kubectl describe pod`), as `component` (podid-nmi on its node, podid-controller); failures are logged, never thrown. */
export function kubeEvents(client: KubeClient, host: string, log: Logger, component = 'podid-nmi'): PodEvents {
  return {
    warn(pod, reason, message) {
      const now = new Date().toISOString();
      const body = {
        metadata: { generateName: `${pod.name}.`, namespace: pod.namespace },
        involvedObject: { apiVersion: pod.apiVersion ?? 'v1', kind: pod.kind ?? 'Pod', name: pod.name, namespace: pod.namespace, uid: pod.uid || undefined },
        type: 'Warning',
        reason,
        message,
        source: { component, host },
        reportingComponent: component,
        reportingInstance: host,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      };
      client.request('POST', `/api/v1/namespaces/${pod.namespace}/events`, { body }).catch((err: unknown) => {
        log.warn({ reason, pod: `${pod.namespace}/${pod.name}`, code: statusOf(err) }, 'cannot write an Event');
      });
    },
  };
}

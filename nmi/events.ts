// Kubernetes Events NMI writes on pods, for what a pod's owner should see with `kubectl describe pod`
// (e.g. a pod holding several identities asking without naming one). The same event is written at most once
// per pod and reason in a window, so a busy pod cannot flood the apiserver. The writer is kube.ts's.

import type { NodePod } from './pod-index.ts';

/** What an Event needs of its object: a pod by default; `kind` and `apiVersion` name another (a binding). */
export type EventPod = Pick<NodePod, 'name' | 'namespace' | 'uid'> & { kind?: string; apiVersion?: string };

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

// Informers (list + watch, @kubernetes/client-node's ListWatch) described as data: what to list, what to do with
// each object. NMI, the webhook and the controller each run their own set; a failed watch restarts after 3 s.

import { KubeConfig, ListWatch, Watch as KubeWatch, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from './log.ts';

export type Meta = { metadata?: { name?: string; namespace?: string } };
export const nameOf = (o: Meta) => ({ namespace: o.metadata?.namespace ?? 'default', name: o.metadata?.name ?? '' });

export interface Watch<T> {
  path: string;
  list: () => Promise<{ items: T[] }>;
  fieldSelector?: string;
  labelSelector?: string;
  upsert(o: T): void;
  remove(o: T): void;
}

/** Starts every watch; resolves once every initial list is in. `onChange` fires after any event. Returns stop. */
export async function runWatches(kc: KubeConfig, watches: readonly Watch<any>[], log: Logger, onChange: () => void): Promise<() => void> {
  let stopped = false;
  const informers = watches.map((w) => {
    const informer = new ListWatch<KubernetesObject>(w.path, new KubeWatch(kc), w.list as () => Promise<any>, false, w.labelSelector, w.fieldSelector);
    const changed = (fn: (o: unknown) => void) => (o: unknown) => {
      fn(o);
      onChange();
    };
    informer.on('add', changed(w.upsert));
    informer.on('update', changed(w.upsert));
    informer.on('delete', changed(w.remove));
    informer.on('error', (err: unknown) => {
      // Stopping aborts the watches: that is no failure to restart from.
      if (stopped) return;
      log.warn({ path: w.path, err: (err as Error)?.message }, 'watch failed; restarting in 3 s');
      setTimeout(() => void informer.start().catch(() => {}), 3000);
    });
    return informer;
  });
  await Promise.all(informers.map((i) => i.start()));
  return () => {
    stopped = true;
    for (const i of informers) void i.stop();
  };
}

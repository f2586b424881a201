// Informers described as data: what to watch (a path and selectors) and what to do with each object. NMI, the
// webhook and the controller each run their own set on a KubeClient. Each one lists (in pages) and then watches
// from the list's resourceVersion; objects go to upsert/remove and are not kept here (only their keys, to tell
// what a relist no longer has), so memory is what the callers keep: NMI keeps a few fields of each pod.
// A failed watch relists after 3 s; a watch the server ends (its timeout) resumes from the last resourceVersion;
// 410 Gone (the version is too old) relists.

import { statusOf, type KubeClient, type WatchEvent } from './kube-client.ts';
import { withRetry } from './kube-retry.ts';
import type { Logger } from './log.ts';

export type Meta = { metadata?: { name?: string; namespace?: string; resourceVersion?: string } };
export const nameOf = (o: Meta) => ({ namespace: o.metadata?.namespace ?? 'default', name: o.metadata?.name ?? '' });

export interface Watch<T> {
  /** The collection, e.g. `/api/v1/pods`. */
  path: string;
  fieldSelector?: string;
  labelSelector?: string;
  upsert(o: T): void;
  remove(o: T): void;
}

const RESTART_MS = 3000;
const keyOf = (o: Meta) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
const stub = (key: string): Meta => {
  const [namespace, name] = key.split('/') as [string, string];
  return { metadata: { name, ...(namespace ? { namespace } : {}) } };
};

class Gone extends Error {}

/** Starts every watch; resolves once every initial list is in (rejects if one fails). `onChange` fires after any event. Returns stop. */
export async function runWatches(client: KubeClient, watches: readonly Watch<any>[], log: Logger, onChange: () => void): Promise<() => void> {
  const abort = new AbortController();
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

  const run = async (w: Watch<Meta>, synced: (err?: unknown) => void) => {
    const selectors = { fieldSelector: w.fieldSelector, labelSelector: w.labelSelector };
    const known = new Set<string>();
    // Page by page, in a function of its own: a page's objects are garbage once handed to upsert, and none stays
    // reachable from the loop below while it waits on the watch (V8 keeps a suspended function's registers; with
    // 10k pods, a list held there kept every full pod object alive, ~60 MiB, found in a heap snapshot of NMI).
    const relist = async (): Promise<string> => {
      const listed = new Set<string>();
      let resourceVersion = '';
      for await (const page of client.pages<Meta>(w.path, selectors)) {
        for (const o of page.items) {
          listed.add(keyOf(o));
          w.upsert(o);
        }
        resourceVersion = page.resourceVersion || resourceVersion;
      }
      for (const key of known) if (!listed.has(key)) w.remove(stub(key));
      known.clear();
      for (const key of listed) known.add(key);
      if (listed.size || !first) onChange();
      return resourceVersion;
    };
    let first = true;
    while (!abort.signal.aborted) {
      let resourceVersion: string;
      try {
        // 429 and 503 ("storage is (re)initializing" just after a CRD appears, or APF) are waited out, as kubectl does.
        resourceVersion = await withRetry(relist);
      } catch (err) {
        if (first) return synced(err);
        log.warn({ path: w.path, err: (err as Error).message }, `cannot list; retrying in ${RESTART_MS / 1000} s`);
        await sleep(RESTART_MS);
        continue;
      }
      if (first) synced();
      first = false;
      // Watch until the list is stale (410) or the stream fails; a stream the server ends resumes where it was.
      try {
        for (;;) {
          await client.watch(
            w.path,
            { ...selectors, resourceVersion, timeoutSeconds: 300 + Math.floor(Math.random() * 300) },
            (e: WatchEvent) => {
              if (e.type === 'ERROR') throw e.object?.code === 410 ? new Gone() : new Error(String(e.object?.message ?? 'watch error'));
              resourceVersion = e.object?.metadata?.resourceVersion ?? resourceVersion;
              if (e.type === 'BOOKMARK') return;
              if (e.type === 'DELETED') {
                known.delete(keyOf(e.object));
                w.remove(e.object);
              } else {
                known.add(keyOf(e.object));
                w.upsert(e.object);
              }
              onChange();
            },
            abort.signal,
          );
          if (abort.signal.aborted) return;
        }
      } catch (err) {
        if (abort.signal.aborted) return;
        if (!(err instanceof Gone) && statusOf(err) !== 410) {
          log.warn({ path: w.path, err: (err as Error).message }, `watch failed; relisting in ${RESTART_MS / 1000} s`);
          await sleep(RESTART_MS);
        }
      }
    }
  };

  try {
    await Promise.all(watches.map((w) => new Promise<void>((resolve, reject) => void run(w, (err) => (err ? reject(err) : resolve())))));
  } catch (err) {
    abort.abort();
    throw err;
  }
  return () => abort.abort();
}

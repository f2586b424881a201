// The webhook's certificate loop: a first reconcile that must succeed (retried with backoff), then one
// every interval with jitter so replicas do not move in lockstep.

import type { Logger } from '../common/log.ts';
import { reconcileCerts, type CertStore, type ReconcileOptions } from './reconcile.ts';

export interface CertLoop {
  stop(): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startCertLoop(store: CertStore, opts: ReconcileOptions, intervalMs: number, logger: Logger): Promise<CertLoop> {
  for (let attempt = 1, delay = 500; ; attempt++, delay = Math.min(delay * 2, 30_000)) {
    try {
      const first = await reconcileCerts(store, opts, logger);
      if (first.state.serving) break;
    } catch (err) {
      logger.warn({ attempt, reason: (err as Error).message }, 'certificates not ready yet; retrying');
    }
    await sleep(delay);
  }
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(
      async () => {
        try {
          await reconcileCerts(store, opts, logger);
        } catch (err) {
          logger.warn({ reason: (err as Error).message }, 'certificate reconcile failed; serving the current certificate');
        }
        schedule();
      },
      intervalMs * (0.9 + Math.random() * 0.2),
    );
    timer.unref();
  };
  schedule();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

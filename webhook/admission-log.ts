// Which admissions get a log line of their own, and the periodic count of the rest.
//
// What an operator reads the webhook's log for is what went wrong or what podid changed its mind about: denials,
// failures, warnings and NET_RAW findings. Those are logged one line each, always. A pod admitted as planned (injected,
// unchanged, opted out, ignored) is logged at debug only and counted into one `admissions` line a minute: the
// apiserver's audit log already records every admission with the webhook's patch and annotations, and
// podid_admission_requests_total counts them. One info line per review cost ~80 µs of the webhook's ~200 µs a review
// under load and wrote 122 MB in 3 minutes (bench/webhook.ts measures it: issue 25).

import type { Logger } from '../common/log.ts';

export interface AdmissionEntry {
  endpoint: string;
  uid: string;
  kind: string;
  operation: string;
  subject: string;
  dryRun: boolean;
  result: string;
  allowed: boolean;
  warnings: number;
  /** What was found (e.g. NET_RAW violations); never secrets. */
  details?: readonly string[];
  ms: number;
}

export type AdmissionLineLevel = 'warn' | 'info' | 'debug';

/** warn: findings or a failure; info: a denial or warnings for the user; debug: admitted as planned (counted). */
export function admissionLineLevel(e: Pick<AdmissionEntry, 'allowed' | 'warnings' | 'details' | 'result'>): AdmissionLineLevel {
  if (e.details?.length || e.result === 'error') return 'warn';
  if (!e.allowed || e.warnings > 0) return 'info';
  return 'debug';
}

/** How often the count of admissions without a line of their own is written (when there were any). */
export const ADMISSION_SUMMARY_INTERVAL_MS = 60_000;

/** Admission lines for one webhook: `record` each answered review; `close` writes the last count. */
export class AdmissionLog {
  private counts = new Map<string, number>();
  private since = Date.now();
  private readonly logger: Logger;
  private readonly timer: NodeJS.Timeout;

  constructor(logger: Logger, intervalMs = ADMISSION_SUMMARY_INTERVAL_MS) {
    this.logger = logger;
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
  }

  record(e: AdmissionEntry): void {
    const level = admissionLineLevel(e);
    if (level === 'debug') {
      const key = `${e.endpoint}/${e.result}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      if (!this.logger.isLevelEnabled('debug')) return;
    }
    this.logger[level](e, 'admission');
  }

  /** One `admissions` line with the counts since the last one, by endpoint/result; nothing when there were none. */
  flush(): void {
    const now = Date.now();
    if (this.counts.size) {
      this.logger.info({ seconds: Math.round((now - this.since) / 1000), counts: Object.fromEntries(this.counts) }, 'admissions');
      this.counts = new Map();
    }
    this.since = now;
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}

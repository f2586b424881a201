// Standard mode's loop: one worker per scale set or VM, each at most one ARM update at a time, all in parallel
// (bounded). A worker reads the target, plans (plan.ts), records what podid is about to add (so a new leader knows
// what is podid's), sends the PATCH requests and waits for ARM; on 429/409/5xx it retries after Retry-After or a
// backoff, on 412 (someone else changed the target) it re-reads at once. A records pass then writes the
// AzureAssignedIdentity objects: Created while ARM works, Assigned once the identity is on the node.
// Kubernetes and ARM are behind interfaces (kube.ts, arm-client.ts), so this runs against the emulator in tests.

import type { Logger } from '../common/log.ts';
import { ArmError, type ArmClient } from './arm-client.ts';
import type { ArmTarget } from './arm-target.ts';
import { assignmentStatus, planRecords, type Desired, type ExistingRecord, type PlannedAssignment, type RecordPlan } from './desired.ts';
import { idKey, planTarget, type TargetState } from './plan.ts';

export interface OwnershipStore {
  /** Every target podid has added identities to, with the identities (keys) it added. */
  load(): Promise<Map<string, { target: ArmTarget; owned: Set<string> }>>;
  save(target: ArmTarget, owned: ReadonlySet<string>): Promise<void>;
}

export interface RecordStore {
  existing(): ExistingRecord[];
  apply(plan: RecordPlan): Promise<void>;
}

export interface ReconcilerMetrics {
  armCall(method: 'GET' | 'PATCH', outcome: string): void;
  targetSynced(seconds: number, outcome: string): void;
}

export interface ReconcilerSettings {
  arm: ArmClient;
  ownership: OwnershipStore;
  records: RecordStore;
  log: Logger;
  metrics?: ReconcilerMetrics;
  /** Warning for an assignment that cannot go through (a pod's Event). */
  warn?: (a: PlannedAssignment, reason: string, message: string) => void;
  graceMs: number;
  immutable: ReadonlySet<string>;
  maxPerRequest?: number;
  /** Most targets updated at once. */
  concurrency?: number;
  /** Backoff bounds for retries without Retry-After. */
  backoffMs?: { min: number; max: number };
  now?: () => number;
}

interface Worker {
  target: ArmTarget;
  desired: Set<string>;
  /** ARM's state as last read or left by our update. */
  actual?: TargetState;
  /** `actual`'s identities as keys (idKey), kept with it: the records pass asks once per assignment. */
  actualKeys?: Set<string>;
  owned: Set<string>;
  unneededSince: Map<string, number>;
  /** Identities ARM refused to assign (named in a 4xx), left out until the time given. */
  refused: Map<string, number>;
  running: boolean;
  again: boolean;
  failures: number;
  timer?: NodeJS.Timeout;
  lastError?: string;
}

export class Reconciler {
  private readonly s: ReconcilerSettings;
  private readonly workers = new Map<string, Worker>();
  private desired: Desired = { assignments: [], targets: new Map(), problems: [] };
  private readonly queue: string[] = [];
  private active = 0;
  private recordsRunning?: Promise<void>;
  private recordsAgain = false;
  private stopped = false;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly now: () => number;

  constructor(s: ReconcilerSettings) {
    this.s = s;
    this.now = s.now ?? Date.now;
  }

  /** Loads ownership (what podid added, from before a restart or a leader change). */
  async start(): Promise<void> {
    for (const [key, { target, owned }] of await this.s.ownership.load()) this.worker(target, key).owned = owned;
    for (const key of this.workers.keys()) this.enqueue(key);
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.workers.values()) clearTimeout(w.timer);
  }

  /** The identities (keys) on a target as podid last saw them. */
  onTarget(key: string): ReadonlySet<string> | undefined {
    return this.workers.get(key)?.actualKeys;
  }

  private setActual(w: Worker, actual: TargetState | undefined): void {
    w.actual = actual;
    w.actualKeys = actual && new Set(actual.userAssigned.map(idKey));
  }

  /** New desired state (after informer events): targets whose plan changes are queued, records refreshed. */
  update(desired: Desired): void {
    this.desired = desired;
    for (const p of desired.problems) this.s.warn?.(p.assignment, 'IdentityNotAssignable', p.reason);
    const seen = new Set<string>();
    for (const [key, { target, identities }] of desired.targets) {
      seen.add(key);
      const w = this.worker(target, key);
      w.desired = identities;
      if (this.needsSync(w)) this.enqueue(key);
    }
    for (const [key, w] of this.workers) {
      if (seen.has(key)) continue;
      w.desired = new Set();
      if (w.owned.size === 0 && !w.running) {
        clearTimeout(w.timer);
        this.workers.delete(key);
      } else if (this.needsSync(w)) this.enqueue(key);
    }
    this.kickRecords();
  }

  /** Re-reads every target (the periodic resync: catches changes made outside podid). */
  resync(): void {
    for (const w of this.workers.values()) this.setActual(w, undefined);
    for (const key of this.workers.keys()) this.enqueue(key);
  }

  /** Resolves when no target is queued or updating and the records are written (tests, benchmarks). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private isIdle(): boolean {
    return this.active === 0 && this.queue.length === 0 && !this.recordsRunning && ![...this.workers.values()].some((w) => w.running || w.again);
  }

  private checkIdle(): void {
    if (!this.isIdle()) return;
    for (const r of this.idleWaiters.splice(0)) r();
  }

  private worker(target: ArmTarget, key: string): Worker {
    let w = this.workers.get(key);
    if (!w) {
      w = { target, desired: new Set(), owned: new Set(), unneededSince: new Map(), refused: new Map(), running: false, again: false, failures: 0 };
      this.workers.set(key, w);
    }
    return w;
  }

  private wanted(w: Worker): string[] {
    const now = this.now();
    return [...w.desired].filter((id) => (w.refused.get(idKey(id)) ?? 0) <= now);
  }

  /**
   * Whether planning on what podid last saw would change anything (no ARM call when it would not). An identity that
   * just became unneeded changes nothing yet (its grace period runs): its start is kept and a check is scheduled
   * for when the grace ends, or the removal would wait for some unrelated event to come.
   */
  private needsSync(w: Worker): boolean {
    if (!w.actual) return true;
    const plan = planTarget(this.planInput(w, w.actual));
    if (plan.requests.length > 0 || plan.owned.size !== w.owned.size) return true;
    if (!w.running) this.keepGrace(w, plan);
    return false;
  }

  /** Keeps when each identity became unneeded, and checks the target again when the first grace period ends. */
  private keepGrace(w: Worker, plan: ReturnType<typeof planTarget>): void {
    w.unneededSince = plan.unneededSince;
    if (plan.nextRemovalAt !== undefined) this.retryLater(w.target.key, w, Math.max(0, plan.nextRemovalAt - this.now()));
  }

  private planInput(w: Worker, actual: TargetState) {
    return {
      desired: this.wanted(w),
      actual,
      owned: w.owned,
      immutable: this.s.immutable,
      unneededSince: w.unneededSince,
      now: this.now(),
      graceMs: this.s.graceMs,
      maxPerRequest: this.s.maxPerRequest,
    };
  }

  private enqueue(key: string): void {
    const w = this.workers.get(key);
    if (!w || this.stopped) return;
    if (w.running) {
      w.again = true;
      return;
    }
    if (!this.queue.includes(key)) this.queue.push(key);
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.active < (this.s.concurrency ?? 16) && this.queue.length) {
      const key = this.queue.shift()!;
      const w = this.workers.get(key);
      if (!w || w.running) continue;
      clearTimeout(w.timer);
      w.running = true;
      this.active++;
      void this.run(key, w).finally(() => {
        w.running = false;
        this.active--;
        if (w.again) {
          w.again = false;
          this.enqueue(key);
        }
        this.kickRecords();
        this.pump();
        this.checkIdle();
      });
    }
  }

  private retryLater(key: string, w: Worker, ms: number): void {
    clearTimeout(w.timer);
    w.timer = setTimeout(() => this.enqueue(key), ms);
    w.timer.unref?.();
  }

  private backoff(failures: number): number {
    const { min, max } = this.s.backoffMs ?? { min: 1000, max: 60_000 };
    const ms = Math.min(max, min * 2 ** Math.min(failures, 16));
    return ms * (0.8 + Math.random() * 0.4);
  }

  private async run(key: string, w: Worker): Promise<void> {
    const started = this.now();
    for (let attempt = 0; ; attempt++) {
      try {
        await this.syncTarget(w);
        w.failures = 0;
        w.lastError = undefined;
        this.s.metrics?.targetSynced((this.now() - started) / 1000, 'ok');
        return;
      } catch (err) {
        const e = err instanceof ArmError ? err : new ArmError('transient', 0, 'Error', (err as Error).message, { cause: err });
        w.lastError = e.message;
        // Someone changed the target between our read and our PATCH: read again and re-plan, now.
        if (e.kind === 'stale' && attempt < 5) continue;
        w.failures++;
        this.s.metrics?.targetSynced((this.now() - started) / 1000, e.kind);
        if (e.kind === 'permanent' && this.refuseNamed(w, e)) {
          this.s.log.warn({ target: w.target.id, code: e.code, err: e.message }, 'ARM refused identities; retrying without them');
          this.retryLater(key, w, 0);
          return;
        }
        const ms =
          e.retryAfterSeconds !== undefined ? e.retryAfterSeconds * 1000 : e.kind === 'permanent' ? this.backoff(w.failures + 4) : this.backoff(w.failures);
        this.s.log.warn({ target: w.target.id, code: e.code, kind: e.kind, retryInMs: Math.round(ms), err: e.message }, 'cannot update identities; will retry');
        this.retryLater(key, w, ms);
        return;
      }
    }
  }

  /** A 4xx naming identities podid was adding (not found, no permission): leave those out for a while, warn their pods. */
  private refuseNamed(w: Worker, e: ArmError): boolean {
    const text = e.message.toLowerCase();
    const named = [...w.desired].filter((id) => text.includes(id.toLowerCase()) && !w.actual?.userAssigned.some((a) => idKey(a) === idKey(id)));
    if (!named.length) return false;
    for (const id of named) w.refused.set(idKey(id), this.now() + 5 * 60_000);
    for (const a of this.desired.assignments)
      if (a.identity.resourceID && named.some((id) => idKey(id) === idKey(a.identity.resourceID!)))
        this.s.warn?.(a, 'IdentityAssignmentFailed', `ARM refused to assign ${a.identity.resourceID} to ${w.target.id}: ${e.message}`);
    return true;
  }

  private async syncTarget(w: Worker): Promise<void> {
    const read = await this.call('GET', () => this.s.arm.read(w.target));
    this.setActual(w, read.state);
    const plan = planTarget(this.planInput(w, read.state));
    if (plan.requests.length) {
      // Ownership first: if this process dies mid-update, the next leader knows these additions are podid's.
      const intent = new Set([...w.owned, ...plan.add.map(idKey)]);
      await this.s.ownership.save(w.target, intent);
      w.owned = intent;
      let etag = read.etag;
      for (const [i, body] of plan.requests.entries()) {
        if (i > 0) etag = (await this.call('GET', () => this.s.arm.read(w.target))).etag;
        await this.call('PATCH', () => this.s.arm.patch(w.target, body, etag));
      }
      const after = new Map(read.state.userAssigned.map((id) => [idKey(id), id]));
      for (const id of plan.remove) after.delete(idKey(id));
      for (const id of plan.add) after.set(idKey(id), id);
      this.setActual(w, { userAssigned: [...after.values()], systemAssigned: read.state.systemAssigned });
      this.s.log.info({ target: w.target.id, added: plan.add.length, removed: plan.remove.length, requests: plan.requests.length }, 'identities updated');
    }
    const changed = plan.owned.size !== w.owned.size || [...plan.owned].some((k) => !w.owned.has(k));
    w.owned = plan.owned;
    w.unneededSince = plan.unneededSince;
    if (changed) await this.s.ownership.save(w.target, w.owned);
    this.keepGrace(w, plan);
  }

  private async call<T>(method: 'GET' | 'PATCH', fn: () => Promise<T>): Promise<T> {
    try {
      const r = await fn();
      this.s.metrics?.armCall(method, 'ok');
      return r;
    } catch (err) {
      this.s.metrics?.armCall(method, err instanceof ArmError ? err.code : 'error');
      throw err;
    }
  }

  /** Writes AzureAssignedIdentity objects for the latest desired state; one pass at a time, coalesced. */
  private kickRecords(): void {
    if (this.stopped) return;
    if (this.recordsRunning) {
      this.recordsAgain = true;
      return;
    }
    this.recordsRunning = (async () => {
      do {
        this.recordsAgain = false;
        const want = this.desired.assignments.map((assignment) => ({ assignment, status: assignmentStatus(assignment, (k) => this.onTarget(k)) }));
        try {
          await this.s.records.apply(planRecords(want, this.s.records.existing()));
        } catch (err) {
          this.s.log.warn({ err: (err as Error).message }, 'cannot write AzureAssignedIdentity objects; will retry');
          await new Promise((r) => setTimeout(r, 1000));
          this.recordsAgain = true;
        }
      } while (this.recordsAgain && !this.stopped);
    })().finally(() => {
      this.recordsRunning = undefined;
      this.checkIdle();
    });
  }
}

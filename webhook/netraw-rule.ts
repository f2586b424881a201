// The NET_RAW rule, pure: every container, init container and ephemeral container must drop NET_RAW
// (or ALL), must not add NET_RAW (or ALL), and must not be privileged. A container that both adds and
// drops NET_RAW is denied: what the runtime does with such a pair is not something to rely on. Which
// spellings count is decided by what containerd and CRI-O do with them (below).

import type { Container, PodSpec } from './pod.ts';

export type ContainerKind = 'container' | 'initContainer' | 'ephemeralContainer';
export type Problem = 'privileged' | 'adds' | 'not-dropped';

export interface Violation {
  kind: ContainerKind;
  name: string;
  problems: Problem[];
  /** Drop entries meant as NET_RAW that runtimes ignore (for the message). */
  misspelled?: string[];
}

// Capability names as the container runtimes read them (the runtime, not this rule, decides what is dropped):
// - containerd's CRI plugin (WithCapabilities in its CRI opts): "ALL" matches case-insensitively
//   (strings.EqualFold / ToUpper(c) == "ALL"), every other name becomes "CAP_" + strings.ToUpper(name), with no
//   trimming and no check that the name exists. So drop "CAP_NET_RAW" removes "CAP_CAP_NET_RAW" (nothing),
//   drop " NET_RAW " removes "CAP_ NET_RAW " (nothing), and drop "cap_all" is not ALL: NET_RAW stays.
// - CRI-O (SpecSetupCapabilities): "ALL" by strings.EqualFold; other names get "CAP_" + upper unless they already
//   start with "cap_" in any case (then kept as written); runtime-tools then compares upper-cased, and rejects
//   unknown names (the container fails to start). So CRI-O honours "CAP_NET_RAW" in add and in drop.
// In `drop` only what BOTH honour counts: "NET_RAW" or "ALL" in any letter case, nothing else. In `add` anything
// EITHER would honour is denied ("NET_RAW", "CAP_NET_RAW", "ALL" in any case), and podid also denies the
// space-padded forms and "CAP_ALL" (no runtime honours them today; refusing them costs no legitimate pod).
// The exported policies (policies/) encode the same two rules; policies/netraw-cases.ts holds the cases.

/** Honoured by containerd and CRI-O alike as dropping NET_RAW. */
export const dropsNetRaw = (value: unknown): boolean => typeof value === 'string' && /^(?:net_raw|all)$/i.test(value);

/** Would grant NET_RAW in some runtime (or looks like it would): `NET_RAW`, `CAP_NET_RAW`, `ALL`, `CAP_ALL`, any case, padded. */
export const addsNetRaw = (value: unknown): boolean => typeof value === 'string' && /^(?:cap_)?(?:net_raw|all)$/i.test(value.trim());

/** A drop entry meant as NET_RAW/ALL that runtimes do not read that way, e.g. `CAP_NET_RAW`, ` ALL`, `cap_all`. */
const nearMiss = (value: unknown): value is string => addsNetRaw(value) && !dropsNetRaw(value);

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function containerProblems(c: Container): Problem[] {
  const sc = c.securityContext ?? {};
  const problems: Problem[] = [];
  if (sc.privileged === true) problems.push('privileged');
  if (list(sc.capabilities?.add).some(addsNetRaw)) problems.push('adds');
  if (!list(sc.capabilities?.drop).some(dropsNetRaw)) problems.push('not-dropped');
  return problems;
}

/** The drop entries a container meant as NET_RAW/ALL that no runtime reads that way. */
export function misspelledDrops(c: Container): string[] {
  return list(c.securityContext?.capabilities?.drop).filter(nearMiss);
}

export function podSpecViolations(spec: PodSpec): Violation[] {
  const groups: Array<[ContainerKind, Container[] | undefined]> = [
    ['initContainer', spec.initContainers],
    ['container', spec.containers],
    ['ephemeralContainer', spec.ephemeralContainers],
  ];
  return groups.flatMap(([kind, list]) =>
    (list ?? []).flatMap((c) => {
      const problems = containerProblems(c);
      const misspelled = problems.includes('not-dropped') ? misspelledDrops(c) : [];
      return problems.length ? [{ kind, name: c.name, problems, ...(misspelled.length ? { misspelled } : {}) }] : [];
    }),
  );
}

/** Violations of `after` that `before` did not already have (for UPDATE). */
export function newViolations(after: Violation[], before: Violation[]): Violation[] {
  return after.flatMap((v) => {
    const old = before.find((o) => o.kind === v.kind && o.name === v.name);
    const problems = v.problems.filter((p) => !old?.problems.includes(p));
    return problems.length ? [{ ...v, problems }] : [];
  });
}

const FIX: Record<Problem, string> = {
  'not-dropped': 'add "NET_RAW" (or "ALL") to securityContext.capabilities.drop',
  adds: 'remove "NET_RAW" and "ALL" from securityContext.capabilities.add',
  privileged: 'set securityContext.privileged: false',
};

const WHAT: Record<Problem, string> = {
  'not-dropped': 'does not drop NET_RAW',
  adds: 'adds NET_RAW',
  privileged: 'is privileged',
};

/** One line per container: what is wrong and the exact securityContext fix. */
export function describeViolation(v: Violation): string {
  const fixes = v.problems.map((p) => FIX[p]);
  if (v.misspelled?.length) {
    const listed = v.misspelled.map((m) => JSON.stringify(m)).join(', ');
    fixes.push(
      `capabilities.drop lists ${listed}, which containerd does not read as NET_RAW (it drops "CAP_" + the name as written): spell it "NET_RAW" or "ALL"`,
    );
  }
  return `${v.kind} "${v.name}" ${v.problems.map((p) => WHAT[p]).join(' and ')}: ${fixes.join('; ')}`;
}

export const NETRAW_REASON =
  'podid requires every container to drop NET_RAW, because a pod that can send raw packets can spoof another pod to the node and take its Azure identity';

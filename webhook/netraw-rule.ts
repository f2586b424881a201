// The NET_RAW rule, pure: every container, init container and ephemeral container must drop NET_RAW
// (or ALL), must not add NET_RAW (or ALL), and must not be privileged. A container that both adds and
// drops NET_RAW is denied: what the runtime does with such a pair is not something to rely on.

import type { Container, PodSpec } from './pod.ts';

export type ContainerKind = 'container' | 'initContainer' | 'ephemeralContainer';
export type Problem = 'privileged' | 'adds' | 'not-dropped';

export interface Violation {
  kind: ContainerKind;
  name: string;
  problems: Problem[];
}

/** `net_raw`, `CAP_NET_RAW`, ` NET_RAW ` → `NET_RAW`. */
export function capabilityName(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return value.trim().toUpperCase().replace(/^CAP_/, '');
}

const names = (list: unknown): Set<string> => new Set((Array.isArray(list) ? list : []).map(capabilityName).filter((n): n is string => n !== undefined));

const coversNetRaw = (caps: Set<string>) => caps.has('NET_RAW') || caps.has('ALL');

export function containerProblems(c: Container): Problem[] {
  const sc = c.securityContext ?? {};
  const problems: Problem[] = [];
  if (sc.privileged === true) problems.push('privileged');
  if (coversNetRaw(names(sc.capabilities?.add))) problems.push('adds');
  if (!coversNetRaw(names(sc.capabilities?.drop))) problems.push('not-dropped');
  return problems;
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
      return problems.length ? [{ kind, name: c.name, problems }] : [];
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
  return `${v.kind} "${v.name}" ${v.problems.map((p) => WHAT[p]).join(' and ')}: ${v.problems.map((p) => FIX[p]).join('; ')}`;
}

export const NETRAW_REASON =
  'podid requires every container to drop NET_RAW, because a pod that can send raw packets can spoof another pod to the node and take its Azure identity';

// The NET_RAW rule, pure: every container, init container and ephemeral container must drop NET_RAW
// (or ALL), must not add NET_RAW (or ALL), and must not be privileged. A container that both adds and
// drops NET_RAW is denied: what the runtime does with such a pair is not something to rely on. Which
// spellings count is decided by what containerd and CRI-O do with them (below).

import type { Container, PodSpec } from './pod.ts';

export type ContainerKind = 'container' | 'initContainer' | 'ephemeralContainer';
export type Problem = 'privileged' | 'adds' | 'not-dropped' | 'unknown-name';

export interface Violation {
  kind: ContainerKind;
  name: string;
  problems: Problem[];
  /** Drop entries meant as NET_RAW that runtimes ignore (for the message). */
  misspelled?: string[];
  /** Entries of add or drop that are not capabilities as containerd reads them, e.g. `add[0] "NET_RAW\uFFFD"`. */
  unknown?: string[];
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
// The exported policies (policies/) encode the same two rules; test/netraw-cases.ts holds the cases.

/** Honoured by containerd and CRI-O alike as dropping NET_RAW. */
export const dropsNetRaw = (value: unknown): boolean => typeof value === 'string' && /^(?:net_raw|all)$/i.test(value);

/** Would grant NET_RAW in some runtime (or looks like it would): `NET_RAW`, `CAP_NET_RAW`, `ALL`, `CAP_ALL`, any case, padded. */
export const addsNetRaw = (value: unknown): boolean => typeof value === 'string' && /^(?:cap_)?(?:net_raw|all)$/i.test(value.trim());

/** A drop entry meant as NET_RAW/ALL that runtimes do not read that way, e.g. `CAP_NET_RAW`, ` ALL`, `cap_all`. */
const nearMiss = (value: unknown): value is string => addsNetRaw(value) && !dropsNetRaw(value);

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * The Linux capabilities, as the OCI runtime-spec lists them (features-linux.md) without the "CAP_" prefix that
 * containerd adds. A name outside them grants or removes nothing: containerd passes "CAP_" + the upper-cased name on,
 * runc ignores names it does not know (its test "runc run with unknown capability" runs such a container), and CRI-O's
 * runtime-tools refuses them (the container fails to start later, with a worse message than podid's).
 */
const CAPABILITIES = new Set(
  (
    'CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE ' +
    'NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN ' +
    'SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE ' +
    'MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE'
  ).split(' '),
);

/** A capability as containerd reads it: "ALL" in any case, or a capability's name without "CAP_" in any case. */
export const isCapabilityName = (value: string): boolean => /^all$/i.test(value) || CAPABILITIES.has(value.toUpperCase());

/** Entries of add and drop that are not capabilities, as `add[i] "…"`; the NET_RAW look-alikes are reported as such. */
export function unknownCapabilities(c: Container): string[] {
  const caps = c.securityContext?.capabilities;
  const unknownIn = (field: 'add' | 'drop', reported: (v: unknown) => boolean) =>
    list(caps?.[field]).flatMap((v, i) => (typeof v === 'string' && !isCapabilityName(v) && !reported(v) ? [`${field}[${i}] ${JSON.stringify(v)}`] : []));
  return [...unknownIn('add', addsNetRaw), ...unknownIn('drop', nearMiss)];
}

export function containerProblems(c: Container): Problem[] {
  const sc = c.securityContext ?? {};
  const problems: Problem[] = [];
  if (sc.privileged === true) problems.push('privileged');
  if (list(sc.capabilities?.add).some(addsNetRaw)) problems.push('adds');
  if (!list(sc.capabilities?.drop).some(dropsNetRaw)) problems.push('not-dropped');
  if (unknownCapabilities(c).length) problems.push('unknown-name');
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
      const unknown = problems.includes('unknown-name') ? unknownCapabilities(c) : [];
      return problems.length ? [{ kind, name: c.name, problems, ...(misspelled.length ? { misspelled } : {}), ...(unknown.length ? { unknown } : {}) }] : [];
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
  'unknown-name': 'write each capability as its name without "CAP_" (e.g. "NET_BIND_SERVICE") or "ALL"',
};

const WHAT: Record<Problem, string> = {
  'not-dropped': 'does not drop NET_RAW',
  adds: 'adds NET_RAW',
  privileged: 'is privileged',
  'unknown-name': 'names what is not a Linux capability',
};

/** One line per container: what is wrong and the exact securityContext fix. */
export function describeViolation(v: Violation): string {
  const fixes = v.problems.map((p) => (p === 'unknown-name' && v.unknown?.length ? `capabilities.${v.unknown.join(', ')}: ${FIX[p]}` : FIX[p]));
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

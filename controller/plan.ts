// Standard mode's core, pure: for one scale set or VM, what ARM must change so that it carries the user-assigned
// identities its nodes' pods need, touching only what podid added. MIC's failures are the test cases: it patched
// once per identity change (minutes at scale), exceeded ARM's 150-identities-per-request limit, and removed
// identities it had never added.

/** An identity's ARM resource id, keyed lower-case (ARM ids are case-insensitive). */
export const idKey = (resourceId: string): string => resourceId.toLowerCase();

/** ARM refuses more than this many user-assigned identity changes in one request ("exceed limit '150' in one request"). */
export const ARM_MAX_IDENTITIES_PER_REQUEST = 150;

export interface TargetState {
  /** The identities on the scale set or VM now (`identity.userAssignedIdentities` keys, as ARM spells them). */
  userAssigned: readonly string[];
  /** Whether its system-assigned identity is on: a PATCH must keep it. */
  systemAssigned: boolean;
}

export interface PlanInput {
  /** Identities the pods on this target's nodes need, by resource id. */
  desired: readonly string[];
  actual: TargetState;
  /** Keys (idKey) of the identities podid added and still owns on this target. */
  owned: ReadonlySet<string>;
  /** Keys never removed whoever added them (--immutable-identities, as MIC had). */
  immutable: ReadonlySet<string>;
  /** When each owned identity stopped being needed (epoch ms), from the previous plan. */
  unneededSince: ReadonlyMap<string, number>;
  now: number;
  /** How long an owned identity stays after its last pod, so a rolling update does not flap it. */
  graceMs: number;
  maxPerRequest?: number;
}

/** The body of one PATCH of `identity` (VMSS and VM share the shape); `null` removes an identity. */
export interface IdentityPatch {
  identity: { type: string; userAssignedIdentities?: Record<string, Record<string, never> | null> };
}

export interface TargetPlan {
  add: string[];
  remove: string[];
  /** The PATCH bodies, in order, each under the per-request limit; empty when nothing changes. */
  requests: IdentityPatch[];
  /** Ownership once every request has succeeded. Identities someone else assigned are never in it. */
  owned: Set<string>;
  unneededSince: Map<string, number>;
  /** When an owned identity's grace period ends next (epoch ms): reconcile again then. */
  nextRemovalAt?: number;
}

/** identity.type for a target with these identities. */
export function identityType(systemAssigned: boolean, userAssignedCount: number): string {
  if (systemAssigned && userAssignedCount) return 'SystemAssigned, UserAssigned';
  if (systemAssigned) return 'SystemAssigned';
  return userAssignedCount ? 'UserAssigned' : 'None';
}

export function planTarget(input: PlanInput): TargetPlan {
  const max = input.maxPerRequest ?? ARM_MAX_IDENTITIES_PER_REQUEST;
  const actual = new Map(input.actual.userAssigned.map((id) => [idKey(id), id]));
  const desired = new Map(input.desired.map((id) => [idKey(id), id]));
  const add = [...desired].filter(([k]) => !actual.has(k)).map(([, id]) => id);

  const owned = new Set<string>();
  const unneededSince = new Map<string, number>();
  const remove: string[] = [];
  let nextRemovalAt: number | undefined;
  for (const k of input.owned) {
    // Gone from the target (someone removed it) and not needed: no longer ours to track.
    if (!actual.has(k) && !desired.has(k)) continue;
    if (desired.has(k) || input.immutable.has(k) || !actual.has(k)) {
      owned.add(k);
      continue;
    }
    const since = input.unneededSince.get(k) ?? input.now;
    if (input.now - since >= input.graceMs) {
      remove.push(actual.get(k)!);
      continue;
    }
    owned.add(k);
    unneededSince.set(k, since);
    nextRemovalAt = Math.min(nextRemovalAt ?? Infinity, since + input.graceMs);
  }
  // What podid adds is podid's; what was already there stays someone else's.
  for (const id of add) owned.add(idKey(id));

  const changes: Array<[string, Record<string, never> | null]> = [
    ...remove.map((id): [string, null] => [id, null]),
    ...add.map((id): [string, {}] => [id, {}]),
  ];
  const requests: IdentityPatch[] = [];
  let count = actual.size;
  for (let i = 0; i < changes.length; i += max) {
    const chunk = changes.slice(i, i + max);
    count += chunk.reduce((n, [, v]) => n + (v === null ? -1 : 1), 0);
    // Removing the last user-assigned identity: ARM wants the type without UserAssigned and no map at all.
    const type = identityType(input.actual.systemAssigned, count);
    requests.push({ identity: count ? { type, userAssignedIdentities: Object.fromEntries(chunk) } : { type } });
  }
  return { add, remove, requests, owned, unneededSince, nextRemovalAt };
}

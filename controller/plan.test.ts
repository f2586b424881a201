import { describe, expect, it } from 'vitest';
import { identityType, idKey, planTarget, type PlanInput } from './plan.ts';

const MI = (n: string | number) => `/subscriptions/s/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-${n}`;
const keys = (...ids: string[]) => new Set(ids.map(idKey));

const input = (over: Partial<PlanInput>): PlanInput => ({
  desired: [],
  actual: { userAssigned: [], systemAssigned: false },
  owned: new Set(),
  immutable: new Set(),
  unneededSince: new Map(),
  now: 1_000_000,
  graceMs: 60_000,
  ...over,
});

describe('planTarget', () => {
  it('adds what pods need in one request, and owns only what it added', () => {
    const p = planTarget(input({ desired: [MI('a'), MI('kubelet')], actual: { userAssigned: [MI('kubelet')], systemAssigned: false } }));
    expect(p.add).toEqual([MI('a')]);
    expect(p.requests).toEqual([{ identity: { type: 'UserAssigned', userAssignedIdentities: { [MI('a')]: {} } } }]);
    expect(p.owned).toEqual(keys(MI('a')));
  });

  it('nothing to do: no request', () => {
    const p = planTarget(
      input({ desired: [MI('a')], actual: { userAssigned: [MI('A').replace('id-A', 'ID-A')], systemAssigned: false }, owned: keys(MI('a')) }),
    );
    expect(p.requests).toEqual([]);
    expect(p.owned).toEqual(keys(MI('a')));
  });

  it('never removes an identity someone else assigned, even when a pod used it (MIC removed those)', () => {
    const p = planTarget(input({ desired: [], actual: { userAssigned: [MI('kubelet'), MI('team')], systemAssigned: false }, owned: new Set() }));
    expect(p.remove).toEqual([]);
    expect(p.requests).toEqual([]);
  });

  it('removes an owned identity only after the grace period since its last pod', () => {
    const base = { desired: [], actual: { userAssigned: [MI('a'), MI('kubelet')], systemAssigned: false }, owned: keys(MI('a')) };
    const first = planTarget(input(base));
    expect(first.remove).toEqual([]);
    expect(first.nextRemovalAt).toBe(1_000_000 + 60_000);
    const during = planTarget(input({ ...base, unneededSince: first.unneededSince, now: 1_059_999 }));
    expect(during.remove).toEqual([]);
    const after = planTarget(input({ ...base, unneededSince: first.unneededSince, now: 1_060_000 }));
    expect(after.remove).toEqual([MI('a')]);
    expect(after.requests).toEqual([{ identity: { type: 'UserAssigned', userAssignedIdentities: { [MI('a')]: null } } }]);
    expect(after.owned.size).toBe(0);
  });

  it('a pod coming back during the grace period keeps the identity and resets the clock', () => {
    const p = planTarget(
      input({
        desired: [MI('a')],
        actual: { userAssigned: [MI('a')], systemAssigned: false },
        owned: keys(MI('a')),
        unneededSince: new Map([[idKey(MI('a')), 0]]),
      }),
    );
    expect(p.remove).toEqual([]);
    expect(p.unneededSince.size).toBe(0);
  });

  it('--immutable-identities are never removed', () => {
    const p = planTarget(
      input({
        actual: { userAssigned: [MI('a')], systemAssigned: false },
        owned: keys(MI('a')),
        immutable: keys(MI('a')),
        unneededSince: new Map([[idKey(MI('a')), 0]]),
      }),
    );
    expect(p.remove).toEqual([]);
  });

  it('forgets an owned identity someone removed from the target', () => {
    const p = planTarget(input({ actual: { userAssigned: [], systemAssigned: false }, owned: keys(MI('a')) }));
    expect(p.owned.size).toBe(0);
    expect(p.requests).toEqual([]);
  });

  it('re-adds an owned identity someone removed while pods still need it', () => {
    const p = planTarget(input({ desired: [MI('a')], owned: keys(MI('a')) }));
    expect(p.add).toEqual([MI('a')]);
  });

  it('removing the last user-assigned identity keeps the system-assigned one and sends no map', () => {
    const p = planTarget(
      input({ actual: { userAssigned: [MI('a')], systemAssigned: true }, owned: keys(MI('a')), unneededSince: new Map([[idKey(MI('a')), 0]]) }),
    );
    expect(p.requests).toEqual([{ identity: { type: 'SystemAssigned' } }]);
    const none = planTarget(
      input({ actual: { userAssigned: [MI('a')], systemAssigned: false }, owned: keys(MI('a')), unneededSince: new Map([[idKey(MI('a')), 0]]) }),
    );
    expect(none.requests).toEqual([{ identity: { type: 'None' } }]);
  });

  it('chunks 320 changes under the 150-per-request limit (MIC #813), removals first', () => {
    const stale = Array.from({ length: 20 }, (_, i) => MI(`old-${i}`));
    const desired = Array.from({ length: 300 }, (_, i) => MI(i));
    const p = planTarget(
      input({ desired, actual: { userAssigned: stale, systemAssigned: true }, owned: keys(...stale), unneededSince: new Map(stale.map((s) => [idKey(s), 0])) }),
    );
    expect(p.requests.map((r) => Object.keys(r.identity.userAssignedIdentities ?? {}).length)).toEqual([150, 150, 20]);
    expect(Object.values(p.requests[0]!.identity.userAssignedIdentities!).slice(0, 20)).toEqual(Array(20).fill(null));
    expect(p.requests.every((r) => r.identity.type === 'SystemAssigned, UserAssigned')).toBe(true);
    expect(p.owned.size).toBe(300);
  });
});

describe('identityType', () => {
  it.each([
    [false, 0, 'None'],
    [true, 0, 'SystemAssigned'],
    [false, 2, 'UserAssigned'],
    [true, 1, 'SystemAssigned, UserAssigned'],
  ])('system %s, %i user-assigned → %s', (sys, n, type) => expect(identityType(sys, n)).toBe(type));
});

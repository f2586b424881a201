// One pod cannot starve or evict the others: its many resources evict only its own identity's tokens, and
// its request rate is its own budget (429 with Retry-After), while other pods are served as before.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { World } from '../emulators/world.ts';
import { localNmiFixture } from '../test/local-nmi-fixture.ts';
import { podFor, type LocalNmi } from '../emulators/local-nmi.ts';

// A small cache (10 tokens, 3 per identity) and a small budget (20 at once, 5 a second) make the edges reachable.
const fixture = localNmiFixture('fair', { callerRate: { ratePerSecond: 5, burst: 20 } }, { maxTokens: 10, maxPerIdentity: 3 });
let world: World;
let nmi: LocalNmi;
beforeAll(() => {
  ({ world, nmi } = fixture);
});

const identity = (name: string) => world.identities.find((i) => i.name === name)!;
const call = async (token: string, resource: string) => {
  const res = await fetch(`${nmi.url}/sidecar/token?resource=${encodeURIComponent(resource)}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, string> };
};

describe('NMI fairness', () => {
  it("a pod asking for many resources evicts only its own identity's tokens", async () => {
    const quiet = nmi.addPod({ name: 'quiet', labels: podFor(identity('sp-cert')) });
    const noisy = nmi.addPod({ name: 'noisy', labels: podFor(identity('sp-secret')) });
    expect((await call(quiet, 'https://vault.azure.net')).status).toBe(200);
    // 12 distinct resources: more than the whole cache holds (within the burst, so none is throttled).
    for (let i = 0; i < 12; i++) expect((await call(noisy, `https://r${i}.example`)).status).toBe(200);
    const before = world.aad.requests.length;
    expect((await call(quiet, 'https://vault.azure.net')).status).toBe(200);
    expect(world.aad.requests.length).toBe(before); // still cached: the noisy pod never evicted it
  });

  it('a pod over its request budget gets 429 with Retry-After; another pod is still served', async () => {
    const spammer = nmi.addPod({ name: 'spammer', labels: podFor(identity('sp-secret')) });
    const replies = await Promise.all(Array.from({ length: 40 }, () => call(spammer, 'https://vault.azure.net')));
    const throttled = replies.filter((r) => r.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    expect(Number(throttled[0]!.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(throttled[0]!.body.error).toBe('throttled');
    // Every caller here shares 127.0.0.1, so the other pod is a /host/token caller: budgets are per pod named.
    nmi.addPod({ name: 'bystander', labels: podFor(identity('app-msi')) });
    const res = await fetch(`${nmi.url}/host/token/?resource=https://vault.azure.net`, { headers: { podname: 'bystander', podns: 'demo' } });
    expect(res.status).toBe(200);
  });
});

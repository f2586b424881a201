import { describe, expect, it } from 'vitest';
import { normalizeIP, PodIndex, toNodePod } from './pod-index.ts';

const apiPod = (name: string, ip: string, extra: Record<string, unknown> = {}) => ({
  metadata: { name, namespace: 'apps', uid: `uid-${name}`, labels: { aadpodidbinding: 'reader' } },
  spec: { serviceAccountName: 'web', ...extra },
  status: { podIP: ip, podIPs: [{ ip }, { ip: 'fd00::5' }] },
});

describe('pod index', () => {
  it('keeps what NMI needs of a Pod object', () => {
    expect(toNodePod(apiPod('web-1', '10.1.0.5'))).toEqual({
      name: 'web-1',
      namespace: 'apps',
      uid: 'uid-web-1',
      labels: { aadpodidbinding: 'reader' },
      ips: ['10.1.0.5', 'fd00::5'],
      serviceAccount: 'web',
      hostNetwork: false,
      tokenAudiences: [],
    });
    expect(toNodePod({ metadata: {} })).toBeUndefined();
  });

  it.each([
    ['no volumes', undefined, []],
    ['the injected sidecar token', [{ name: 't', projected: { sources: [{ serviceAccountToken: { audience: 'podid', path: 'token' } }] } }], ['podid']],
    ['a token with the default audience', [{ name: 't', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }], ['']],
    [
      'other projections only',
      [
        { name: 'c', projected: { sources: [{ configMap: { name: 'x' } }] } },
        { name: 'e', emptyDir: {} },
      ],
      [],
    ],
    ['malformed volumes', [null, 'x', { projected: { sources: 'x' } }], []],
  ])('records the audiences of projected tokens: %s', (_case, volumes, audiences) => {
    expect(toNodePod(apiPod('web-1', '10.1.0.5', volumes === undefined ? {} : { volumes }))!.tokenAudiences).toEqual(audiences);
  });

  it('finds pods by name and by every IP, follows IP changes and deletions', () => {
    const index = new PodIndex();
    index.upsert(toNodePod(apiPod('web-1', '10.1.0.5'))!);
    expect(index.byIP('10.1.0.5')?.name).toBe('web-1');
    expect(index.byIP('::ffff:10.1.0.5')?.name).toBe('web-1');
    expect(index.byIP('fd00::5')?.name).toBe('web-1');
    index.upsert(toNodePod(apiPod('web-1', '10.1.0.9'))!);
    expect(index.byIP('10.1.0.5')).toBeUndefined();
    expect(index.byName('apps', 'web-1')?.ips[0]).toBe('10.1.0.9');
    index.remove('apps', 'web-1');
    expect(index.byIP('10.1.0.9')).toBeUndefined();
    expect(index.size).toBe(0);
  });

  it('never identifies host-network pods by IP (they share the node address)', () => {
    const index = new PodIndex();
    index.upsert(toNodePod(apiPod('agent', '10.240.0.4', { hostNetwork: true }))!);
    expect(index.byIP('10.240.0.4')).toBeUndefined();
    expect(index.byName('apps', 'agent')).toBeDefined();
  });

  it('waits a bounded time for a pod the informer has not delivered yet', async () => {
    const index = new PodIndex();
    const late = index.waitByIP('10.1.0.7', 1000);
    setTimeout(() => index.upsert(toNodePod(apiPod('late', '10.1.0.7'))!), 10);
    expect((await late)?.name).toBe('late');
    expect(await index.waitByName('apps', 'never', 20)).toBeUndefined();
  });

  it('normalizes IPv4-mapped IPv6 peers', () => {
    expect(normalizeIP('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeIP('::1')).toBe('::1');
  });

  it('tells listeners of each pod that leaves: deleted, or replaced under its name by another pod', () => {
    const index = new PodIndex();
    const gone: string[] = [];
    index.onForget((p) => gone.push(p.uid));
    index.upsert(toNodePod(apiPod('web-1', '10.1.0.5'))!);
    index.upsert(toNodePod(apiPod('web-1', '10.1.0.6'))!); // the same pod, a new address: not forgotten
    index.upsert({ ...toNodePod(apiPod('web-1', '10.1.0.7'))!, uid: 'uid-web-1-again' });
    index.deleted('apps', 'web-1');
    index.deleted('apps', 'web-1');
    expect(gone).toEqual(['uid-web-1', 'uid-web-1-again']);
    expect([index.wasForgotten('uid-web-1'), index.wasForgotten('uid-web-1-again'), index.wasForgotten('uid-other')]).toEqual([true, true, false]);
    // Removed without a deletion (a relist, a pod not delivered yet), or seen again: not gone.
    index.upsert({ ...toNodePod(apiPod('web-2', '10.1.0.8'))! });
    index.remove('apps', 'web-2');
    index.upsert({ ...toNodePod(apiPod('web-1', '10.1.0.7'))!, uid: 'uid-web-1-again' });
    expect([index.wasForgotten('uid-web-2'), index.wasForgotten('uid-web-1-again')]).toEqual([false, false]);
  });
});

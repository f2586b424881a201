import { describe, expect, it } from 'vitest';
import { HttpError, unauthorized } from '../common/http-error.ts';
import { cachedReviewer, callerFromReview, type Caller } from './caller.ts';

const good = {
  authenticated: true,
  audiences: ['podid'],
  user: {
    username: 'system:serviceaccount:apps:web',
    extra: { 'authentication.kubernetes.io/pod-name': ['web-1'], 'authentication.kubernetes.io/pod-uid': ['uid-1'] },
  },
};

describe('TokenReview status → caller', () => {
  it('accepts a pod-bound service-account token for the audience', () => {
    expect(callerFromReview(good, 'podid')).toEqual({ namespace: 'apps', podName: 'web-1', podUID: 'uid-1', serviceAccount: 'web' });
  });

  it.each([
    ['not authenticated', { authenticated: false, error: 'token expired' }, 'token expired'],
    ['another audience', { ...good, audiences: ['https://kubernetes.default.svc'] }, 'audience "podid"'],
    ['a user, not a service account', { ...good, user: { username: 'alice' } }, 'service account'],
    ['a legacy (not pod-bound) token', { ...good, user: { username: 'system:serviceaccount:apps:web', extra: {} } }, 'not bound to a pod'],
    ['no status at all', undefined, 'not accepted'],
  ])('refuses %s with 401', (_name, status, message) => {
    let err: unknown;
    try {
      callerFromReview(status, 'podid');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(401);
    expect((err as Error).message).toContain(message);
  });

  it('caches accepted reviews briefly by token hash, never failures', async () => {
    let calls = 0;
    let now = 0;
    const inner = {
      review: async (t: string): Promise<Caller> => (
        calls++,
        t === 'bad' ? Promise.reject(unauthorized('no')) : { namespace: 'a', podName: 'p', podUID: 'u', serviceAccount: 's' }
      ),
    };
    const r = cachedReviewer(inner, 1000, 10, () => now);
    await r.review('t');
    await r.review('t');
    expect(calls).toBe(1);
    now = 1001;
    await r.review('t');
    expect(calls).toBe(2);
    await expect(r.review('bad')).rejects.toThrow();
    await expect(r.review('bad')).rejects.toThrow();
    expect(calls).toBe(4);
  });

  it('forgets the reviews of a pod that left the node: its token goes back to TokenReview', async () => {
    let calls = 0;
    const inner = {
      review: async (t: string) => (calls++, { namespace: 'a', podName: t, podUID: `uid-${t}`, serviceAccount: 's' }),
    };
    const r = cachedReviewer(inner, 60_000, 10, () => 0);
    await r.review('gone');
    await r.review('kept');
    r.forgetPod('uid-gone');
    r.forgetPod('uid-never-seen');
    await r.review('gone');
    await r.review('kept');
    expect(calls).toBe(3);
  });
});

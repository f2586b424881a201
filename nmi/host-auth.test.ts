import { describe, expect, it } from 'vitest';
import { HttpError } from '../common/http-error.ts';
import type { Caller } from './caller.ts';
import { hostTokenPod, type HostTokenAuth, type PodName } from './host-auth.ts';

const web: PodName = { namespace: 'team-a', name: 'web' };
const other: PodName = { namespace: 'team-b', name: 'db' };
const webToken: Caller = { namespace: 'team-a', podName: 'web', podUID: 'u1', serviceAccount: 'default' };

describe('/host/token: which pod, by mode', () => {
  // [mode, headers name, verified token's pod, pod served (authenticated?) or the status refused with]
  const table: Array<[HostTokenAuth, PodName | undefined, Caller | undefined, [string, boolean] | number]> = [
    ['optional', web, undefined, ['team-a/web', false]], // aad-pod-identity's CSI provider: headers only
    ['optional', web, webToken, ['team-a/web', true]],
    ['optional', undefined, webToken, ['team-a/web', true]], // the token alone names the pod
    ['optional', other, webToken, 403], // a token for one pod cannot fetch another's
    ['optional', undefined, undefined, 400],
    ['required', web, undefined, 401],
    ['required', web, webToken, ['team-a/web', true]],
    ['required', other, webToken, 403],
    ['off', other, webToken, ['team-b/db', false]], // tokens ignored: the headers decide, as in aad-pod-identity
    ['off', undefined, undefined, 400],
  ];
  it.each(table)('%s, headers %j, token %j → %j', (mode, named, caller, want) => {
    const r = hostTokenPod(mode, named, caller);
    if (typeof want === 'number') {
      expect(r).toBeInstanceOf(HttpError);
      expect((r as HttpError).status).toBe(want);
    } else expect(r).toEqual({ namespace: want[0].split('/')[0], name: want[0].split('/')[1], authenticated: want[1] });
  });
});

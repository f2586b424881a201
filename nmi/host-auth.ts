// Who a /host/token request is for. aad-pod-identity believed the podname/podns headers of any host-network
// caller; podid can instead take the pod's own service-account token, which the Secrets Store CSI driver hands
// its providers when its CSIDriver object asks for one (`tokenRequests`), and verify it with TokenReview like
// the sidecar's. The mode says whether that proof is required, used when present, or ignored. Pure.

import { HttpError } from '../common/http-error.ts';
import type { Caller } from './caller.ts';

export type HostTokenAuth = 'required' | 'optional' | 'off';
export const HOST_TOKEN_AUTH_MODES: readonly HostTokenAuth[] = ['required', 'optional', 'off'];

export interface PodName {
  namespace: string;
  name: string;
}

export type HostTokenPod = PodName & { authenticated: boolean };

/**
 * The pod to serve: the token's pod when a verified token came (the headers, if given, must name it too), else
 * the pod the headers name, unless the mode requires a token.
 */
export function hostTokenPod(mode: HostTokenAuth, named: PodName | undefined, caller: Caller | undefined): HostTokenPod | HttpError {
  if (caller && mode !== 'off') {
    if (named && (named.namespace !== caller.namespace || named.name !== caller.podName)) {
      return new HttpError(
        403,
        'forbidden',
        `the service-account token is for pod ${caller.namespace}/${caller.podName}, not ${named.namespace}/${named.name}`,
      );
    }
    return { namespace: caller.namespace, name: caller.podName, authenticated: true };
  }
  if (mode === 'required') {
    return new HttpError(
      401,
      'unauthorized',
      'this NMI requires the pod\'s service-account token on /host/token (--host-token-auth=required): "Authorization: Bearer <token>"',
    );
  }
  if (!named) return new HttpError(400, 'invalid_request', "headers podname and podns are required (or present the pod's service-account token)");
  return { ...named, authenticated: false };
}

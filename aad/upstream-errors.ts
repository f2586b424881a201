// What a refusal from Azure AD or the node's IMDS becomes for the SDK asking podid. The SDKs retry some
// statuses and not others (msal-node's DefaultManagedIdentityRetryPolicy retries 404, 408, 429, 500, 503 and
// 504; azure-identity in Python and Go likewise retry 404, 429 and 5xx): a misconfiguration must answer a status
// they do not retry, so the app fails in a second with the reason, and an outage one they do, with Retry-After.
// Pure: the providers call these with what they saw.

import { isErrorCode, type ErrorCode } from '../common/error-codes.ts';
import { HttpError, throttled, unavailable } from '../common/http-error.ts';

/** Seconds an SDK should wait before retrying a transient failure. */
export const TRANSIENT_RETRY_SECONDS = 2;

/**
 * Azure AD error codes (RFC 6749 §5.2 and Azure AD's own) that no retry will fix, with the status podid answers:
 * 400 for a request that names something Azure AD does not know, 403 for a credential it refuses
 * (aad-pod-identity answered token refusals with 403 too).
 */
const AAD_PERMANENT: Partial<Record<ErrorCode, 400 | 403>> = {
  invalid_request: 400,
  invalid_scope: 400,
  invalid_resource: 400,
  invalid_tenant: 400,
  unsupported_grant_type: 400,
  invalid_client: 403,
  unauthorized_client: 403,
  invalid_grant: 403,
  access_denied: 403,
};

/** Azure AD's answer (its error code and status, when it answered) → podid's. */
export function aadRefusal(who: string, error: { code?: string; status?: number; detail: string }, cause?: unknown): HttpError {
  const text = `Azure AD refused a token for ${who}: ${error.code ? `${error.code}: ` : ''}${error.detail}`;
  if (error.status === 429) return throttled(`Azure AD throttled the token request for ${who}`, 5, { cause });
  const code = error.code !== undefined && isErrorCode(error.code) ? error.code : undefined;
  const permanent = code && AAD_PERMANENT[code];
  if (code && permanent) return new HttpError(permanent, code, text, { cause });
  return unavailable(503, text, { cause, retryAfterSeconds: TRANSIENT_RETRY_SECONDS });
}

/** The node IMDS's non-200 answer → podid's: 4xx means the identity is not usable on this node (not a retry matter). */
export function imdsRefusal(who: string, status: number, detail: string, retryAfterSeconds?: number): HttpError {
  if (status === 429) return throttled(`IMDS throttled the token request for ${who}`, retryAfterSeconds ?? 5);
  if (status >= 400 && status < 500)
    return new HttpError(403, 'identity_not_assigned', `IMDS refused a token for ${who}: ${detail} (is the identity assigned to the node pool?)`);
  return unavailable(503, `IMDS refused a token for ${who}: ${detail}`, { retryAfterSeconds: TRANSIENT_RETRY_SECONDS });
}

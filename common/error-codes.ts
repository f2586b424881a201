// Every `error` code podid's token endpoints (the sidecar, NMI) answer, in one table: HttpError takes only these,
// so a new code is added here with its meaning, and sidecar/README.md documents the same list for callers.
// Azure AD's own permanent codes are passed through as Azure AD sent them (aad/upstream-errors.ts).

export const ERROR_CODES = {
  invalid_request: 'the request is malformed: no resource or several, a selector twice, a bad header or query',
  invalid_resource: 'the resource is not an absolute URI or application id, or Azure AD refused it',
  request_too_large: 'the body is larger than the endpoint accepts',
  uri_too_long: 'the request URL is longer than the endpoint accepts',
  bad_request: 'the request could not be read',
  not_found: 'no such endpoint',
  unauthorized: "the caller did not prove who it is (the pod's projected service-account token)",
  forbidden: 'the caller may not use this endpoint',
  pod_not_on_node: "the token names another node, or another pod with the pod's name",
  pod_exception: 'the pod matches an AzurePodIdentityException',
  sidecar_required: 'the pod has the token sidecar, so NMI does not serve it by source address',
  identity_not_found: 'no binding or identity for the pod, or none matching the selector',
  identity_not_assigned: "the node's IMDS refused the identity (not assigned to the node pool?)",
  unsupported_identity: 'the identity type cannot be served on this endpoint',
  ambiguous_identity: 'the pod holds several identities and the request named none',
  pod_not_yet_known: 'NMI has not seen the pod yet; retry',
  throttled: 'Azure AD or IMDS throttled, or the caller is over its budget; retry after Retry-After',
  unavailable: 'Azure AD, IMDS or the Kubernetes API could not be reached or failed',
  // Azure AD's permanent refusals (RFC 6749 §5.2 and its own), kept as it sent them.
  invalid_scope: 'Azure AD: the scope is malformed',
  invalid_tenant: 'Azure AD: no such tenant',
  unsupported_grant_type: 'Azure AD: the grant type is not supported',
  invalid_client: "Azure AD refused the identity's credential",
  unauthorized_client: 'Azure AD: the client may not use this grant',
  invalid_grant: 'Azure AD refused the grant (expired or revoked credential, federation mismatch)',
  access_denied: 'Azure AD denied access',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(ERROR_CODES, code);

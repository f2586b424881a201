// admission.k8s.io/v1 AdmissionReview: reading requests and writing responses. Pure.

import { isRecord } from '../identity/fields.ts';
import type { GroupVersionKind } from '../podspec/workloads.ts';

export type { GroupVersionKind };

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource?: { group: string; version: string; resource: string };
  subResource?: string;
  operation: string;
  namespace: string;
  name?: string;
  object?: unknown;
  oldObject?: unknown;
  dryRun: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  patch?: string;
  warnings?: string[];
  status?: { code: number; message: string; reason?: string };
  auditAnnotations?: Record<string, string>;
}

export interface AdmissionReview {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

export class BadReview extends Error {}

/** The apiserver's operations (admission.k8s.io/v1 Operation). */
export const OPERATIONS = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] as const;
/** The apiserver's uids are UUIDs: anything far longer is not a review it sent (and is echoed back). */
const MAX_UID_LENGTH = 128;

const fail = (message: string): never => {
  throw new BadReview(message);
};

/** A field the apiserver always sends as a string (metav1 types without omitempty): present and a string. */
function requiredString(obj: Record<string, unknown>, key: string, path: string, nonEmpty: boolean): string {
  const v = obj[key];
  if (v === undefined || (nonEmpty && v === '')) fail(`${path}.${key} is missing`);
  if (typeof v !== 'string') fail(`${path}.${key} must be a string, got ${describe(v)}`);
  return v as string;
}

/** An optional field: absent (or null), else of the given type. */
function optional<T>(obj: Record<string, unknown>, key: string, path: string, type: 'string' | 'boolean' | 'object'): T | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  const ok = type === 'object' ? isRecord(v) : typeof v === type;
  if (!ok) fail(`${path}.${key} must be ${type === 'object' ? 'an object' : `a ${type}`}, got ${describe(v)}`);
  return v as T;
}

/** A value's JSON type for a message: never the value itself (it may be large or sensitive). */
function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** metav1.GroupVersionKind (`kind`, `requestKind`) or GroupVersionResource (`resource`, `requestResource`). */
function readGroupVersion(req: Record<string, unknown>, key: string, last: 'kind' | 'resource', required: boolean) {
  const v = req[key];
  if ((v === undefined || v === null) && !required) return undefined;
  if (!isRecord(v)) return fail(`request.${key} must be an object with string group, version and ${last}, got ${describe(v)}`);
  const path = `request.${key}`;
  return { group: requiredString(v, 'group', path, false), version: requiredString(v, 'version', path, true), name: requiredString(v, last, path, true) };
}

/**
 * The review as the apiserver sends it (k8s.io/apiserver admission/plugin/webhook/request/admissionreview.go
 * CreateV1AdmissionReview: uid, kind, resource, operation, userInfo, object, oldObject and dryRun always; group,
 * version and kind/resource always as strings, since metav1's types do not omit them). Anything else is refused
 * with a BadReview whose message names the field and is safe to return: an envelope podid cannot classify is never
 * answered `allowed: true`.
 */
export function readAdmissionReview(body: unknown): AdmissionRequest {
  if (!isRecord(body)) fail('expected a JSON AdmissionReview object');
  const review = body as Record<string, unknown>;
  if (review.kind !== 'AdmissionReview') fail(`expected kind AdmissionReview, got ${JSON.stringify(String(review.kind ?? null).slice(0, 40))}`);
  if (review.apiVersion !== 'admission.k8s.io/v1') {
    fail(
      `expected apiVersion admission.k8s.io/v1, got ${JSON.stringify(String(review.apiVersion ?? null).slice(0, 40))}; configure admissionReviewVersions: ["v1"]`,
    );
  }
  const req = review.request;
  if (req === undefined || req === null) fail('the AdmissionReview has no request');
  if (!isRecord(req)) return fail(`request must be an object, got ${describe(req)}`);
  const uid = requiredString(req, 'uid', 'request', true);
  if (uid.length > MAX_UID_LENGTH) fail(`request.uid is longer than ${MAX_UID_LENGTH} characters`);
  const kind = readGroupVersion(req, 'kind', 'kind', true)!;
  const resource = readGroupVersion(req, 'resource', 'resource', true)!;
  readGroupVersion(req, 'requestKind', 'kind', false);
  readGroupVersion(req, 'requestResource', 'resource', false);
  const operation = requiredString(req, 'operation', 'request', true);
  if (!(OPERATIONS as readonly string[]).includes(operation))
    fail(`request.operation must be one of ${OPERATIONS.join(', ')}, got ${JSON.stringify(operation.slice(0, 40))}`);
  const subResource = optional<string>(req, 'subResource', 'request', 'string');
  optional(req, 'requestSubResource', 'request', 'string');
  const namespace = optional<string>(req, 'namespace', 'request', 'string') ?? '';
  const name = optional<string>(req, 'name', 'request', 'string');
  const dryRun = optional<boolean>(req, 'dryRun', 'request', 'boolean') ?? false;
  optional(req, 'userInfo', 'request', 'object');
  optional(req, 'options', 'request', 'object');
  // CREATE and UPDATE carry the object; UPDATE the stored one too (DELETE only the old one, CONNECT its options).
  if ((operation === 'CREATE' || operation === 'UPDATE') && !isRecord(req.object))
    fail(`request.object must be an object for ${operation}, got ${describe(req.object)}`);
  if (operation === 'UPDATE' && !isRecord(req.oldObject)) fail(`request.oldObject must be an object for UPDATE, got ${describe(req.oldObject)}`);
  return {
    uid,
    kind: { group: kind.group, version: kind.version, kind: kind.name },
    resource: { group: resource.group, version: resource.version, resource: resource.name },
    subResource: subResource || undefined,
    operation,
    namespace,
    name: name || undefined,
    object: req.object,
    oldObject: req.oldObject,
    dryRun,
  };
}

export function review(response: AdmissionResponse): AdmissionReview {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

export function allow(uid: string, extra: Partial<AdmissionResponse> = {}): AdmissionResponse {
  return { uid, allowed: true, ...extra };
}

export function deny(uid: string, code: number, message: string, extra: Partial<AdmissionResponse> = {}): AdmissionResponse {
  return { uid, allowed: false, status: { code, message, reason: code === 403 ? 'Forbidden' : 'BadRequest' }, ...extra };
}

export function patchResponse(uid: string, patch: readonly unknown[], warnings: readonly string[]): AdmissionResponse {
  const res = allow(uid);
  if (patch.length) {
    res.patchType = 'JSONPatch';
    res.patch = Buffer.from(JSON.stringify(patch)).toString('base64');
  }
  if (warnings.length) res.warnings = [...warnings];
  return res;
}

export const isPodRequest = (r: AdmissionRequest): boolean => r.kind.group === '' && r.kind.kind === 'Pod';

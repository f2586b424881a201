// admission.k8s.io/v1 AdmissionReview: reading requests and writing responses. Pure.

import { isRecord } from '../identity/fields.ts';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

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

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Throws BadReview, whose message is safe to return to the caller, when the envelope is unusable. */
export function readAdmissionReview(body: unknown): AdmissionRequest {
  if (!isRecord(body)) throw new BadReview('expected a JSON AdmissionReview object');
  if (body.kind !== 'AdmissionReview') throw new BadReview(`expected kind AdmissionReview, got ${JSON.stringify(body.kind ?? null)}`);
  if (body.apiVersion !== 'admission.k8s.io/v1') {
    throw new BadReview(`expected apiVersion admission.k8s.io/v1, got ${JSON.stringify(body.apiVersion ?? null)}; configure admissionReviewVersions: ["v1"]`);
  }
  const req = body.request;
  if (!isRecord(req)) throw new BadReview('the AdmissionReview has no request');
  const uid = str(req.uid);
  if (!uid) throw new BadReview('request.uid is missing');
  const kind = isRecord(req.kind) ? req.kind : {};
  const resource = isRecord(req.resource) ? req.resource : undefined;
  return {
    uid,
    kind: { group: str(kind.group), version: str(kind.version), kind: str(kind.kind) },
    resource: resource && { group: str(resource.group), version: str(resource.version), resource: str(resource.resource) },
    subResource: str(req.subResource) || undefined,
    operation: str(req.operation),
    namespace: str(req.namespace),
    name: str(req.name) || undefined,
    object: req.object,
    oldObject: req.oldObject,
    dryRun: req.dryRun === true,
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

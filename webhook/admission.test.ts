import { describe, expect, it } from 'vitest';
import { admissionReviewFor, sampleLabeledPod } from '../cli/demo-samples.ts';
import { BadReview, readAdmissionReview } from './admission.ts';
import { kindResourceProblem } from '../podspec/workloads.ts';

const DEPLOYMENT = { kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, resource: { group: 'apps', version: 'v1', resource: 'deployments' } };

/** A review as the apiserver sends it, with `request` fields replaced (undefined removes one). */
function reviewWith(overrides: Record<string, unknown>): Record<string, unknown> {
  const r = admissionReviewFor(sampleLabeledPod(), overrides) as { request: Record<string, unknown> };
  for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete r.request[k];
  return r;
}

/** What readAdmissionReview and the kind/resource check say of a body: the refusal, or 'ok'. */
function verdict(body: unknown): string {
  try {
    return kindResourceProblem(readAdmissionReview(body)) ?? 'ok';
  } catch (err) {
    if (err instanceof BadReview) return err.message;
    throw err;
  }
}

describe('the AdmissionReview envelope, as the apiserver sends it (CreateV1AdmissionReview)', () => {
  const accepted: Array<[string, unknown]> = [
    ['a Pod CREATE', reviewWith({})],
    ['a Pod UPDATE with its old object', reviewWith({ operation: 'UPDATE', oldObject: sampleLabeledPod() })],
    ['a DELETE (object null, the old object only)', reviewWith({ operation: 'DELETE', object: null, oldObject: sampleLabeledPod() })],
    ['a Deployment CREATE', reviewWith(DEPLOYMENT)],
    ['pods/ephemeralcontainers', reviewWith({ operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject: sampleLabeledPod() })],
    ['pods/binding (kind Binding)', reviewWith({ kind: { group: '', version: 'v1', kind: 'Binding' }, subResource: 'binding' })],
    [
      'a kind podid does not check',
      reviewWith({ kind: { group: '', version: 'v1', kind: 'ConfigMap' }, resource: { group: '', version: 'v1', resource: 'configmaps' } }),
    ],
    ['no requestKind/requestResource (optional)', reviewWith({ requestKind: undefined, requestResource: undefined })],
    ['dryRun absent', reviewWith({ dryRun: undefined })],
  ];
  it.each(accepted)('accepts %s', (_name, body) => {
    expect(verdict(body)).toBe('ok');
  });

  // Each row is a defect the fuzzer found answered `allowed: true` (kind false or missing, operation missing), or
  // one like it: every field podid classifies a review by is checked, and the message names it.
  const refused: Array<[string, unknown, string]> = [
    ['kind false', reviewWith({ kind: false }), 'request.kind must be an object with string group, version and kind, got a boolean'],
    ['kind missing', reviewWith({ kind: undefined }), 'request.kind must be an object with string group, version and kind, got nothing'],
    ['kind without group', reviewWith({ kind: { version: 'v1', kind: 'Pod' } }), 'request.kind.group is missing'],
    ['kind.kind a number', reviewWith({ kind: { group: '', version: 'v1', kind: 7 } }), 'request.kind.kind must be a string, got a number'],
    ['kind.version empty', reviewWith({ kind: { group: '', version: '', kind: 'Pod' } }), 'request.kind.version is missing'],
    ['resource missing', reviewWith({ resource: undefined }), 'request.resource must be an object'],
    ['resource an array', reviewWith({ resource: ['pods'] }), 'request.resource must be an object with string group, version and resource, got an array'],
    ['requestKind a string', reviewWith({ requestKind: 'Pod' }), 'request.requestKind must be an object'],
    ['operation missing', reviewWith({ operation: undefined }), 'request.operation is missing'],
    ['operation unknown', reviewWith({ operation: 'PATCH' }), 'request.operation must be one of CREATE, UPDATE, DELETE, CONNECT, got "PATCH"'],
    ['operation lower case', reviewWith({ operation: 'create' }), 'request.operation must be one of'],
    ['object missing on CREATE', reviewWith({ object: undefined }), 'request.object must be an object for CREATE, got nothing'],
    ['object a string on CREATE', reviewWith({ object: 'pod' }), 'request.object must be an object for CREATE, got a string'],
    ['oldObject missing on UPDATE', reviewWith({ operation: 'UPDATE' }), 'request.oldObject must be an object for UPDATE'],
    ['uid a number', reviewWith({ uid: 42 }), 'request.uid must be a string, got a number'],
    ['uid too long', reviewWith({ uid: 'u'.repeat(129) }), 'request.uid is longer than 128 characters'],
    ['namespace a number', reviewWith({ namespace: 3 }), 'request.namespace must be a string'],
    ['namespace missing for a Pod', reviewWith({ namespace: undefined }), 'request.namespace must be set for pods'],
    ['dryRun a string', reviewWith({ dryRun: 'true' }), 'request.dryRun must be a boolean, got a string'],
    ['subResource an object', reviewWith({ subResource: {} }), 'request.subResource must be a string'],
    ['userInfo a string', reviewWith({ userInfo: 'admin' }), 'request.userInfo must be an object'],
    [
      'kind Pod with resource deployments',
      reviewWith({ resource: DEPLOYMENT.resource }),
      'request.resource apps/deployments is not the resource of request.kind /Pod',
    ],
    [
      'resource pods with kind ConfigMap',
      reviewWith({ kind: { group: '', version: 'v1', kind: 'ConfigMap' } }),
      'request.kind /ConfigMap is not the kind of request.resource /pods',
    ],
    [
      'kind Deployment in the core group',
      reviewWith({ ...DEPLOYMENT, kind: { group: '', version: 'v1', kind: 'Deployment' } }),
      'request.kind /Deployment is not the kind of request.resource apps/deployments',
    ],
    ['request an array', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: [] }, 'request must be an object, got an array'],
  ];
  it.each(refused)('refuses %s, naming the field', (_name, body, message) => {
    expect(verdict(body)).toContain(message);
  });

  it('never echoes a long value back in a message', () => {
    const message = verdict(reviewWith({ operation: 'X'.repeat(10_000) }));
    expect(message.length).toBeLessThan(200);
  });
});

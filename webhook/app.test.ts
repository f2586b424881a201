// The webhook's handlers, each alone: reading a review from a body, and routing.

import { describe, expect, it } from 'vitest';
import { admissionReviewFor, sampleLabeledPod } from '../cli/demo-samples.ts';
import { DEFAULT_ADMISSION_LIMITS, readReview } from './app.ts';

const shape = DEFAULT_ADMISSION_LIMITS.json;
const body = (overrides: Record<string, unknown> = {}) => JSON.stringify(admissionReviewFor(sampleLabeledPod(), overrides));

describe('readReview: a body in, an admission request or the 400 message out', () => {
  it('reads a pod review', () => {
    const r = readReview(body(), shape);
    expect(r).toMatchObject({ uid: '0df28fbd-5f5f-11e8-bc74-36e6bb280816', operation: 'CREATE', namespace: 'demo', kind: { kind: 'Pod' } });
  });

  it.each([
    ['not JSON', '{"apiVersion":', /not valid JSON/],
    ['JSON but not an object', '"review"', /not valid JSON/],
    ['nested past the limit', `${'['.repeat(100)}${']'.repeat(100)}`, /deeper than 64/],
    ['an envelope without a request', '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}', /request/],
    ['a kind the resource does not match', body({ resource: { group: 'apps', version: 'v1', resource: 'deployments' } }), /is not the resource of/],
  ])('%s → a message naming what is wrong', (_name, text, message) => {
    const r = readReview(text, shape);
    expect(typeof r).toBe('string');
    expect(r).toMatch(message);
  });
});

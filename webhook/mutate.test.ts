import { describe, expect, it } from 'vitest';
import { admissionReviewFor, sampleLabeledPod } from '../cli/demo-samples.ts';
import { readAdmissionReview } from './admission.ts';
import { defaultInjectionConfig } from './injection-config.ts';
import { mutate } from './mutate.ts';

function warningsFor(labels: Record<string, string>): string[] {
  const pod = sampleLabeledPod();
  pod.metadata = { ...pod.metadata, labels };
  const r = mutate(readAdmissionReview(admissionReviewFor(pod)), defaultInjectionConfig, () => 's'.repeat(43));
  return r.response.warnings ?? [];
}

describe('mutate: warnings about the two identity models', () => {
  it.each([
    ['labeled for both', { aadpodidbinding: 'web', 'azure.workload.identity/use': 'true' }, 1],
    ['aad-pod-identity only', { aadpodidbinding: 'web' }, 0],
    ['workload identity turned off', { aadpodidbinding: 'web', 'azure.workload.identity/use': 'false' }, 0],
  ])('a pod %s gets %d warning(s) naming both labels', (_n, labels, count) => {
    expect(warningsFor(labels).filter((w) => w.includes('labeled for both'))).toHaveLength(count);
  });
});

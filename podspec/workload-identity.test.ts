import { describe, expect, it } from 'vitest';
import { bothModelsWarning, serviceAccountProblem, usesWorkloadIdentity } from './workload-identity.ts';

describe('workload identity on a pod', () => {
  it.each([
    [{ 'azure.workload.identity/use': 'true' }, true],
    [{ 'azure.workload.identity/use': 'True' }, false],
    [{ 'azure.workload.identity/use': 'false' }, false],
    [{}, false],
  ])('%j uses workload identity: %s', (labels, uses) => expect(usesWorkloadIdentity(labels)).toBe(uses));

  it.each([
    ['both labels', { aadpodidbinding: 'web', 'azure.workload.identity/use': 'true' }, true],
    ['aad-pod-identity only', { aadpodidbinding: 'web' }, false],
    ['workload identity only', { 'azure.workload.identity/use': 'true' }, false],
    ['both, workload identity switched off', { aadpodidbinding: 'web', 'azure.workload.identity/use': 'false' }, false],
  ])('%s → a warning: %s', (_n, labels, warned) => {
    const w = bothModelsWarning(labels);
    expect(w !== undefined).toBe(warned);
    if (w) expect(w).toMatch(/DefaultAzureCredential uses workload identity first/);
  });

  it.each([
    ['missing', undefined, /does not exist/],
    ['without the annotation', { name: 'app', annotations: { other: 'x' } }, /no azure.workload.identity\/client-id annotation/],
    ['annotated', { name: 'app', annotations: { 'azure.workload.identity/client-id': '00000000-0000-0000-0000-000000000001' } }, undefined],
  ])('a ServiceAccount %s', (_n, sa, problem) => {
    const p = serviceAccountProblem(sa, 'apps', 'app');
    if (problem) expect(p).toMatch(problem);
    else expect(p).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { HttpError } from '../common/http-error.ts';
import type { AzureIdentity } from '../identity/crds.ts';
import { AssignmentStates, standardModeGate } from './assignment-gate.ts';

const pod = { name: 'web-1', namespace: 'apps' };
const identity = (type: 0 | 1): AzureIdentity => ({ name: 'shared', namespace: 'apps', namespaced: false, type, clientID: 'c' });

describe('standard mode: NMI asks IMDS only once the identity is Assigned', () => {
  it.each([
    ['no AzureAssignedIdentity yet', undefined, /no AzureAssignedIdentity apps\/web-1-apps-shared .*has not planned it/],
    ['Created (ARM at work)', 'Created', /AzureAssignedIdentity apps\/web-1-apps-shared is Created .*assigning it through ARM/],
  ])('%s: 503 identity_not_assigned naming the stage, Retry-After', async (_n, status, message) => {
    const states = new AssignmentStates();
    if (status) states.set('apps', 'web-1-apps-shared', status);
    const err = await standardModeGate(states, 20)
      .wait(pod, identity(0))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ status: 503, code: 'identity_not_assigned', retryAfterSeconds: 5 });
    expect((err as Error).message).toMatch(message);
  });

  it('waits for Assigned and then lets the request through', async () => {
    const states = new AssignmentStates();
    states.set('apps', 'web-1-apps-shared', 'Created');
    const waiting = standardModeGate(states, 5000).wait(pod, identity(0));
    setTimeout(() => states.set('apps', 'web-1-apps-shared', 'Assigned'), 20);
    await expect(waiting).resolves.toBeUndefined();
  });

  it('service principals (types 1–3) need nothing from ARM', async () => {
    await expect(standardModeGate(new AssignmentStates(), 0).wait(pod, identity(1))).resolves.toBeUndefined();
  });
});

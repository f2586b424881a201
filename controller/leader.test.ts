import { describe, expect, it } from 'vitest';
import { candidateIdentity, leaseDecision, microTime } from './leader.ts';

const now = new Date('2026-11-23T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000);

describe('leaseDecision', () => {
  it.each([
    ['no Lease yet', undefined, 'acquire'],
    ['a released Lease (no holder)', { holder: '', renewTime: ago(1), durationSeconds: 15 }, 'acquire'],
    ['our own Lease', { holder: 'me', renewTime: ago(100), durationSeconds: 15 }, 'renew'],
    ['another holder, renewed 5 s ago of 15', { holder: 'other', renewTime: ago(5), durationSeconds: 15 }, 'wait'],
    ['another holder, expired', { holder: 'other', renewTime: ago(15), durationSeconds: 15 }, 'acquire'],
    ['another holder without renewTime', { holder: 'other' }, 'acquire'],
  ] as const)('%s → %s', (_n, lease, decision) => {
    expect(leaseDecision(lease, 'me', now)).toBe(decision);
  });
});

it('writes MicroTime with six fractional digits, as the apiserver requires', () => {
  expect(microTime(new Date('2026-11-23T14:14:09.762Z'))).toBe('2026-11-23T14:14:09.762000Z');
});

it('a container restarted in the same pod is a new candidate: it waits out the Lease its killed predecessor held', () => {
  const killed = candidateIdentity('podid-controller-7d9f-abcde', 'b6f1c1de-0000-4000-8000-000000000001');
  const restarted = candidateIdentity('podid-controller-7d9f-abcde', 'b6f1c1de-0000-4000-8000-000000000002');
  expect(leaseDecision({ holder: killed, renewTime: ago(2), durationSeconds: 15 }, restarted, now)).toBe('wait');
  expect(killed.startsWith('podid-controller-7d9f-abcde_')).toBe(true);
});

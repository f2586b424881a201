import { describe, expect, it } from 'vitest';
import { leaseDecision, microTime } from './leader.ts';

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

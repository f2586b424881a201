import { describe, expect, it } from 'vitest';
import { secretSource } from './secrets.ts';

describe('secretSource', () => {
  it('gives 24-byte base64url secrets, all different, across refills', () => {
    const next = secretSource(4);
    const seen = new Set(Array.from({ length: 50 }, () => next()));
    expect(seen.size).toBe(50);
    for (const s of seen) {
      expect(s).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(Buffer.from(s, 'base64url')).toHaveLength(24);
    }
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, isErrorCode } from './error-codes.ts';

describe('the error codes token endpoints answer', () => {
  const contract = readFileSync(new URL('../sidecar/README.md', import.meta.url), 'utf8');

  it.each(Object.keys(ERROR_CODES))('sidecar/README.md documents %s for callers', (code) => {
    expect(contract).toContain(`\`${code}\``);
  });

  it.each([
    ['identity_not_found', true],
    ['invalid_grant', true],
    ['toString', false],
    ['Identity_Not_Found', false],
    ['', false],
  ])('isErrorCode(%j) is %s', (code, known) => expect(isErrorCode(code)).toBe(known));
});

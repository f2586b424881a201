// The emulators accept a client assertion only when its signature verifies: the checks every token path through
// them relies on.

import { constants, createSign, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeJwt, signJwt, verifySignature } from './jwt.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });

function psSigned(claims: object): string {
  const input = `${Buffer.from(JSON.stringify({ alg: 'PS256', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const sig = createSign('RSA-SHA256')
    .update(input)
    .sign({ key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  return `${input}.${sig.toString('base64url')}`;
}

describe('emulator JWTs', () => {
  const token = signJwt({ aud: 'api://AzureADTokenExchange', sub: 'system:serviceaccount:demo:app' }, privateKey, { kid: 'k1' });

  it('round-trips header and claims', () => {
    const jwt = decodeJwt(token);
    expect(jwt.header).toMatchObject({ alg: 'RS256', typ: 'JWT', kid: 'k1' });
    expect(jwt.claims).toEqual({ aud: 'api://AzureADTokenExchange', sub: 'system:serviceaccount:demo:app' });
  });

  it.each([
    ['RS256 with the signing key', () => verifySignature(decodeJwt(token), publicKey), true],
    ['PS256 with the signing key', () => verifySignature(decodeJwt(psSigned({ a: 1 })), publicKey), true],
    ['RS256 with another key', () => verifySignature(decodeJwt(token), other.publicKey), false],
    [
      'claims changed after signing',
      () => {
        const [h, , s] = token.split('.');
        return verifySignature(decodeJwt(`${h}.${Buffer.from('{"sub":"system:serviceaccount:demo:admin"}').toString('base64url')}.${s}`), publicKey);
      },
      false,
    ],
    [
      'alg none',
      () => {
        const [, c] = token.split('.');
        return verifySignature(decodeJwt(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${c}.`), publicKey);
      },
      false,
    ],
  ] as const)('%s verifies: %s', (_name, verify, ok) => expect(verify()).toBe(ok));

  it.each(['a.b', 'a.b.c.d', ''])('refuses %j as a compact JWS', (bad) => expect(() => decodeJwt(bad)).toThrow(/compact JWT/));
});

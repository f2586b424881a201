// Compact JWS (RS256 / PS256) for the emulators: sign the access tokens they issue, and verify the client
// assertions MSAL sends. node:crypto only.

import { createHash, createSign, createVerify, constants, type KeyObject } from 'node:crypto';

export type Claims = Record<string, unknown>;
export type JwtHeader = Record<string, unknown> & { alg?: string; kid?: string; x5t?: string; 'x5t#S256'?: string };

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const json = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, unknown>;

export function signJwt(claims: Claims, key: KeyObject, header: JwtHeader = {}): string {
  const input = `${b64u(JSON.stringify({ alg: 'RS256', typ: 'JWT', ...header }))}.${b64u(JSON.stringify(claims))}`;
  return `${input}.${b64u(createSign('RSA-SHA256').update(input).sign(key))}`;
}

export interface DecodedJwt {
  header: JwtHeader;
  claims: Claims;
  signingInput: string;
  signature: Buffer;
}

/** Splits and parses without verifying; throws on anything that is not a compact JWS. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('not a compact JWT');
  const [h, c, s] = parts as [string, string, string];
  return { header: json(h) as JwtHeader, claims: json(c), signingInput: `${h}.${c}`, signature: Buffer.from(s, 'base64url') };
}

export function verifySignature(jwt: DecodedJwt, key: KeyObject): boolean {
  const verifier = createVerify('RSA-SHA256').update(jwt.signingInput);
  if (jwt.header.alg === 'RS256') return verifier.verify(key, jwt.signature);
  if (jwt.header.alg === 'PS256')
    return verifier.verify({ key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, jwt.signature);
  return false;
}

/** The certificate thumbprints a client assertion may name: `x5t` (SHA-1) and `x5t#S256`. */
export function thumbprints(certDer: Buffer): { x5t: string; x5tS256: string } {
  return { x5t: b64u(createHash('sha1').update(certDer).digest()), x5tS256: b64u(createHash('sha256').update(certDer).digest()) };
}

import { createHash, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { createCA, createServingCert } from '../certs/generate.ts';
import type { AzureIdentity } from '../identity/crds.ts';
import { certificateCredential, clientSecretOf, credentialFingerprint, credentialFor, type SecretData } from './sp-credentials.ts';

const ca = createCA({ commonName: 'test issuer', validityDays: 1 });
const cert = createServingCert(ca, { commonName: 'sp', dnsNames: ['sp'], ipAddresses: [], validityDays: 1 });
const sha256 = createHash('sha256').update(new X509Certificate(cert.certPem).raw).digest('hex');
const pkcs12 = (password: string) =>
  Buffer.from(
    forge.asn1
      .toDer(
        forge.pkcs12.toPkcs12Asn1(forge.pki.privateKeyFromPem(cert.keyPem), [forge.pki.certificateFromPem(cert.certPem)], password, {
          algorithm: '3des',
        }),
      )
      .getBytes(),
    'binary',
  );
const encryptedPem = forge.pki.encryptRsaPrivateKey(forge.pki.privateKeyFromPem(cert.keyPem), 'pw', { algorithm: 'aes256' });

describe('certificate credential from a Secret (type 2)', () => {
  const accepted: Array<[string, SecretData]> = [
    ['PEM certificate + key', { certificate: Buffer.from(cert.certPem + cert.keyPem) }],
    ['PEM with an encrypted key and its password', { certificate: Buffer.from(cert.certPem + encryptedPem), password: Buffer.from('pw') }],
    ['PKCS#12 with a password', { certificate: pkcs12('p12-pass'), password: Buffer.from('p12-pass') }],
    ['PKCS#12 without a password', { certificate: pkcs12('') }],
  ];
  it.each(accepted)('reads %s', (_name, data) => {
    const c = certificateCredential(data);
    if (!('clientCertificate' in c)) throw new Error('expected a certificate credential');
    expect(c.clientCertificate.thumbprintSha256).toBe(sha256);
    expect(c.clientCertificate.privateKey).toContain('-----BEGIN PRIVATE KEY-----');
    expect(c.clientCertificate.x5c).toContain('-----BEGIN CERTIFICATE-----');
  });

  const refused: Array<[string, SecretData, string]> = [
    ['no certificate key', {}, 'has no "certificate" key'],
    ['PEM without a certificate', { certificate: Buffer.from(cert.keyPem) }, 'no CERTIFICATE block'],
    ['PEM encrypted key, wrong password', { certificate: Buffer.from(cert.certPem + encryptedPem), password: Buffer.from('nope') }, 'no readable private key'],
    ['PKCS#12, wrong password', { certificate: pkcs12('right'), password: Buffer.from('wrong') }, 'cannot be opened'],
  ];
  it.each(refused)('refuses %s, without echoing the material', (_name, data, message) => {
    expect(() => certificateCredential(data)).toThrow(message);
    try {
      certificateCredential(data);
    } catch (err) {
      expect((err as Error).message).not.toContain('PRIVATE KEY');
    }
  });
});

describe('credentialFor', () => {
  const sp = (type: 1 | 2 | 3): AzureIdentity => ({
    name: 'sp',
    namespace: 'ns',
    namespaced: false,
    type,
    clientID: '11111111-1111-1111-1111-111111111111',
    tenantID: 't',
    clientPassword: { name: 's', namespace: 'ns' },
  });

  it('type 1 reads clientsecret; rotation changes the fingerprint', async () => {
    const a = await credentialFor(sp(1), async () => ({ clientsecret: Buffer.from('one\n') }), undefined);
    const b = await credentialFor(sp(1), async () => ({ clientsecret: Buffer.from('two') }), undefined);
    expect(a).toEqual({ clientSecret: 'one' });
    expect(credentialFingerprint(a)).not.toBe(credentialFingerprint(b));
    expect(credentialFingerprint(a)).not.toContain('one');
  });

  it('type 1 without clientsecret, and type 3 without a token file, are refused', async () => {
    await expect(credentialFor(sp(1), async () => ({}), undefined)).rejects.toThrow('holds no client secret');
    await expect(credentialFor(sp(3), async () => ({}), undefined)).rejects.toThrow('--federated-token-file');
  });
});

describe('type 1 Secrets as aad-pod-identity reads them', () => {
  const b = (v: string) => Buffer.from(v);
  // [Secret data, the secret read, or the error]
  const table: Array<[string, Record<string, Buffer>, string | RegExp]> = [
    ['clientSecret, as aad-pod-identity documents it', { clientSecret: b('s1') }, 's1'],
    ['clientsecret, as podid documented it', { clientsecret: b('s2\n') }, 's2'],
    ['any single key', { password: b('s3') }, 's3'],
    ['several keys, one named clientSecret', { clientSecret: b('s4'), note: b('x') }, 's4'],
    ['several keys, one named CLIENTSECRET', { CLIENTSECRET: b('s5'), note: b('x') }, 's5'],
    ['several keys, none named clientSecret', { a: b('1'), b: b('2') }, /has 2 keys \(a, b\) and none is clientSecret/],
    ['clientSecret and clientsecret both', { clientSecret: b('1'), clientsecret: b('2') }, /has 2 keys/],
    ['only empty values', { clientSecret: b('') }, /holds no client secret/],
  ];
  it.each(table)('%s', (_n, data, want) => {
    if (typeof want === 'string') expect(clientSecretOf(data)).toBe(want);
    else expect(() => clientSecretOf(data)).toThrow(want);
  });
  it('never puts a value in the error', () => expect(() => clientSecretOf({ a: b('hunter2'), b: b('x') })).toThrow(/^(?!.*hunter2)/));
});

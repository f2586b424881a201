// A CA and serving certificates with node-forge (RSA 2048, SHA-256).

import { randomBytes } from 'node:crypto';
import type forgeTypes from 'node-forge';
import { forge } from '../common/forge.ts';

export interface CertPair {
  certPem: string;
  keyPem: string;
}

export interface CaOptions {
  commonName: string;
  validityDays: number;
  now?: Date;
}

export interface ServingOptions {
  commonName: string;
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  validityDays: number;
  now?: Date;
}

const DAY_MS = 86_400_000;

/** node-forge writes CRLF line ends; everything podid stores and compares uses LF. */
const lf = (pem: string) => pem.replace(/\r\n/g, '\n');

function newCertificate(publicKey: forgeTypes.pki.PublicKey, validityDays: number, now: Date): forgeTypes.pki.Certificate {
  const cert = forge().pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive serial: 16 random bytes with the top bit cleared.
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  cert.serialNumber = serial.toString('hex');
  // Backdate a little (5 minutes, or a tenth of a short lifetime) so clocks that lag slightly still accept it.
  const lifetime = validityDays * DAY_MS;
  cert.validity.notBefore = new Date(now.getTime() - Math.min(5 * 60_000, lifetime / 10));
  cert.validity.notAfter = new Date(now.getTime() + lifetime);
  return cert;
}

export function createCA(opts: CaOptions): CertPair {
  const keys = forge().pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = newCertificate(keys.publicKey, opts.validityDays, opts.now ?? new Date());
  const subject = [{ name: 'commonName', value: opts.commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true, pathLenConstraint: 0 },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge().md.sha256.create());
  return { certPem: lf(forge().pki.certificateToPem(cert)), keyPem: lf(forge().pki.privateKeyToPem(keys.privateKey)) };
}

export function createServingCert(ca: CertPair, opts: ServingOptions): CertPair {
  const caCert = forge().pki.certificateFromPem(ca.certPem);
  const caKey = forge().pki.privateKeyFromPem(ca.keyPem);
  const keys = forge().pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = newCertificate(keys.publicKey, opts.validityDays, opts.now ?? new Date());
  cert.setSubject([{ name: 'commonName', value: opts.commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  // Never outlive the issuer: a chain with an expired CA fails even if the leaf is valid.
  if (cert.validity.notAfter > caCert.validity.notAfter) cert.validity.notAfter = caCert.validity.notAfter;
  const altNames = [...opts.dnsNames.map((value) => ({ type: 2, value })), ...opts.ipAddresses.map((ip) => ({ type: 7, ip }))];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge().md.sha256.create());
  return { certPem: lf(forge().pki.certificateToPem(cert)), keyPem: lf(forge().pki.privateKeyToPem(keys.privateKey)) };
}

/** The names a webhook Service is reached by. */
/** A throwaway CA and a certificate for localhost, 127.0.0.1 and ::1, for servers on loopback (demo, emulators). */
export function createLoopbackCerts(caName: string, validityDays = 1): { ca: CertPair; serving: CertPair } {
  const ca = createCA({ commonName: caName, validityDays: validityDays + 1 });
  const serving = createServingCert(ca, {
    commonName: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
    validityDays,
  });
  return { ca, serving };
}

export function serviceDnsNames(service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

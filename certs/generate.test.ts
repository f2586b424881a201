import { X509Certificate, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCA, createServingCert, serviceDnsNames } from './generate.ts';

describe('certificate generation', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const ca = createCA({ commonName: 'podid-ca', validityDays: 3650, now });
  const serving = createServingCert(ca, {
    commonName: 'podid-webhook.podid-system.svc',
    dnsNames: serviceDnsNames('podid-webhook', 'podid-system'),
    ipAddresses: ['127.0.0.1', '::1'],
    validityDays: 90,
    now,
  });
  const caX = new X509Certificate(ca.certPem);
  const x = new X509Certificate(serving.certPem);

  it('makes a CA that signs the serving certificate', () => {
    expect(caX.ca).toBe(true);
    expect(x.ca).toBe(false);
    expect(x.checkIssued(caX)).toBe(true);
    expect(x.verify(caX.publicKey)).toBe(true);
  });

  it('puts the service names and IPs in subjectAltName', () => {
    expect(x.subjectAltName).toBe(
      'DNS:podid-webhook, DNS:podid-webhook.podid-system, DNS:podid-webhook.podid-system.svc, DNS:podid-webhook.podid-system.svc.cluster.local, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(x.checkHost('podid-webhook.podid-system.svc')).toBe('podid-webhook.podid-system.svc');
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
  });

  it('sets validity from the given clock and a private key that matches', () => {
    expect(new Date(x.validTo).getTime() - now.getTime()).toBeGreaterThan(89 * 86_400_000);
    expect(new Date(x.validFrom).getTime()).toBeLessThan(now.getTime());
    expect(x.checkPrivateKey(createPrivateKey(serving.keyPem))).toBe(true);
    expect(x.serialNumber).not.toBe(caX.serialNumber);
  });

  it('writes PEM with LF line ends only', () => {
    expect(ca.certPem + serving.keyPem).not.toContain('\r');
  });

  it('never outlives its CA', () => {
    const shortCa = createCA({ commonName: 'short', validityDays: 1, now });
    const leaf = createServingCert(shortCa, { commonName: 'x', dnsNames: ['x'], ipAddresses: [], validityDays: 90, now });
    expect(new X509Certificate(leaf.certPem).validTo).toBe(new X509Certificate(shortCa.certPem).validTo);
  });
});

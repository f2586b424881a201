import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { planCerts, type CertSettings, type CertState } from './plan.ts';
import { testCertSettings } from '../test/certs-settings.ts';

const DAY = 86_400_000;
const settings: CertSettings = testCertSettings({ caValidityDays: 30, servingValidityDays: 9, propagationMs: 60_000 });
const t0 = new Date('2026-01-01T00:00:00Z');
const at = (days: number, ms = 0) => new Date(t0.getTime() + days * DAY + ms);
const issuer = (s: CertState) =>
  new X509Certificate(s.serving!.certPem).issuer + '|' + new X509Certificate(s.serving!.certPem).checkIssued(new X509Certificate(s.ca!.certPem));
const fp = (pem: string) => new X509Certificate(pem).fingerprint256;

describe('planCerts', () => {
  const boot = planCerts({ bundle: [] }, t0, settings);

  it('bootstraps a CA and a serving certificate at once', () => {
    expect(boot.changed).toBe(true);
    expect(boot.reasons).toEqual(['created CA', 'issued serving certificate (no serving certificate)']);
    expect(boot.state.bundle).toEqual([boot.state.ca!.certPem]);
    expect(issuer(boot.state)).toContain('|true');
    expect(new X509Certificate(boot.state.serving!.certPem).subjectAltName).toContain('DNS:podid-webhook.podid-system.svc');
  });

  it('changes nothing while certificates are fresh', () => {
    const r = planCerts({ ...boot.state, bundlePublishedAt: t0 }, at(2), settings);
    expect(r.changed).toBe(false);
    expect(r.reasons).toEqual([]);
  });

  it('renews the serving certificate from the same CA when it nears expiry', () => {
    const r = planCerts({ ...boot.state, bundlePublishedAt: t0 }, at(7), settings);
    expect(r.reasons).toEqual(['issued serving certificate (serving certificate expires soon)']);
    expect(fp(r.state.ca!.certPem)).toBe(fp(boot.state.ca!.certPem));
    expect(fp(r.state.serving!.certPem)).not.toBe(fp(boot.state.serving!.certPem));
  });

  it('replaces an expired serving certificate at once (a cluster left alone longer than its lifetime)', () => {
    const r = planCerts({ ...boot.state, bundlePublishedAt: t0 }, at(40), settings);
    expect(r.reasons).toContain('issued serving certificate (serving certificate is not from the current CA)');
    expect(r.waitingUntil).toBeUndefined();
    expect(new Date(new X509Certificate(r.state.serving!.certPem).validTo).getTime()).toBeGreaterThan(at(40).getTime());
  });

  it('reissues when a SAN is missing', () => {
    const r = planCerts({ ...boot.state, bundlePublishedAt: t0 }, at(1), { ...settings, ipAddresses: ['127.0.0.1'] });
    expect(r.reasons[0]).toContain('lacks IP Address:127.0.0.1');
  });

  it('rotates the CA without a moment of distrust', () => {
    // Day 21: the CA has < 1/3 of its 30 days left. Step 1: new CA joins the bundle; the old serving cert stays.
    // A serving certificate that lives as long as its CA (still valid on day 21).
    const boot = planCerts({ bundle: [] }, t0, { ...settings, servingValidityDays: 60 });
    const published = { ...boot.state, bundlePublishedAt: t0 };
    const step1 = planCerts(published, at(21), { ...settings, servingValidityDays: 60 });
    expect(step1.state.bundle.map(fp)).toEqual([fp(step1.state.ca!.certPem), fp(boot.state.ca!.certPem)]);
    expect(step1.state.serving).toBe(boot.state.serving);
    expect(step1.state.bundlePublishedAt).toBeUndefined();
    expect(step1.reasons[1]).toContain('waiting until the new CA has been trusted');

    // Not yet published: still waiting.
    expect(planCerts(step1.state, at(21, 120_000), settings).state.serving).toBe(boot.state.serving);
    // Published, but for less than the propagation time: still waiting.
    const justPublished = { ...step1.state, bundlePublishedAt: at(21, 1000) };
    expect(planCerts(justPublished, at(21, 30_000), settings).waitingUntil).toEqual(at(21, 61_000));
    // Published long enough: the serving certificate switches to the new CA; both CAs stay trusted.
    const step2 = planCerts(justPublished, at(21, 61_000), settings);
    expect(issuer(step2.state)).toContain('|true');
    expect(fp(step2.state.ca!.certPem)).toBe(fp(step1.state.ca!.certPem));
    expect(step2.state.bundle).toHaveLength(2);

    // Once the old CA expires it leaves the bundle.
    const step3 = planCerts({ ...step2.state, bundlePublishedAt: at(21, 61_000) }, at(31), settings);
    expect(step3.state.bundle.map(fp)).toEqual([fp(step1.state.ca!.certPem)]);
    expect(step3.reasons).toContain('removed 1 expired CA(s) from the bundle');
  });
});

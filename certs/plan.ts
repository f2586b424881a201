// Pure certificate lifecycle: given what is stored and the time, decide what to store next.
// Rotation never breaks trust: a new CA joins the bundle beside the old one first, and the serving
// certificate switches to it only after that bundle has been published to the webhook configurations
// for `propagationMs` (every apiserver has picked it up); expired CAs then leave the bundle.

import { X509Certificate } from 'node:crypto';
import { createCA, createServingCert, serviceDnsNames, type CertPair } from './generate.ts';

export interface CertState {
  ca?: CertPair;
  /** Every CA the webhook configurations should trust, newest first, as PEM. */
  bundle: string[];
  serving?: CertPair;
  /** When the current bundle was last written into the webhook configurations. */
  bundlePublishedAt?: Date;
}

export interface CertSettings {
  serviceName: string;
  namespace: string;
  dnsNames: string[];
  ipAddresses: string[];
  caValidityDays: number;
  servingValidityDays: number;
  /** Renew when less than this fraction of a certificate's lifetime remains. */
  renewFraction: number;
  propagationMs: number;
}

export interface CertPlan {
  state: CertState;
  changed: boolean;
  /** Why, for logs: "created CA", "serving certificate expires soon", … */
  reasons: string[];
  /** Set when a needed serving certificate waits for the new CA to propagate. */
  waitingUntil?: Date;
}

type Maker = { ca: typeof createCA; serving: typeof createServingCert };
const defaultMaker: Maker = { ca: createCA, serving: createServingCert };

function needsRenewal(pem: string, now: Date, fraction: number): boolean {
  const x = new X509Certificate(pem);
  const from = new Date(x.validFrom).getTime();
  const to = new Date(x.validTo).getTime();
  return to - now.getTime() < (to - from) * fraction;
}

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
const expired = (pem: string, now: Date) => new Date(new X509Certificate(pem).validTo).getTime() <= now.getTime();

export function wantedNames(s: CertSettings): string[] {
  return [...serviceDnsNames(s.serviceName, s.namespace), ...s.dnsNames];
}

function servingProblem(serving: CertPair | undefined, ca: CertPair, s: CertSettings, now: Date): string | undefined {
  if (!serving) return 'no serving certificate';
  const x = new X509Certificate(serving.certPem);
  const issuer = new X509Certificate(ca.certPem);
  if (!x.checkIssued(issuer) || !x.verify(issuer.publicKey)) return 'serving certificate is not from the current CA';
  if (needsRenewal(serving.certPem, now, s.renewFraction)) return 'serving certificate expires soon';
  const sans = new Set((x.subjectAltName ?? '').split(', '));
  const missing = [...wantedNames(s).map((n) => `DNS:${n}`), ...s.ipAddresses.map((ip) => `IP Address:${ip}`)].filter((n) => !sans.has(n));
  if (missing.length) return `serving certificate lacks ${missing.join(', ')}`;
  return undefined;
}

export function planCerts(current: CertState, now: Date, s: CertSettings, make: Maker = defaultMaker): CertPlan {
  const reasons: string[] = [];
  let { ca, bundle, serving, bundlePublishedAt } = current;
  bundle = [...bundle];

  if (!ca || needsRenewal(ca.certPem, now, s.renewFraction)) {
    reasons.push(ca ? 'CA expires soon: new CA added to the bundle beside the old one' : 'created CA');
    ca = make.ca({ commonName: `${s.serviceName}.${s.namespace} CA`, validityDays: s.caValidityDays, now });
    bundle = [ca.certPem, ...bundle];
    bundlePublishedAt = undefined;
  }
  const kept = bundle.filter((pem) => !expired(pem, now));
  if (kept.length !== bundle.length) reasons.push(`removed ${bundle.length - kept.length} expired CA(s) from the bundle`);
  const caFingerprint = fingerprint(ca.certPem);
  bundle = kept.some((pem) => fingerprint(pem) === caFingerprint) ? kept : [ca.certPem, ...kept];

  let waitingUntil: Date | undefined;
  const problem = servingProblem(serving, ca, s, now);
  if (problem) {
    const readyAt = bundlePublishedAt && new Date(bundlePublishedAt.getTime() + s.propagationMs);
    // Bootstrap (nothing served yet) needs no wait, nor does an expired certificate (it fails every call already:
    // a new one fails only until the bundle has spread); otherwise the new issuer must be trusted everywhere first.
    if (!serving || expired(serving.certPem, now) || (readyAt && readyAt.getTime() <= now.getTime())) {
      serving = make.serving(ca, {
        commonName: `${s.serviceName}.${s.namespace}.svc`,
        dnsNames: wantedNames(s),
        ipAddresses: s.ipAddresses,
        validityDays: s.servingValidityDays,
        now,
      });
      reasons.push(`issued serving certificate (${problem})`);
    } else {
      waitingUntil = readyAt ?? new Date(now.getTime() + s.propagationMs);
      reasons.push(`${problem}; waiting until the new CA has been trusted for ${s.propagationMs / 1000}s`);
    }
  }
  const state: CertState = { ca, bundle, serving, bundlePublishedAt };
  const changed =
    ca !== current.ca || serving !== current.serving || bundle.join() !== current.bundle.join() || bundlePublishedAt !== current.bundlePublishedAt;
  return { state, changed, reasons, waitingUntil };
}

// Certificate settings for tests: podid's defaults in shape, with short lifetimes; override what a test varies.

import type { CertSettings } from '../certs/plan.ts';

export const testCertSettings = (over: Partial<CertSettings> = {}): CertSettings => ({
  serviceName: 'podid-webhook',
  namespace: 'podid-system',
  dnsNames: [],
  ipAddresses: [],
  caValidityDays: 10,
  servingValidityDays: 5,
  renewFraction: 1 / 3,
  propagationMs: 0,
  ...over,
});

// A throwaway CA and a loopback serving certificate for the emulators, written where clients can be told
// to trust it (NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE, SSL_CERT_FILE).

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCA, createServingCert } from '../certs/generate.ts';

export interface TestTls {
  caPem: string;
  caFile: string;
  cert: string;
  key: string;
  /** Variables that make Node, Python (requests) and Go clients trust the CA. */
  trustEnv: Record<string, string>;
}

/** The CA and a serving certificate for loopback and `ipAddresses` (the e2e node's address, where pods reach the
 * emulators). */
export async function createTestTls(dir: string, ipAddresses: string[] = []): Promise<TestTls> {
  const ca = createCA({ commonName: 'podid emulator CA', validityDays: 2 });
  const serving = createServingCert(ca, {
    commonName: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1', '::1', ...ipAddresses],
    validityDays: 1,
  });
  const caFile = join(dir, 'emulator-ca.pem');
  await writeFile(caFile, ca.certPem);
  return {
    caPem: ca.certPem,
    caFile,
    cert: serving.certPem,
    key: serving.keyPem,
    trustEnv: { NODE_EXTRA_CA_CERTS: caFile, REQUESTS_CA_BUNDLE: caFile, SSL_CERT_FILE: caFile },
  };
}

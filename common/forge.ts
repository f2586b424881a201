// node-forge (certificate creation, PKCS#12), loaded on first use: ~11 MiB of resident memory that the webhook
// spends only when it issues a certificate, and NMI only for a PKCS#12 service-principal Secret.

import { createRequire } from 'node:module';

let forgeModule: typeof import('node-forge') | undefined;
export function forge(): typeof import('node-forge') {
  return (forgeModule ??= createRequire(import.meta.url)('node-forge') as typeof import('node-forge'));
}

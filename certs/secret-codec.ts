// CertState ↔ the Secret that stores it (type kubernetes.io/tls, so tools recognise tls.crt/tls.key).

import type { CertState } from './plan.ts';

export const PUBLISHED_ANNOTATION = 'podid.io/ca-bundle-published-at';

export interface SecretLike {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; annotations?: Record<string, string> };
  type?: string;
  data?: Record<string, string>;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64').toString('utf8') : undefined);

/** Splits concatenated PEM certificates. */
export function splitPem(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)?.map((p) => (p.endsWith('\n') ? p : `${p}\n`)) ?? [];
}

export function stateFromSecret(secret: SecretLike | undefined): CertState {
  const d = secret?.data ?? {};
  const caCert = unb64(d['ca.crt']);
  const caKey = unb64(d['ca.key']);
  const tlsCert = unb64(d['tls.crt']);
  const tlsKey = unb64(d['tls.key']);
  const published = secret?.metadata?.annotations?.[PUBLISHED_ANNOTATION];
  const at = published ? new Date(published) : undefined;
  return {
    ca: caCert && caKey ? { certPem: caCert, keyPem: caKey } : undefined,
    bundle: splitPem(unb64(d['ca-bundle.crt']) ?? ''),
    serving: tlsCert && tlsKey ? { certPem: tlsCert, keyPem: tlsKey } : undefined,
    bundlePublishedAt: at && !Number.isNaN(at.getTime()) ? at : undefined,
  };
}

export function secretFromState(name: string, namespace: string, state: CertState, resourceVersion?: string): SecretLike {
  const annotations: Record<string, string> = {};
  if (state.bundlePublishedAt) annotations[PUBLISHED_ANNOTATION] = state.bundlePublishedAt.toISOString();
  return {
    metadata: { name, namespace, resourceVersion, annotations },
    type: 'kubernetes.io/tls',
    data: {
      'ca.crt': b64(state.ca?.certPem ?? ''),
      'ca.key': b64(state.ca?.keyPem ?? ''),
      'ca-bundle.crt': b64(state.bundle.join('')),
      'tls.crt': b64(state.serving?.certPem ?? ''),
      'tls.key': b64(state.serving?.keyPem ?? ''),
    },
  };
}

// `podid certs init`: one pass of certificate management (create, renew, rotate, publish caBundle).
// The webhook runs the same pass in a loop with --manage-certs.

import { parseDurationMs } from '../common/duration.ts';
import { createLogger } from '../common/log.ts';
import type { CertSettings } from '../certs/plan.ts';
import { reconcileCerts, type ReconcileOptions } from '../certs/reconcile.ts';
import { UsageError, convert, type Command, type FlagSpec, type FlagValues } from './flags.ts';

export const certFlags: FlagSpec[] = [
  { name: 'namespace', env: 'PODID_NAMESPACE', default: 'podid-system', help: "podid's namespace (Secret and Service)" },
  { name: 'secret-name', env: 'PODID_CERTS_SECRET', default: 'podid-webhook-tls', help: 'Secret holding the CA, the CA bundle and the serving certificate' },
  { name: 'service-name', env: 'PODID_SERVICE_NAME', default: 'podid-webhook', help: 'webhook Service; its DNS names go into the certificate' },
  { name: 'webhook-config-name', env: 'PODID_WEBHOOK_CONFIG_NAME', default: 'podid', help: 'name of the Mutating and ValidatingWebhookConfiguration whose caBundle podid sets' },
  { name: 'extra-dns-names', env: 'PODID_CERTS_DNS_NAMES', default: '', help: 'more DNS names for the certificate, comma-separated' },
  { name: 'extra-ips', env: 'PODID_CERTS_IPS', default: '', help: 'IP addresses for the certificate, comma-separated' },
  { name: 'ca-validity', env: 'PODID_CA_VALIDITY', default: '87600h', help: 'CA lifetime (renewed with a third left, beside the old CA)' },
  { name: 'cert-validity', env: 'PODID_CERT_VALIDITY', default: '8760h', help: 'serving certificate lifetime (renewed with a third left)' },
  { name: 'ca-propagation', env: 'PODID_CA_PROPAGATION', default: '2m', help: 'how long a new CA is published before certificates it signs are served' },
  { name: 'kubeconfig', env: 'KUBECONFIG', default: '', help: 'kubeconfig file (default: in-cluster service account, then ~/.kube/config)' },
];

const list = (text: string | undefined) => (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const days = (v: FlagValues, name: string) => convert(v, name, parseDurationMs) / 86_400_000;

export function certOptionsFrom(v: FlagValues, writeDir?: string): ReconcileOptions {
  const settings: CertSettings = {
    serviceName: v['service-name']!,
    namespace: v.namespace!,
    dnsNames: list(v['extra-dns-names']),
    ipAddresses: list(v['extra-ips']),
    caValidityDays: days(v, 'ca-validity'),
    servingValidityDays: days(v, 'cert-validity'),
    renewFraction: 1 / 3,
    propagationMs: convert(v, 'ca-propagation', parseDurationMs),
  };
  if (settings.servingValidityDays > settings.caValidityDays) throw new UsageError('--cert-validity must not exceed --ca-validity');
  return { secretName: v['secret-name']!, namespace: v.namespace!, settings, writeDir };
}

/** Loads the Kubernetes client only when certificates are managed: it roughly doubles the webhook's memory. */
export async function certStoreFrom(v: FlagValues) {
  const { kubeCertStore, kubeConfigFromEnvironment } = await import('../certs/kube-store.ts');
  const name = v['webhook-config-name']!;
  return kubeCertStore(kubeConfigFromEnvironment(v.kubeconfig || undefined), {
    namespace: v.namespace!,
    secretName: v['secret-name']!,
    mutatingConfig: name,
    validatingConfig: name,
  });
}

export const certsInitCommand: Command = {
  name: 'certs init',
  summary: 'create or renew the webhook CA and serving certificate in their Secret and publish caBundle (one pass)',
  flags: [...certFlags, { name: 'write-dir', env: 'PODID_CERTS_WRITE_DIR', default: '', help: 'also write tls.crt, tls.key and ca.crt here' }, { name: 'log-level', env: 'PODID_LOG_LEVEL', default: 'info', help: 'pino level' }],
  async run(v) {
    const result = await reconcileCerts(await certStoreFrom(v), certOptionsFrom(v, v['write-dir'] || undefined), createLogger('certs', v['log-level']));
    process.stdout.write(`${result.reasons.length ? result.reasons.join('\n') : 'certificates are current'}\n`);
    return 0;
  },
};

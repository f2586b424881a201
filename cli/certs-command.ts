// `podid certs init`: one pass of certificate management (create, renew, rotate, publish caBundle).
// The webhook runs the same pass in a loop with --manage-certs.

import type { CertSettings } from '../certs/plan.ts';
import { reconcileCerts, type ReconcileOptions } from '../certs/reconcile.ts';
import { kubeCertStore } from '../certs/kube-store.ts';
import { kubeClient, kubeCredentials, type KubeClient } from '../common/kube-client.ts';
import { createLogger } from '../common/log.ts';
import { kubeconfigFlag, logLevelFlag } from './common-flags.ts';
import { UsageError, defineCommand, flag, types, type FlagType, type FlagValues } from './flags.ts';

/** A duration flag read as days (certificate lifetimes). */
const days: FlagType<number> = { placeholder: 'DURATION', parse: (t, what) => types.duration.parse(t, what) / 86_400_000 };

// One row per flag: a table reads best unwrapped.
// prettier-ignore
export const certFlags = {
  namespace: flag(types.string, { env: 'PODID_NAMESPACE', default: 'podid-system', help: "podid's namespace (Secret and Service)" }),
  'secret-name': flag(types.string, { env: 'PODID_CERTS_SECRET', default: 'podid-webhook-tls', help: 'Secret holding the CA, the CA bundle and the serving certificate' }),
  'service-name': flag(types.string, { env: 'PODID_SERVICE_NAME', default: 'podid-webhook', help: 'webhook Service; its DNS names go into the certificate' }),
  'webhook-config-name': flag(types.string, { env: 'PODID_WEBHOOK_CONFIG_NAME', default: 'podid', help: 'name of the Mutating and ValidatingWebhookConfiguration whose caBundle podid sets' }),
  'extra-dns-names': flag(types.list, { env: 'PODID_CERTS_DNS_NAMES', default: '', help: 'more DNS names for the certificate, comma-separated' }),
  'extra-ips': flag(types.list, { env: 'PODID_CERTS_IPS', default: '', help: 'IP addresses for the certificate, comma-separated' }),
  'ca-validity': flag(days, { env: 'PODID_CA_VALIDITY', default: '87600h', help: 'CA lifetime (renewed with a third left, beside the old CA)' }),
  'cert-validity': flag(days, { env: 'PODID_CERT_VALIDITY', default: '8760h', help: 'serving certificate lifetime (renewed with a third left)' }),
  'ca-propagation': flag(types.duration, { env: 'PODID_CA_PROPAGATION', default: '2m', help: 'how long a new CA is published before certificates it signs are served' }),
  kubeconfig: kubeconfigFlag('kubeconfig file (default: in-cluster service account, then ~/.kube/config)'),
};
type CertValues = FlagValues<typeof certFlags>;

export function certOptionsFrom(v: CertValues, writeDir?: string): ReconcileOptions {
  const settings: CertSettings = {
    serviceName: v['service-name'],
    namespace: v.namespace,
    dnsNames: v['extra-dns-names'],
    ipAddresses: v['extra-ips'],
    caValidityDays: v['ca-validity'],
    servingValidityDays: v['cert-validity'],
    renewFraction: 1 / 3,
    propagationMs: v['ca-propagation'],
  };
  if (settings.servingValidityDays > settings.caValidityDays) throw new UsageError('--cert-validity must not exceed --ca-validity');
  return { secretName: v['secret-name'], namespace: v.namespace, settings, writeDir };
}

/** The certificates' Secret and webhook configurations, through `kube`. */
export function certStoreFrom(v: CertValues, kube: KubeClient) {
  const name = v['webhook-config-name'];
  return kubeCertStore(kube, {
    namespace: v.namespace,
    secretName: v['secret-name'],
    mutatingConfig: name,
    validatingConfig: name,
  });
}

export const certsInitCommand = defineCommand({
  name: 'certs init',
  summary: 'create or renew the webhook CA and serving certificate in their Secret and publish caBundle (one pass)',
  flags: {
    ...certFlags,
    'write-dir': flag(types.optionalString, { env: 'PODID_CERTS_WRITE_DIR', help: 'also write tls.crt, tls.key and ca.crt here' }),
    'log-level': logLevelFlag('info'),
  },
  async run(v) {
    const kube = kubeClient(kubeCredentials(v.kubeconfig));
    const result = await reconcileCerts(certStoreFrom(v, kube), certOptionsFrom(v, v['write-dir']), createLogger('certs', v['log-level'])).finally(() =>
      kube.close(),
    );
    process.stdout.write(`${result.reasons.length ? result.reasons.join('\n') : 'certificates are current'}\n`);
    return 0;
  },
});

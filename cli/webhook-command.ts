// `podid webhook`: flags → settings → the running HTTPS admission server.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startCertLoop as runCertLoop } from '../certs/loop.ts';
import { createLogger, type Logger } from '../common/log.ts';
import { MIN_TOKEN_EXPIRATION_SECONDS, defaultInjectionConfig as d, type InjectionConfig } from '../webhook/injection-config.ts';
import { ENV_FLAVOURS } from '../webhook/sdk-env.ts';
import { identityHints, type IdentityHints } from '../webhook/identity-hints.ts';
import { DEFAULT_ADMISSION_LIMITS } from '../webhook/app.ts';
import { startWebhook, type WebhookSettings } from '../webhook/server.ts';
import { NETRAW_MODES, NETRAW_SCOPES, defaultValidationConfig, parseLabelSelector, type ValidationConfig } from '../webhook/validation-config.ts';
import { certOptionsFrom, certFlags, certStoreFrom } from './certs-command.ts';
import { kubeClient, kubeCredentials, type KubeClient } from '../common/kube-client.ts';
import { MODES } from '../common/mode.ts';
import { logLevelFlag } from './common-flags.ts';
import { UsageError, defineCommand, flag, switchFlag, typeOf, types, type FlagType, type FlagValues } from './flags.ts';
import { untilSignal } from './signals.ts';
import { cachedServiceAccounts, fetchServiceAccount } from '../webhook/service-accounts.ts';
import { WI_DEFAULT_AUTHORITY_HOST, WI_TOKEN } from '../tokens/workload-identity-contract.ts';

/** A Kubernetes resource quantity (`10m`, `64Mi`). */
const quantity: FlagType<string> = {
  placeholder: 'QUANTITY',
  parse: (text, what) => {
    if (!/^\d+(\.\d+)?(m|Ki|Mi|Gi|k|M|G)?$/.test(text)) throw new UsageError(`${what}: "${text}" is not a Kubernetes quantity like 10m or 64Mi`);
    return text;
  },
};

/** The sidecar's UID: any but root. */
const nonRootUid: FlagType<number> = {
  placeholder: 'UID',
  parse: (text, what) => {
    if (!/^\d+$/.test(text) || Number(text) === 0) throw new UsageError(`${what}: must be a non-zero UID`);
    return Number(text);
  },
};

const labelSelector = typeOf('K=V,K', parseLabelSelector);

// One row per flag: a table reads best unwrapped.
// prettier-ignore
export const webhookFlags = {
  listen: flag(types.listen, { env: 'PODID_WEBHOOK_LISTEN', default: ':8443', help: 'HTTPS listen address: host:port, [ipv6]:port or :port for all interfaces' }),
  'metrics-listen': flag(types.optional(types.listen), { env: 'PODID_METRICS_LISTEN', default: ':9090', help: 'plain-HTTP address of /metrics, apart from the admission port (empty: only on the admission port)' }),
  'tls-cert': flag(types.optionalString, { env: 'PODID_TLS_CERT', help: 'PEM serving certificate (chain); re-read when it changes; required unless --manage-certs' }),
  'tls-key': flag(types.optionalString, { env: 'PODID_TLS_KEY', help: 'PEM private key of the serving certificate; re-read when it changes; required unless --manage-certs' }),
  'manage-certs': switchFlag({ env: 'PODID_MANAGE_CERTS', help: 'create, renew and rotate the certificate in its Secret, publish caBundle, and serve it (see podid certs init)' }),
  'certs-dir': flag(types.string, { env: 'PODID_CERTS_DIR', default: '/tmp/podid-certs', help: 'with --manage-certs: where the serving pair is written (an emptyDir)' }),
  'certs-interval': flag(types.duration, { env: 'PODID_CERTS_INTERVAL', default: '1m', help: 'with --manage-certs: how often certificates are reconciled (±10% jitter)' }),
  'tls-reload-interval': flag(types.duration, { env: 'PODID_TLS_RELOAD_INTERVAL', default: '10s', help: 'how often the certificate files are checked for changes' }),
  'max-request-bytes': flag(types.bytes, { env: 'PODID_MAX_REQUEST_BYTES', default: '3Mi', help: "largest AdmissionReview body accepted (larger ones get 413 before they are read); the apiserver's own limit on a request is 3Mi" }),
  'max-inflight-bytes': flag(types.bytes, { env: 'PODID_MAX_INFLIGHT_BYTES', default: '12Mi', help: 'AdmissionReview bytes held at once across requests (at least --max-request-bytes); past it requests wait in line' }),
  'max-inflight-wait': flag(types.duration, { env: 'PODID_MAX_INFLIGHT_WAIT', default: '2s', help: 'how long a request waits for room under --max-inflight-bytes before a 503 with Retry-After (keep it under the webhook timeoutSeconds)' }),
  'shutdown-drain': flag(types.duration, { env: 'PODID_SHUTDOWN_DRAIN', default: '5s', help: 'on SIGTERM, how long to keep serving while reporting not ready' }),
  'log-level': logLevelFlag('info'),
  'sidecar-image': flag(types.string, { env: 'PODID_SIDECAR_IMAGE', default: d.sidecarImage, help: 'image of the injected token sidecar (the podid sidecar image)' }),
  'sidecar-image-from': flag(types.optionalString, { env: 'PODID_SIDECAR_IMAGE_FROM', help: "POD/CONTAINER: take the sidecar image from this container of the webhook's own pod (deploy/ and the chart carry it as the init container sidecar-image, so kustomize's images, helm's tag or kubectl set image move the injected sidecar too); --sidecar-image when it cannot be read" }),
  'sidecar-port': flag(types.port, { env: 'PODID_SIDECAR_PORT', default: String(d.port), help: 'loopback port the sidecar serves tokens on inside each pod' }),
  'sidecar-health-port': flag(types.port, { env: 'PODID_SIDECAR_HEALTH_PORT', default: String(d.healthPort), help: 'pod port of the sidecar health endpoint used by its probes' }),
  'nmi-port': flag(types.port, { env: 'PODID_NMI_PORT', default: String(d.nmiPort), help: 'node port NMI listens on; the sidecar calls it on the node IP' }),
  'sidecar-cpu-request': flag(quantity, { env: 'PODID_SIDECAR_CPU_REQUEST', default: d.resources.cpuRequest, help: 'sidecar CPU request' }),
  'sidecar-memory-request': flag(quantity, { env: 'PODID_SIDECAR_MEMORY_REQUEST', default: d.resources.memoryRequest, help: 'sidecar memory request' }),
  'sidecar-cpu-limit': flag(types.optional(quantity), { env: 'PODID_SIDECAR_CPU_LIMIT', default: '', help: 'sidecar CPU limit (empty: none)' }),
  'sidecar-memory-limit': flag(types.optional(quantity), { env: 'PODID_SIDECAR_MEMORY_LIMIT', default: d.resources.memoryLimit ?? '', help: 'sidecar memory limit (empty: none)' }),
  'sidecar-run-as-user': flag(nonRootUid, { env: 'PODID_SIDECAR_RUN_AS_USER', default: String(d.runAsUser), help: 'non-root UID and GID the sidecar runs as' }),
  'token-audience': flag(types.string, { env: 'PODID_TOKEN_AUDIENCE', default: d.tokenAudience, help: 'audience of the projected service-account token the sidecar presents to NMI' }),
  'token-expiration': flag(types.seconds, { env: 'PODID_TOKEN_EXPIRATION', default: '1h', help: 'lifetime of that token (at least 10m; the kubelet refreshes it at 80%)' }),
  'env-flavour': flag(types.oneOf(ENV_FLAVOURS), { env: 'PODID_ENV_FLAVOUR', default: d.envFlavour, help: 'SDK variables injected: all (the IMDS host, the App Service pair and MSI_ENDPOINT for msrestazure/adal), both (the first two), imds (AZURE_POD_IDENTITY_AUTHORITY_HOST) or appservice (IDENTITY_ENDPOINT/IDENTITY_HEADER)' }),
  netraw: flag(types.oneOf(NETRAW_MODES), { env: 'PODID_NETRAW', default: defaultValidationConfig.mode, help: 'NET_RAW rule: fix (/mutate-netraw adds the missing drop to each Pod as it is created, templates get warnings, the rest is enforced), enforce (deny), warn (allow with warnings), audit (allow, log, audit annotation) or off' }),
  'netraw-scope': flag(types.oneOf(NETRAW_SCOPES), { env: 'PODID_NETRAW_SCOPE', default: 'all', help: 'which pods the NET_RAW rule checks: all, or only labeled (aadpodidbinding) ones' }),
  'netraw-exempt-namespaces': flag(types.list, { env: 'PODID_NETRAW_EXEMPT_NAMESPACES', default: 'kube-system', help: 'namespaces the NET_RAW rule skips, comma-separated' }),
  'netraw-exempt-labels': flag(labelSelector, { env: 'PODID_NETRAW_EXEMPT_LABELS', default: '', help: 'pods (templates) with all these labels are exempt, e.g. app=my-cni (key=value or key, comma-separated)' }),
  mode: flag(types.oneOf(MODES), { env: 'PODID_MODE', default: 'managed', help: 'with --identity-hints: standard also warns about type 0 identities podid-controller cannot assign (no resourceID); match the controller' }),
  'workload-identity': switchFlag({ env: 'PODID_WORKLOAD_IDENTITY', help: "serve azure-workload-identity's pods at POST /mutate-workload-identity (reads each pod's ServiceAccount); deploy/ turns it on" }),
  'wi-tenant-id': flag(types.optionalString, { env: 'PODID_WI_TENANT_ID', help: 'workload identity: AZURE_TENANT_ID for ServiceAccounts without the azure.workload.identity/tenant-id annotation' }),
  'wi-authority-host': flag(types.url, { env: 'PODID_WI_AUTHORITY_HOST', default: WI_DEFAULT_AUTHORITY_HOST, help: "workload identity: AZURE_AUTHORITY_HOST, the cloud's Azure AD endpoint" }),
  'sidecar-ca-configmap': flag(types.optionalString, { env: 'PODID_SIDECAR_CA_CONFIGMAP', help: "workload identity's proxy: a ConfigMap in each pod's namespace (key ca.crt) of CAs to trust beside Node's, for an Azure AD endpoint behind a private CA; optional in the pod" }),
  'wi-audience': flag(types.string, { env: 'PODID_WI_AUDIENCE', default: WI_TOKEN.audience, help: 'workload identity: audience of the projected azure-identity-token (what the federated credentials name)' }),
  'identity-hints': switchFlag({ env: 'PODID_IDENTITY_HINTS', help: 'watch the podid CRDs and warn at admission about labeled pods podid will not serve (no binding, missing identity, exception); deploy/ turns it on' }),
  ...certFlags,
};
export type WebhookValues = FlagValues<typeof webhookFlags>;

export function injectionConfigFrom(v: WebhookValues): InjectionConfig {
  const expirationSeconds = Math.round(v['token-expiration']);
  if (expirationSeconds < MIN_TOKEN_EXPIRATION_SECONDS) throw new UsageError('--token-expiration: Kubernetes requires at least 10m');
  return {
    sidecarName: d.sidecarName,
    volumeName: d.volumeName,
    sidecarImage: v['sidecar-image'],
    port: v['sidecar-port'],
    healthPort: v['sidecar-health-port'],
    nmiPort: v['nmi-port'],
    tokenAudience: v['token-audience'],
    tokenExpirationSeconds: expirationSeconds,
    envFlavour: v['env-flavour'],
    resources: {
      cpuRequest: v['sidecar-cpu-request'],
      memoryRequest: v['sidecar-memory-request'],
      cpuLimit: v['sidecar-cpu-limit'],
      memoryLimit: v['sidecar-memory-limit'],
    },
    runAsUser: v['sidecar-run-as-user'],
    caConfigMap: v['sidecar-ca-configmap'],
  };
}

export function webhookSettingsFrom(v: WebhookValues): WebhookSettings {
  const injection = injectionConfigFrom(v);
  if (injection.port === injection.healthPort) throw new UsageError('--sidecar-port and --sidecar-health-port must differ');
  const certFile = v['tls-cert'];
  const keyFile = v['tls-key'];
  const dir = v['certs-dir'];
  let tls: WebhookSettings['tls'];
  if (v['manage-certs']) tls = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
  else if (certFile && keyFile) tls = { certFile, keyFile };
  else throw new UsageError('--tls-cert and --tls-key (or PODID_TLS_CERT and PODID_TLS_KEY) are required unless --manage-certs is set');
  return {
    listen: v.listen,
    metricsListen: v['metrics-listen'],
    tls,
    tlsReloadMs: v['tls-reload-interval'],
    limits: {
      ...DEFAULT_ADMISSION_LIMITS,
      maxRequestBytes: v['max-request-bytes'],
      maxInflightBytes: Math.max(v['max-inflight-bytes'], v['max-request-bytes']),
      maxInflightWaitMs: v['max-inflight-wait'],
    },
    injection,
    validation: validationConfigFrom(v),
  };
}

export function validationConfigFrom(v: WebhookValues): ValidationConfig {
  return {
    mode: v.netraw,
    scope: v['netraw-scope'],
    exemptNamespaces: v['netraw-exempt-namespaces'],
    exemptLabels: v['netraw-exempt-labels'],
  };
}

export const webhookCommand = defineCommand({
  name: 'webhook',
  summary: 'HTTPS admission server: POST /mutate injects the token sidecar, POST /validate enforces the NET_RAW rule',
  flags: webhookFlags,
  async run(v) {
    const logger = createLogger('webhook', v['log-level']);
    // One API client for the pod lookup, the certificates and the hints, made when the first of them needs it.
    let client: KubeClient | undefined;
    const kube = () => (client ??= kubeClient(kubeCredentials(v.kubeconfig)));
    const hints = new IdentityHintsFeed();
    const base = webhookSettingsFrom(v);
    const sidecarImage = v['sidecar-image-from'] ? await sidecarImageFromPod(v, base.injection.sidecarImage, logger, kube) : base.injection.sidecarImage;
    const settings = {
      ...base,
      injection: { ...base.injection, sidecarImage },
      identityHints: v['identity-hints'] ? hints.hints : undefined,
      workloadIdentity: v['workload-identity'] ? workloadIdentityFrom(v, kube) : undefined,
    };
    const certLoop = v['manage-certs'] ? await startCertLoop(v, logger, kube) : undefined;
    const running = await startWebhook(settings, logger);
    if (v['identity-hints']) hints.start(v, logger, kube);
    const signal = await untilSignal();
    logger.info({ signal }, 'shutting down');
    certLoop?.stop();
    hints.stop();
    await running.close(v['shutdown-drain']);
    client?.close();
    return 0;
  },
});

/** The workload-identity settings and the ServiceAccount reads behind /mutate-workload-identity. */
function workloadIdentityFrom(v: WebhookValues, kube: () => KubeClient): NonNullable<WebhookSettings['workloadIdentity']> {
  return {
    wi: { tenantId: v['wi-tenant-id'], authorityHost: v['wi-authority-host'], audience: v['wi-audience'] },
    serviceAccounts: cachedServiceAccounts(fetchServiceAccount(kube)),
  };
}

/**
 * The image of a container of the webhook's own pod (`--sidecar-image-from POD/CONTAINER`, the pod in the webhook's
 * namespace): an image field every image tool rewrites, unlike an env value. Falls back to --sidecar-image.
 */
async function sidecarImageFromPod(v: WebhookValues, fallback: string, logger: Logger, kube: () => KubeClient): Promise<string> {
  const [pod, container] = v['sidecar-image-from']!.split('/');
  if (!pod || !container) throw new UsageError(`--sidecar-image-from must be POD/CONTAINER, got ${JSON.stringify(v['sidecar-image-from'])}`);
  try {
    type Spec = { spec?: { initContainers?: { name: string; image?: string }[]; containers?: { name: string; image?: string }[] } };
    const p = await kube().request<Spec>('GET', `/api/v1/namespaces/${v.namespace}/pods/${pod}`);
    const image = [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])].find((c) => c.name === container)?.image;
    if (image) {
      logger.info({ image, from: `${v.namespace}/${pod}/${container}` }, 'sidecar image from the webhook pod');
      return image;
    }
    logger.warn({ pod, container }, 'no such container in the webhook pod; using --sidecar-image');
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'cannot read the webhook pod; using --sidecar-image');
  }
  return fallback;
}

/** Certificates first (the server needs them to start), then a reconcile every --certs-interval. */
async function startCertLoop(v: WebhookValues, logger: Logger, kube: () => KubeClient) {
  const dir = v['certs-dir'];
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return runCertLoop(certStoreFrom(v, kube()), certOptionsFrom(v, dir), v['certs-interval'], logger);
}

/**
 * Identity hints from the podid CRDs, watched in the background once the server runs: until the first lists are
 * in (or if the cluster cannot be read) there are no hints, never wrong ones.
 */
class IdentityHintsFeed {
  private current?: IdentityHints;
  private stopInformers?: () => void;
  readonly hints: IdentityHints = (pod) => this.current?.(pod);

  start(v: WebhookValues, logger: Logger, kube: () => KubeClient): void {
    void (async () => {
      const { IdentityStore } = await import('../identity/store.ts');
      const { identityWatches } = await import('../identity/watches.ts');
      const { runWatches } = await import('../common/kube-watch.ts');
      const store = new IdentityStore();
      this.stopInformers = await runWatches(kube(), identityWatches(store, logger), logger, () => {});
      this.current = identityHints((pod) => store.objectsFor(pod), { forceNamespaced: false, standard: v.mode === 'standard' });
      logger.info(store.counts, 'identity hints on: podid CRDs synced');
    })().catch((err: unknown) => logger.warn({ err }, 'identity hints off: the podid CRDs cannot be read'));
  }

  stop(): void {
    this.stopInformers?.();
  }
}

// `podid webhook`: flags → settings → the running HTTPS admission server.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startCertLoop as runCertLoop } from '../certs/loop.ts';
import { parseBytes, parseDurationMs } from '../common/duration.ts';
import { parseListen, parsePort } from '../common/listen.ts';
import { createLogger, type Logger } from '../common/log.ts';
import {
  ENV_FLAVOURS,
  MIN_TOKEN_EXPIRATION_SECONDS,
  defaultInjectionConfig as d,
  type EnvFlavour,
  type InjectionConfig,
} from '../webhook/injection-config.ts';
import { startWebhook, type WebhookSettings } from '../webhook/server.ts';
import { NETRAW_MODES, parseLabelSelector, type NetRawMode, type ValidationConfig } from '../webhook/validation-config.ts';
import { UsageError, convert, type Command, type FlagSpec, type FlagValues } from './flags.ts';
import { certOptionsFrom, certFlags, certStoreFrom } from './certs-command.ts';
import { untilSignal } from './signals.ts';

export const webhookFlags: FlagSpec[] = [
  { name: 'listen', env: 'PODID_WEBHOOK_LISTEN', default: ':8443', help: 'HTTPS listen address: host:port, [ipv6]:port or :port for all interfaces' },
  { name: 'tls-cert', env: 'PODID_TLS_CERT', default: '', help: 'PEM serving certificate (chain); re-read when it changes; required unless --manage-certs' },
  { name: 'tls-key', env: 'PODID_TLS_KEY', default: '', help: 'PEM private key of the serving certificate; re-read when it changes; required unless --manage-certs' },
  { name: 'manage-certs', env: 'PODID_MANAGE_CERTS', boolean: true, help: 'create, renew and rotate the certificate in its Secret, publish caBundle, and serve it (see podid certs init)' },
  { name: 'certs-dir', env: 'PODID_CERTS_DIR', default: '/tmp/podid-certs', help: 'with --manage-certs: where the serving pair is written (an emptyDir)' },
  { name: 'certs-interval', env: 'PODID_CERTS_INTERVAL', default: '1m', help: 'with --manage-certs: how often certificates are reconciled (±10% jitter)' },
  { name: 'tls-reload-interval', env: 'PODID_TLS_RELOAD_INTERVAL', default: '10s', help: 'how often the certificate files are checked for changes' },
  { name: 'max-request-bytes', env: 'PODID_MAX_REQUEST_BYTES', default: '7Mi', help: 'largest AdmissionReview body accepted (larger ones get 413)' },
  { name: 'shutdown-drain', env: 'PODID_SHUTDOWN_DRAIN', default: '5s', help: 'on SIGTERM, how long to keep serving while reporting not ready' },
  { name: 'log-level', env: 'PODID_LOG_LEVEL', default: 'info', help: 'pino level: fatal, error, warn, info, debug, trace' },
  { name: 'sidecar-image', env: 'PODID_SIDECAR_IMAGE', default: d.sidecarImage, help: 'image of the injected token sidecar (the podid image)' },
  { name: 'sidecar-port', env: 'PODID_SIDECAR_PORT', default: String(d.port), help: 'loopback port the sidecar serves tokens on inside each pod' },
  { name: 'sidecar-health-port', env: 'PODID_SIDECAR_HEALTH_PORT', default: String(d.healthPort), help: 'pod port of the sidecar health endpoint used by its probes' },
  { name: 'nmi-port', env: 'PODID_NMI_PORT', default: String(d.nmiPort), help: 'node port NMI listens on; the sidecar calls it on the node IP' },
  { name: 'sidecar-cpu-request', env: 'PODID_SIDECAR_CPU_REQUEST', default: d.resources.cpuRequest, help: 'sidecar CPU request' },
  { name: 'sidecar-memory-request', env: 'PODID_SIDECAR_MEMORY_REQUEST', default: d.resources.memoryRequest, help: 'sidecar memory request' },
  { name: 'sidecar-cpu-limit', env: 'PODID_SIDECAR_CPU_LIMIT', default: '', help: 'sidecar CPU limit (empty: none)' },
  { name: 'sidecar-memory-limit', env: 'PODID_SIDECAR_MEMORY_LIMIT', default: d.resources.memoryLimit, help: 'sidecar memory limit (empty: none)' },
  { name: 'sidecar-run-as-user', env: 'PODID_SIDECAR_RUN_AS_USER', default: String(d.runAsUser), help: 'non-root UID and GID the sidecar runs as' },
  { name: 'token-audience', env: 'PODID_TOKEN_AUDIENCE', default: d.tokenAudience, help: 'audience of the projected service-account token the sidecar presents to NMI' },
  { name: 'token-expiration', env: 'PODID_TOKEN_EXPIRATION', default: '1h', help: 'lifetime of that token (at least 10m; the kubelet refreshes it at 80%)' },
  { name: 'env-flavour', env: 'PODID_ENV_FLAVOUR', default: d.envFlavour, help: 'SDK variables injected: imds (AZURE_POD_IDENTITY_AUTHORITY_HOST), appservice (IDENTITY_ENDPOINT/IDENTITY_HEADER) or both' },
  { name: 'netraw', env: 'PODID_NETRAW', default: 'enforce', help: 'NET_RAW rule: enforce (deny), warn (allow with warnings), audit (allow, log, audit annotation), fix (/mutate-netraw adds the missing drop, the rest is enforced) or off' },
  { name: 'netraw-scope', env: 'PODID_NETRAW_SCOPE', default: 'all', help: 'which pods the NET_RAW rule checks: all, or only labeled (aadpodidbinding) ones' },
  { name: 'netraw-exempt-namespaces', env: 'PODID_NETRAW_EXEMPT_NAMESPACES', default: 'kube-system', help: 'namespaces the NET_RAW rule skips, comma-separated' },
  { name: 'netraw-exempt-labels', env: 'PODID_NETRAW_EXEMPT_LABELS', default: '', help: 'pods (templates) with all these labels are exempt, e.g. app=my-cni (key=value or key, comma-separated)' },
  ...certFlags,
];

const quantity = (text: string, what: string): string => {
  if (!/^\d+(\.\d+)?(m|Ki|Mi|Gi|k|M|G)?$/.test(text)) throw new UsageError(`${what}: "${text}" is not a Kubernetes quantity like 10m or 64Mi`);
  return text;
};

export function injectionConfigFrom(v: FlagValues): InjectionConfig {
  const flavour = v['env-flavour'] as EnvFlavour;
  if (!ENV_FLAVOURS.includes(flavour)) throw new UsageError(`--env-flavour: "${flavour}" is not one of ${ENV_FLAVOURS.join(', ')}`);
  const expirationSeconds = Math.round(convert(v, 'token-expiration', parseDurationMs) / 1000);
  if (expirationSeconds < MIN_TOKEN_EXPIRATION_SECONDS) throw new UsageError('--token-expiration: Kubernetes requires at least 10m');
  const optional = (name: string) => (v[name] ? convert(v, name, quantity) : undefined);
  const uid = convert(v, 'sidecar-run-as-user', (t, w) => {
    if (!/^\d+$/.test(t) || Number(t) === 0) throw new UsageError(`${w}: must be a non-zero UID`);
    return Number(t);
  });
  return {
    sidecarName: d.sidecarName,
    volumeName: d.volumeName,
    sidecarImage: v['sidecar-image']!,
    port: convert(v, 'sidecar-port', parsePort),
    healthPort: convert(v, 'sidecar-health-port', parsePort),
    nmiPort: convert(v, 'nmi-port', parsePort),
    tokenAudience: v['token-audience']!,
    tokenExpirationSeconds: expirationSeconds,
    envFlavour: flavour,
    resources: {
      cpuRequest: convert(v, 'sidecar-cpu-request', quantity),
      memoryRequest: convert(v, 'sidecar-memory-request', quantity),
      cpuLimit: optional('sidecar-cpu-limit'),
      memoryLimit: optional('sidecar-memory-limit'),
    },
    runAsUser: uid,
  };
}

export function webhookSettingsFrom(v: FlagValues): WebhookSettings {
  const injection = injectionConfigFrom(v);
  if (injection.port === injection.healthPort) throw new UsageError('--sidecar-port and --sidecar-health-port must differ');
  const managed = v['manage-certs'] === 'true';
  if (!managed && (!v['tls-cert'] || !v['tls-key'])) {
    throw new UsageError('--tls-cert and --tls-key (or PODID_TLS_CERT and PODID_TLS_KEY) are required unless --manage-certs is set');
  }
  const dir = v['certs-dir']!;
  return {
    listen: convert(v, 'listen', parseListen),
    tls: managed ? { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') } : { certFile: v['tls-cert']!, keyFile: v['tls-key']! },
    tlsReloadMs: convert(v, 'tls-reload-interval', parseDurationMs),
    maxRequestBytes: convert(v, 'max-request-bytes', parseBytes),
    injection,
    validation: validationConfigFrom(v),
  };
}

export function validationConfigFrom(v: FlagValues): ValidationConfig {
  const mode = v.netraw as NetRawMode;
  if (!NETRAW_MODES.includes(mode)) throw new UsageError(`--netraw: "${mode}" is not one of ${NETRAW_MODES.join(', ')}`);
  const scope = v['netraw-scope'];
  if (scope !== 'all' && scope !== 'labeled') throw new UsageError(`--netraw-scope: "${scope}" is not all or labeled`);
  return {
    mode,
    scope,
    exemptNamespaces: (v['netraw-exempt-namespaces'] ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    exemptLabels: convert(v, 'netraw-exempt-labels', (t, w) => {
      try {
        return parseLabelSelector(t);
      } catch (err) {
        throw new UsageError(`${w}: ${(err as Error).message}`);
      }
    }),
  };
}

export const webhookCommand: Command = {
  name: 'webhook',
  summary: 'HTTPS admission server: POST /mutate injects the token sidecar, POST /validate enforces the NET_RAW rule',
  flags: webhookFlags,
  async run(v) {
    const settings = webhookSettingsFrom(v);
    const logger = createLogger('webhook', v['log-level']);
    const certLoop = v['manage-certs'] === 'true' ? await startCertLoop(v, logger) : undefined;
    const running = await startWebhook(settings, logger);
    const signal = await untilSignal();
    logger.info({ signal }, 'shutting down');
    certLoop?.stop();
    await running.close(convert(v, 'shutdown-drain', parseDurationMs));
    return 0;
  },
};

/** Certificates first (the server needs them to start), then a reconcile every --certs-interval. */
async function startCertLoop(v: FlagValues, logger: Logger) {
  const dir = v['certs-dir']!;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return runCertLoop(await certStoreFrom(v), certOptionsFrom(v, dir), convert(v, 'certs-interval', parseDurationMs), logger);
}

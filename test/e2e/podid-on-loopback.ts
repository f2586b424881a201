// podid's webhook on loopback, registered with the e2e apiserver through deploy/'s own manifests:
// the same rules, selectors, failurePolicy and reinvocationPolicy as production, with clientConfig
// pointing at https://127.0.0.1:<port> and the caBundle of a CA made here.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCA, createServingCert, type CertPair } from '../../certs/generate.ts';
import { createLogger } from '../../common/log.ts';
import { DEFAULT_ADMISSION_LIMITS, type AdmissionHandler } from '../../webhook/app.ts';
import { defaultInjectionConfig } from '../../webhook/injection-config.ts';
import { startWebhook, type RunningWebhook } from '../../webhook/server.ts';
import type { IdentityHints } from '../../webhook/identity-hints.ts';
import { defaultValidationConfig, type ValidationConfig } from '../../webhook/validation-config.ts';
import type { ClusterInfo } from './global-setup.ts';
import { kube } from './kube.ts';

export interface LoopbackPodid {
  ca: CertPair;
  dir: string;
  webhook: RunningWebhook;
  port: number;
  /** Starts the webhook again on the same port (after `webhook.close()`). */
  restart(): Promise<RunningWebhook>;
  stop(): Promise<void>;
}

export async function startLoopbackPodid(
  endpoints?: Record<string, AdmissionHandler>,
  validation: ValidationConfig = defaultValidationConfig,
  identityHints?: IdentityHints,
): Promise<LoopbackPodid> {
  const dir = await mkdtemp(join(tmpdir(), 'podid-e2e-webhook-'));
  const ca = createCA({ commonName: 'podid e2e CA', validityDays: 2 });
  const serving = createServingCert(ca, { commonName: '127.0.0.1', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 2 });
  const tls = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
  await writeFile(tls.certFile, serving.certPem);
  await writeFile(tls.keyFile, serving.keyPem);
  const logger = createLogger('webhook', process.env.PODID_E2E_LOG_LEVEL ?? 'silent');
  const settings = (port: number) => ({
    listen: { host: '127.0.0.1', port },
    tls,
    tlsReloadMs: 500,
    limits: DEFAULT_ADMISSION_LIMITS,
    injection: { ...defaultInjectionConfig, sidecarImage: 'podid:e2e' },
    validation,
    endpoints,
    identityHints,
  });
  const state = { webhook: await startWebhook(settings(0), logger) };
  const port = Number(new URL(state.webhook.url).port);
  return {
    ca,
    dir,
    port,
    get webhook() {
      return state.webhook;
    },
    async restart() {
      state.webhook = await startWebhook(settings(port), logger);
      return state.webhook;
    },
    async stop() {
      await state.webhook.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** deploy/ (or an overlay) rendered by kustomize, as objects. */
export async function renderDeploy(cluster: ClusterInfo, dir = 'deploy'): Promise<any[]> {
  const yaml = await kube(cluster, ['kustomize', dir]);
  // kubectl prints one pretty-printed JSON document per object, each opening and closing at column 0.
  const text = await kube(cluster, ['create', '--dry-run=client', '-o', 'json', '-f', '-'], yaml);
  return text.split(/(?<=^\})\n(?=^\{)/m).map((doc) => JSON.parse(doc));
}

/** podid's own servers: on loopback here, so their Deployments and DaemonSets are not applied (on the real node they
 * would run, and the webhook's pods would publish their own caBundle over the loopback one). */
const SERVER_KINDS = new Set(['Deployment', 'DaemonSet']);

/** Applies deploy/ (or an overlay) with every webhook's clientConfig pointed at podid on loopback, without podid's
 * server workloads (podid's namespace, CRDs, RBAC, Services and webhook configurations as shipped). */
export async function installDeploy(cluster: ClusterInfo, podid: LoopbackPodid, dir = 'deploy'): Promise<any[]> {
  const objects = (await renderDeploy(cluster, dir)).filter((o) => !(SERVER_KINDS.has(o.kind) && o.metadata.namespace === 'podid-system'));
  for (const obj of objects) {
    if (!/WebhookConfiguration$/.test(obj.kind)) continue;
    for (const hook of obj.webhooks) {
      const path = hook.clientConfig.service.path;
      hook.clientConfig = { url: `https://127.0.0.1:${podid.port}${path}`, caBundle: Buffer.from(podid.ca.certPem).toString('base64') };
    }
  }
  const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition' || o.kind === 'Namespace');
  await kube(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: crds }));
  await kube(cluster, [
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    ...crds.filter((o) => o.kind !== 'Namespace').map((o) => `crd/${o.metadata.name}`),
  ]);
  await kube(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  return objects;
}

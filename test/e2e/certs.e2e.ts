// Certificates through the real apiserver: `podid certs init` bootstraps the Secret and caBundle, then
// CA and serving certificates rotate many times while pods are created without pause; the apiserver must
// never fail to call the webhook.

import { X509Certificate } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeCertStore } from '../../certs/kube-store.ts';
import { kubeClient, kubeCredentials } from '../../common/kube-client.ts';
import { reconcileCerts } from '../../certs/reconcile.ts';
import { testCertSettings } from '../certs-settings.ts';
import { createLogger } from '../../common/log.ts';
import { api, kube, kubeJson } from './kube.ts';
import { installDeploy, startLoopbackPodid, type LoopbackPodid } from './podid-on-loopback.ts';

const run = promisify(execFile);
const cluster = inject('cluster');
const NS = 'e2e-certs';
const SECRET = 'podid-webhook-tls';
let podid: LoopbackPodid;

const fp = (pem: string) => new X509Certificate(pem).fingerprint256;
/** The real `podid certs init` against the test cluster. */
const certsInit = (...extra: string[]) =>
  run(process.execPath, ['bin/podid.js', 'certs', 'init', '--kubeconfig', cluster.kubeconfig, '--extra-ips', '127.0.0.1', '--log-level', 'silent', ...extra], {
    timeout: 60_000,
  });

beforeAll(async () => {
  podid = await startLoopbackPodid();
  await installDeploy(cluster, podid);
  await kube(cluster, ['create', 'namespace', NS]);
  await kube(cluster, ['create', 'serviceaccount', 'default', '-n', NS]).catch(() => undefined);
});

afterAll(async () => {
  await podid?.stop();
});

describe('podid certs', () => {
  it('init creates the Secret, publishes caBundle and writes the serving pair', async () => {
    const { stdout } = await certsInit('--write-dir', podid.dir);
    expect(stdout).toContain('created CA');
    expect(stdout).toContain('issued serving certificate (no serving certificate)');
    const secret = await kubeJson(cluster, ['get', 'secret', SECRET, '-n', 'podid-system']);
    expect(secret.type).toBe('kubernetes.io/tls');
    const ca = Buffer.from(secret.data['ca.crt'], 'base64').toString();
    const config = await kubeJson(cluster, ['get', 'mutatingwebhookconfiguration', 'podid']);
    expect(fp(Buffer.from(config.webhooks[0].clientConfig.caBundle, 'base64').toString())).toBe(fp(ca));
    // A second pass finds nothing to do.
    const again = await certsInit();
    expect(again.stdout.trim()).toBe('certificates are current');

    // The webhook reloads the written pair (it polls every 500 ms); the apiserver now trusts only the new CA.
    await new Promise((r) => setTimeout(r, 1500));
    const created = await api(cluster, 'POST', `/api/v1/namespaces/${NS}/pods`, labeledPod());
    expect(created.status).toBe(201);
    expect(created.body.spec.initContainers[0].name).toBe('podid-token');
  });

  it('lets two replicas bootstrap the same Secret at once and serve the same certificate', async () => {
    const store = kubeCertStore(kubeClient(kubeCredentials(cluster.kubeconfig)), {
      namespace: 'podid-system',
      secretName: 'race-tls',
      mutatingConfig: 'no-such-config',
      validatingConfig: 'no-such-config',
    });
    const settings = testCertSettings({ serviceName: 'race' });
    const opts = { secretName: 'race-tls', namespace: 'podid-system', settings };
    const logger = createLogger('certs', 'silent');
    const [a, b] = await Promise.all([reconcileCerts(store, opts, logger), reconcileCerts(store, opts, logger)]);
    expect([a.conflict, b.conflict].sort()).toEqual([false, true]);
    expect(fp(a.state.serving!.certPem)).toBe(fp(b.state.serving!.certPem));
    const stored = await kubeJson(cluster, ['get', 'secret', 'race-tls', '-n', 'podid-system']);
    expect(fp(Buffer.from(stored.data['tls.crt'], 'base64').toString())).toBe(fp(a.state.serving!.certPem));
  });

  it('rotates CA and serving certificates while pods are created, with zero failed creations', async () => {
    const seconds = Number(process.env.PODID_E2E_ROTATION_SECONDS ?? 30);
    const settings = testCertSettings({
      ipAddresses: ['127.0.0.1'],
      caValidityDays: 12 / 86_400, // a new CA every ~8 s
      servingValidityDays: 5 / 86_400, // a new serving certificate every ~3.5 s
      propagationMs: 1000,
    });
    const store = kubeCertStore(kubeClient(kubeCredentials(cluster.kubeconfig)), {
      namespace: 'podid-system',
      secretName: SECRET,
      mutatingConfig: 'podid',
      validatingConfig: 'podid',
    });
    const logger = createLogger('certs', 'silent');
    const cas = new Set<string>();
    const servings = new Set<string>();
    const deadline = Date.now() + seconds * 1000;
    const rotator = (async () => {
      // The 10-year CA from `certs init` reaches its renewal point at once here; after that, normal rules.
      for (let pass = 0; Date.now() < deadline; pass++) {
        const current = pass === 0 ? { ...settings, renewFraction: 1 } : settings;
        const r = await reconcileCerts(store, { secretName: SECRET, namespace: 'podid-system', settings: current, writeDir: podid.dir }, logger);
        cas.add(fp(r.state.ca!.certPem));
        servings.add(fp(r.state.serving!.certPem));
        await new Promise((res) => setTimeout(res, 250));
      }
    })();
    const failures: string[] = [];
    let created = 0;
    while (Date.now() < deadline) {
      // Dry runs: admitted through the webhook like any creation, but not stored, so the real node is not made to start
      // hundreds of pods (its load stalled the rotation loop past a 5-second certificate's end).
      const res = await api(cluster, 'POST', `/api/v1/namespaces/${NS}/pods?dryRun=All`, labeledPod());
      if (res.status !== 201) failures.push(`${res.status}: ${res.body?.message}`);
      else if (res.body.spec.initContainers?.[0]?.name !== 'podid-token') failures.push('created without the sidecar');
      else created++;
    }
    await rotator;
    console.log(`rotation: ${created} pods created, ${cas.size} CAs, ${servings.size} serving certificates, ${failures.length} failures`);
    expect(failures).toEqual([]);
    expect(created).toBeGreaterThan(20);
    expect(cas.size).toBeGreaterThanOrEqual(3);
    expect(servings.size).toBeGreaterThanOrEqual(6);
  });
});

function labeledPod() {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'rot-', labels: { aadpodidbinding: 'reader' } },
    spec: { containers: [{ name: 'app', image: 'example/app:1', securityContext: { capabilities: { drop: ['NET_RAW'] } } }] },
  };
}

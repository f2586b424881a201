// charts/podid with the real helm (built from its Go module by test/cluster/build.sh): lint; `helm template` with
// the defaults renders exactly deploy/'s objects, and with mode=standard and netraw.mode=enforce exactly the two
// overlays' (so the chart and kustomize cannot drift); `helm install` into the real apiserver creates them.

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN } from '../cluster/control-plane.ts';
import { loadAll } from 'js-yaml';
import { kube, kubeJson, kubectl } from './kube.ts';

const run = promisify(execFile);
const cluster = inject('cluster');
const ROOT = resolve(import.meta.dirname, '../..');
const CHART = join(ROOT, 'charts/podid');
/** The e2e control plane's version (test/cluster/go.mod): helm template checks the chart's kubeVersion against it. */
const KUBE = '1.35.4';
const helm = (args: string[]) =>
  run(join(BIN, 'helm'), [...args, '--kubeconfig', cluster.kubeconfig], { cwd: ROOT, maxBuffer: 32 << 20, env: { ...process.env, HOME: '/tmp' } });

/** What helm adds of its own, and what the API server adds, set aside: the objects as the manifests write them. */
function normalize(o: any): any {
  const c = structuredClone(o);
  for (const l of ['helm.sh/chart', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/instance', 'app.kubernetes.io/version']) delete c.metadata.labels?.[l];
  return c;
}
const keyOf = (o: any) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** YAML documents as objects (both sides parsed alike: no kind needs to be known to the cluster, cert-manager's included). */
const objectsOf = (yaml: string): any[] => loadAll(yaml).filter((o: any) => o && o.kind);

/** `helm template` → objects, CRDs (crds/, which helm installs but does not template) included. */
async function template(set: string[] = []): Promise<Map<string, any>> {
  const { stdout } = await helm([
    'template',
    'podid',
    CHART,
    '-n',
    'podid-system',
    '--kube-version',
    KUBE,
    '--include-crds',
    ...set.flatMap((s) => ['--set', s]),
  ]);
  return new Map(objectsOf(stdout).map((o) => [keyOf(o), normalize(o)]));
}

async function kustomize(dir: string): Promise<Map<string, any>> {
  // helm installs into a namespace it is given (--create-namespace); the chart does not template one.
  return new Map(
    objectsOf(await kube(cluster, ['kustomize', dir]))
      .filter((o) => o.kind !== 'Namespace')
      .map((o) => [keyOf(o), o]),
  );
}

/** Every field the manifest sets has that value in the live object (the API server adds defaults). */
function contains(live: any, want: any, path = ''): string[] {
  if (want === null || typeof want !== 'object') return live === want ? [] : [`${path}: ${JSON.stringify(live)} ≠ ${JSON.stringify(want)}`];
  if (Array.isArray(want)) {
    if (!Array.isArray(live) || live.length !== want.length) return [`${path}: ${JSON.stringify(live)?.slice(0, 80)} ≠ ${JSON.stringify(want).slice(0, 80)}`];
    return want.flatMap((w, i) => contains(live[i], w, `${path}[${i}]`));
  }
  return Object.entries(want).flatMap(([k, v]) => contains(live?.[k], v, `${path}.${k}`));
}

beforeAll(async () => {
  // A cluster without podid: other files installed deploy/ with kubectl; helm would refuse to adopt those objects.
  await kubectl(cluster, ['delete', 'mutatingwebhookconfiguration,validatingwebhookconfiguration', 'podid', '--ignore-not-found']);
  await kubectl(cluster, ['delete', 'clusterrole,clusterrolebinding', 'podid-webhook', 'podid-nmi', 'podid-controller', '--ignore-not-found']);
  await kubectl(cluster, ['delete', 'namespace', 'podid-system', '--ignore-not-found', '--wait', '--timeout=120s']);
}, 180_000);

afterAll(async () => {
  await helm(['uninstall', 'podid', '-n', 'podid-system', '--wait']).catch(() => undefined);
  // The chart's pods ran on the node and wrote what helm does not own (the webhook's Secret): the namespace goes,
  // once its pods are gone, as beforeAll found it.
  await kubectl(cluster, ['delete', 'namespace', 'podid-system', '--ignore-not-found', '--wait', '--timeout=120s']);
}, 180_000);

describe('charts/podid with the real helm', () => {
  it('helm lint passes', async () => {
    const { stdout } = await helm(['lint', CHART, '--strict', '--kube-version', KUBE]);
    expect(stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it('ships deploy/’s CRDs byte for byte', async () => {
    expect(await readFile(join(CHART, 'crds/crds.yaml'), 'utf8')).toBe(await readFile(join(ROOT, 'deploy/base/crds.yaml'), 'utf8'));
  });

  it.each([
    ['the defaults', [], 'deploy'],
    ['mode=standard', ['mode=standard'], 'deploy/overlays/standard'],
    ['netraw.mode=enforce', ['netraw.mode=enforce'], 'deploy/overlays/netraw-enforce'],
  ])('helm template with %s renders exactly %s', async (_n, set, dir) => {
    const [chart, kust] = await Promise.all([template(set), kustomize(dir)]);
    expect([...chart.keys()].sort()).toEqual([...kust.keys()].sort());
    for (const [k, o] of kust) expect(chart.get(k), k).toEqual(o);
  });

  it('one image tag moves every component and the injected sidecar', async () => {
    const chart = await template(['image.tag=1.2.3', 'image.repository=registry.example/podid', 'image.sidecarRepository=registry.example/podid-sidecar']);
    const pods = [...chart.values()].flatMap((o) => (o.spec?.template?.spec ? [o.spec.template.spec] : []));
    const images = pods.flatMap((p) => [...(p.initContainers ?? []), ...p.containers]).map((c: any) => c.image);
    const webhook = chart.get('Deployment/podid-system/podid-webhook').spec.template.spec;
    const fallback = webhook.containers[0].env.find((e: any) => e.name === 'PODID_SIDECAR_IMAGE').value;
    expect(new Set([...images, fallback])).toEqual(new Set(['registry.example/podid:1.2.3', 'registry.example/podid-sidecar:1.2.3']));
    // The webhook injects what its sidecar-image init container runs.
    expect(webhook.initContainers.find((c: any) => c.name === 'sidecar-image').image).toBe('registry.example/podid-sidecar:1.2.3');
  });

  it('azureIdentities from values, as aad-pod-identity’s chart had them; a missing selector is a clear error', async () => {
    const chart = await template([
      'azureIdentities.reader.namespace=apps',
      'azureIdentities.reader.type=0',
      'azureIdentities.reader.clientID=c',
      'azureIdentities.reader.binding.selector=reader',
    ]);
    expect(chart.get('AzureIdentity/apps/reader').spec).toEqual({ type: 0, clientID: 'c' });
    expect(chart.get('AzureIdentityBinding/apps/reader-binding').spec).toEqual({ azureIdentity: 'reader', selector: 'reader' });
    const bad = await helm(['template', 'podid', CHART, '--kube-version', KUBE, '--set', 'azureIdentities.x.type=0']).catch((e: { stderr: string }) => e);
    expect((bad as { stderr: string }).stderr).toContain('azureIdentities.x.binding.selector is required');
  });

  it('cert-manager mode: a Certificate, caBundle injected by cert-manager, the webhook reading the Secret', async () => {
    const chart = await template([
      'webhook.certs.mode=cert-manager',
      'webhook.certs.certManager.issuerRef.name=ca',
      'webhook.certs.certManager.issuerRef.kind=ClusterIssuer',
    ]);
    expect(chart.get('Certificate/podid-system/podid-webhook').spec.dnsNames).toEqual([
      'podid-webhook.podid-system.svc',
      'podid-webhook.podid-system.svc.cluster.local',
    ]);
    expect(chart.get('MutatingWebhookConfiguration//podid').metadata.annotations).toEqual({ 'cert-manager.io/inject-ca-from': 'podid-system/podid-webhook' });
    const env = chart.get('Deployment/podid-system/podid-webhook').spec.template.spec.containers[0].env.map((e: any) => e.name);
    expect(env).toContain('PODID_TLS_CERT');
    expect(env).not.toContain('PODID_MANAGE_CERTS');
  });

  it('helm install into the real apiserver creates deploy/’s objects', async () => {
    const r = await helm(['install', 'podid', CHART, '-n', 'podid-system', '--create-namespace']);
    expect(r.stdout).toContain('STATUS: deployed');
    const kust = await kustomize('deploy');
    const problems: string[] = [];
    for (const [k, want] of kust) {
      const [kind, ns, name] = k.split('/');
      const live = await kubeJson(cluster, ['get', kind!, name!, ...(ns ? ['-n', ns] : [])]).catch(() => undefined);
      if (!live) problems.push(`${k}: missing`);
      else problems.push(...contains(live, { ...want, metadata: { name: want.metadata.name, labels: want.metadata.labels } }, k));
    }
    expect(problems).toEqual([]);
  });
});

// podid as shipped: `kubectl apply -k deploy/` unchanged (no rewritten clientConfig; an overlay only says where the
// emulated Azure is), then the real `podid webhook`, `podid nmi` and `podid controller` as containers on the real
// node (test/node/node.ts), from the images built by the Dockerfile's steps, reached the way a cluster reaches them:
// the apiserver dials the webhook Service's cluster IP and kube-proxy's rules take it to a ready webhook pod.
// Then aad-pod-identity's manifests, as its docs and demo show them (test/e2e/corpus), are applied unchanged and
// each outcome is asserted: every pod created, none holding NET_RAW, a token for each identity type through the
// injected sidecar running in the pod, warnings where podid will not serve, the printer columns for both casings,
// and a Deployment created before podid that is scaled after it.

import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startImds, type RunningImds } from '../../emulators/imds.ts';
import { startWorld, type World } from '../../emulators/world.ts';
import { addNodeAddress, IMDS_IP } from '../node/network.ts';
import { api, eventually, kube, kubeJson, kubectl } from './kube.ts';
import { emulatorEnv, installOnNode, NMI, ShippedCluster, SYSTEM } from './shipped-cluster.ts';
import { askSidecar } from './sidecar-call.ts';

const cluster = inject('cluster');
const ROOT = resolve(import.meta.dirname, '../..');
const NS = 'corpus';
const OTHER_NS = 'corpus-team-a';
const node = inject('node');
let dir: string;
let world: World;
let imds: RunningImds;
let k: ShippedCluster;
let webhookClusterIP: string;
const vars: Record<string, string> = {};

/** envsubst, as aad-pod-identity's docs apply their manifests; an unknown variable is an error. */
function subst(text: string): string {
  return text.replace(/\$\{(\w+)\}/g, (_m, name: string) => {
    if (!(name in vars)) throw new Error(`corpus uses \${${name}}, which the suite does not define`);
    return vars[name]!;
  });
}

/** `kubectl apply -f FILE` as a user whose current namespace is the corpus's (a file naming namespaces keeps them). */
async function corpus(file: string): Promise<{ stdout: string; stderr: string; code: number }> {
  const text = subst(await readFile(join(import.meta.dirname, 'corpus', file), 'utf8'));
  return kubectl(cluster, ['apply', ...(/^\s+namespace:/m.test(text) ? [] : ['--namespace', NS]), '-f', '-'], text);
}

function pfx(certPem: string, keyPem: string, password: string): Buffer {
  const p12 = forge.pkcs12.toPkcs12Asn1(forge.pki.privateKeyFromPem(keyPem), [forge.pki.certificateFromPem(certPem)], password, { algorithm: '3des' });
  return Buffer.from(forge.asn1.toDer(p12).getBytes(), 'binary');
}

const hasNetRaw = (c: any) => {
  const drop: string[] = c.securityContext?.capabilities?.drop ?? [];
  return !drop.some((d) => d.toUpperCase() === 'NET_RAW' || d.toUpperCase() === 'ALL');
};
const netRawHolders = (pod: any) => [...(pod.spec.initContainers ?? []), ...pod.spec.containers].filter(hasNetRaw).map((c: any) => c.name);
const sidecarOf = (pod: any) => (pod.spec.initContainers ?? []).find((c: any) => c.name === 'podid-token');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podid-e2e-shipped-'));
  world = await startWorld(dir);
  const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
  const sp = world.identities.find((i) => i.name === 'sp-secret')!;
  const spCert = world.identities.find((i) => i.name === 'sp-cert')!;
  const certPem = world.secrets.get('demo/sp-cert')!.certificate!.toString();
  const [cert, key] = certPem.match(/-----BEGIN [^-]+-----[^-]+-----END [^-]+-----/g)!;
  Object.assign(vars, {
    NAMESPACE: NS,
    OTHER_NAMESPACE: OTHER_NS,
    IDENTITY_NAME: 'demo',
    IDENTITY_CLIENT_ID: world.msi.clientId,
    IDENTITY_RESOURCE_ID: world.msi.resourceId,
    SUBSCRIPTION_ID: world.msi.resourceId.split('/')[2]!,
    RESOURCE_GROUP: 'podid',
    TENANT_ID: world.tenant.id,
    SP_CLIENT_ID: sp.clientID!,
    SP_CLIENT_SECRET_B64: b64(world.secrets.get('demo/sp-secret')!.clientsecret!),
    SP_CERT_CLIENT_ID: spCert.clientID!,
    SP_PFX_B64: b64(pfx(cert!, key!, 'pfx-pass')),
    SP_PFX_PASSWORD_B64: b64('pfx-pass'),
  });

  // The node's metadata service, where NMI's default --imds-url finds it (inside the suite's namespace only).
  await addNodeAddress(IMDS_IP);
  imds = await startImds({ tenant: world.tenant, host: IMDS_IP, port: 80 });

  // A cluster without podid (other suites' installs are removed), with a workload that predates podid.
  k = new ShippedCluster(cluster, node);
  await k.uninstall();
  for (const ns of [NS, OTHER_NS]) await kube(cluster, ['create', 'namespace', ns]);
  expect((await corpus('legacy.yaml')).code).toBe(0);
  await eventually('the pre-existing Deployment’s pod', async () => ((await k.pods(NS, 'app=legacy')).length === 1 ? true : undefined));

  // Install as the README says, with the site's overlay naming the emulated Azure; the node runs podid's pods.
  await installOnNode(k, dir, 'deploy', emulatorEnv(world), [NMI]);
  webhookClusterIP = (await kubeJson(cluster, ['get', 'service', 'podid-webhook', '-n', SYSTEM])).spec.clusterIP;
}, 300_000);

afterAll(async () => {
  await k?.cleanup();
  await imds?.close();
  await world?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('aad-pod-identity’s manifests on podid’s default install (deploy/ as shipped)', () => {
  const applied: Record<string, { stderr: string; code: number }> = {};
  beforeAll(async () => {
    for (const file of [
      'msi.yaml',
      'msi-old-casing.yaml',
      'sp-secret.yaml',
      'sp-certificate.yaml',
      'exception.yaml',
      'namespaced.yaml',
      'demo.yaml',
      'walkthrough-pod.yaml',
    ])
      applied[file] = await corpus(file);
    // The labeled pods a token is asked for below, one per identity (the docs' pod, renamed per selector).
    const walkthrough = subst(await readFile(join(import.meta.dirname, 'corpus/walkthrough-pod.yaml'), 'utf8'));
    for (const sel of ['old-casing', 'sp-secret', 'sp-certificate'])
      applied[`pod-${sel}`] = await kubectl(
        cluster,
        ['apply', '-n', NS, '-f', '-'],
        walkthrough.replace('name: demo', `name: demo-${sel}`).replace('aadpodidbinding: demo', `aadpodidbinding: ${sel}`),
      );
  }, 120_000);

  it('every manifest applies unchanged', () => {
    for (const [file, r] of Object.entries(applied)) expect(r.code, `${file}: ${r.stderr}`).toBe(0);
  });

  it('every pod is created, none holding NET_RAW, every labeled one with the token sidecar', async () => {
    const pods = await eventually('the demo Deployment’s 2 pods', async () => {
      const all = (await kubeJson(cluster, ['get', 'pods', '-n', NS])).items as any[];
      return all.filter((p) => p.metadata.labels?.app === 'demo').length === 2 ? all : undefined;
    });
    const names = pods.map((p) => p.metadata.name);
    for (const name of ['demo', 'demo-old-casing', 'demo-sp-secret', 'demo-sp-certificate', 'excepted', 'other-namespace']) expect(names).toContain(name);
    const fresh = pods.filter((p) => p.metadata.labels?.app !== 'legacy');
    expect(fresh.map((p) => [p.metadata.name, netRawHolders(p)]).filter(([, held]) => (held as string[]).length)).toEqual([]);
    expect(fresh.filter((p) => !sidecarOf(p)).map((p) => p.metadata.name)).toEqual([]);
  });

  it('warns at kubectl apply where podid will not serve: an exception, a binding of another namespace', () => {
    expect(applied['exception.yaml']!.stderr).toMatch(/Warning: .*AzurePodIdentityException corpus\/test-exception/);
    expect(applied['namespaced.yaml']!.stderr).toMatch(/Warning: .*team-a/);
    // A workload template is warned (its pods get the drop from the NET_RAW fix-up), never about its identity.
    expect(applied['demo.yaml']!.stderr).toMatch(/Warning: podid: container "demo" does not drop NET_RAW: .*--netraw=fix adds it to each pod/);
    expect(applied['demo.yaml']!.stderr).not.toMatch(/Azure|binding/i);
  });

  it.each([
    ['demo', 'msi'],
    ['demo-old-casing', 'msi'],
    ['demo-sp-secret', 'sp-secret'],
    ['demo-sp-certificate', 'sp-cert'],
  ])('pod %s gets its identity’s token from the injected sidecar running in the pod (%s)', async (name, who) => {
    // The corpus's app images are not on this node; the sidecar starts before them and serves the pod regardless.
    const pod = await k.containerReady(NS, name, 'podid-token');
    const r = await askSidecar(k, pod, 'https://vault.azure.net');
    expect(r.status, JSON.stringify(r)).toBe(200);
    const expected = who === 'msi' ? world.msi.clientId : world.identities.find((i) => i.name === who)!.clientID;
    expect(world.tenant.verify(r.access_token!)).toMatchObject({ aud: 'https://vault.azure.net', appid: expected });
  });

  it('kubectl get shows TYPE and CLIENTID for both casings (the controller mirrors them into status)', async () => {
    const table = await eventually('the printer columns', async () => {
      const out = await kube(cluster, ['get', 'azureidentity', '-n', NS]);
      return /old-casing\s+0\s+\S{36}/.test(out) && /\ndemo\s+0\s+\S{36}/.test(out) ? out : undefined;
    });
    expect(table).toContain(world.msi.clientId);
    const bindings = await kube(cluster, ['get', 'azureidentitybinding', '-n', NS]);
    expect(bindings).toMatch(/old-casing-binding\s+old-casing\s+old-casing/);
    // Users' specs are untouched: the old spelling is still what they wrote.
    expect((await kubeJson(cluster, ['get', 'azureidentity', 'old-casing', '-n', NS])).spec).toEqual({
      type: 0,
      ResourceID: world.msi.resourceId,
      ClientID: world.msi.clientId,
    });
  });

  it('a Deployment created before podid keeps scaling: new pods are created with NET_RAW dropped and the sidecar', async () => {
    const r = await kubectl(cluster, ['scale', 'deployment/legacy', '-n', NS, '--replicas=3']);
    expect(r.code, r.stderr).toBe(0);
    const pods = await eventually('3 legacy pods', async () => {
      const p = await k.pods(NS, 'app=legacy');
      return p.length === 3 ? p : undefined;
    });
    const created = pods.filter((p) => sidecarOf(p));
    expect(created).toHaveLength(2);
    expect(created.flatMap(netRawHolders)).toEqual([]);
  });
});

describe('podid’s own objects as the cluster made them', () => {
  it('the webhook answered through the Service’s cluster IP, routed by kube-proxy’s rules', async () => {
    expect(webhookClusterIP).toMatch(/^10\.0\.0\./);
    // kube-proxy (iptables mode) wrote the Service's chain in this node's namespace; the apiserver has no other way in.
    const { execFileSync } = await import('node:child_process');
    const rules = execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' });
    expect(rules).toMatch(new RegExp(`-d ${webhookClusterIP.replace(/\./g, '\\.')}/32 .*podid-system/podid-webhook:https.* -j KUBE-SVC-`));
  });

  it('the controller put a Warning Event on the binding that names an identity its namespace lacks', async () => {
    const events = await eventually('the IdentityNotFound Event', async () => {
      const list = (await kubeJson(cluster, ['get', 'events', '-n', OTHER_NS, '--field-selector', 'involvedObject.kind=AzureIdentityBinding'])).items as any[];
      return list.find((e) => e.reason === 'IdentityNotFound') ? list : undefined;
    });
    expect(events.find((e) => e.reason === 'IdentityNotFound')).toMatchObject({
      type: 'Warning',
      involvedObject: { name: 'team-a-binding' },
      message: expect.stringContaining(`names AzureIdentity ${OTHER_NS}/demo, which does not exist`),
    });
  });

  it('NMI wrote an AzureAssignedIdentity (Assigned) for each pod it served', async () => {
    const aai = (await kubeJson(cluster, ['get', 'azureassignedidentities', '-n', NS])).items as any[];
    expect(aai.filter((a) => a.status?.status === 'Assigned').map((a) => a.metadata.name)).toEqual(
      expect.arrayContaining(['demo-corpus-demo', 'demo-sp-secret-corpus-sp-secret']),
    );
  });

  it('the corpus files listed in its README are the ones applied', async () => {
    const files = (await readdir(join(ROOT, 'test/e2e/corpus'))).filter((f) => f.endsWith('.yaml')).sort();
    const readme = await readFile(join(ROOT, 'test/e2e/corpus/README.md'), 'utf8');
    for (const f of files) expect(readme).toContain(`\`${f}\``);
  });
});

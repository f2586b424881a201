// The bridge to workload identity on the real node, with podid installed from deploy/ as shipped: azure-workload-
// identity's pods get what azwi's webhook gives them from podid's webhook, and the Azure AD emulator accepts their
// projected token only as Azure AD would: it reads the cluster's signing keys from the apiserver's OIDC discovery
// (/.well-known/openid-configuration → jwks_uri) and matches the federated credential's issuer, subject and audience.
//   - a Deployment using workload identity gets tokens with unmodified @azure/identity (WorkloadIdentityCredential and
//     DefaultAzureCredential), straight from the emulator;
//   - the same Deployment with azwi's proxy annotation gets them through podid's sidecar with an SDK that speaks only
//     managed identity (msal-node's ManagedIdentityApplication), with no privileged init container;
//   - one namespace, both models: an aadpodidbinding pod is served through NMI beside them;
//   - `podid migrate workload-identity`: its federated credentials created in the emulator (the operator's az step)
//     and its --apply turn an aadpodidbinding Deployment into a working workload-identity one.

import { execFile } from 'node:child_process';
import { randomUUID, type JsonWebKey } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startImds, type RunningImds } from '../../emulators/imds.ts';
import type { FederatedCredential } from '../../emulators/tenant.ts';
import { startWorld, type World } from '../../emulators/world.ts';
import type { WiPlan } from '../../migrate/workload-identity.ts';
import { IMAGE } from '../node/images.ts';
import { addNodeAddress, IMDS_IP, NODE_IP } from '../node/network.ts';
import { eventually, kube, kubectl } from './kube.ts';
import { bindManagedIdentities, emulatorEnv, installOnNode, NMI, ShippedCluster } from './shipped-cluster.ts';

const run = promisify(execFile);
const cluster = inject('cluster');
const node = inject('node');
const NS = 'wi-e2e';
const RESOURCE = 'https://vault.azure.net';
const CA_CONFIGMAP = 'emulator-ca';
let dir: string;
let world: World;
let imds: RunningImds;
let k: ShippedCluster;
let issuer: string;
const wiApp = { clientId: randomUUID(), objectId: randomUUID() };

/** The cluster's keys as Azure AD reads them: the discovery document's jwks_uri, fetched (here through the apiserver). */
async function clusterJwks(): Promise<{ keys: JsonWebKey[] }> {
  const discovery = JSON.parse(await kube(cluster, ['get', '--raw', '/.well-known/openid-configuration']));
  return JSON.parse(await kube(cluster, ['get', '--raw', new URL(discovery.jwks_uri).pathname]));
}
const federatedCredential = (subject: string): FederatedCredential => ({ issuer, subject, audience: 'api://AzureADTokenExchange', jwks: clusterJwks });

async function apply(obj: object): Promise<void> {
  const r = await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(obj));
  if (r.code !== 0) throw new Error(`kubectl apply: ${r.stderr}`);
}

/** A Deployment of the tools image: each container runs test/node/app/get-token.mjs with its credential. */
function deployment(
  name: string,
  o: { labels: Record<string, string>; annotations?: Record<string, string>; serviceAccount: string; containers: Record<string, string> },
) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, ...o.labels }, annotations: o.annotations ?? {} },
        spec: {
          serviceAccountName: o.serviceAccount,
          terminationGracePeriodSeconds: 1,
          containers: Object.entries(o.containers).map(([container, credential]) => ({
            name: container,
            image: IMAGE.tools,
            imagePullPolicy: 'Never',
            args: ['/app/get-token.mjs', credential, `${RESOURCE}/.default`],
            // The app's own setting for a private CA (the emulator's), as an app in a sovereign cloud would have it.
            env: [
              { name: 'NODE_EXTRA_CA_CERTS', value: '/etc/emulator-ca/ca.crt' },
              // Ask again every 3 s, as a service does: a token later than the first attempt still counts.
              { name: 'PERIOD', value: '3' },
            ],
            volumeMounts: [{ name: 'emulator-ca', mountPath: '/etc/emulator-ca', readOnly: true }],
          })),
          volumes: [{ name: 'emulator-ca', configMap: { name: CA_CONFIGMAP } }],
        },
      },
    },
  };
}

/** The JSON lines a container of the Deployment's newest pod printed (test/node/app/get-token.mjs), once one is a token. */
async function firstToken(deploymentName: string, container: string): Promise<{ pod: any; line: any; before: any[] }> {
  let seen: any[] = [];
  try {
    return await eventually(
      `a token from ${NS}/${deploymentName}/${container}`,
      async () => {
        const [pod] = await k.newestPods(NS, deploymentName);
        if (!pod) return undefined;
        const r = await kubectl(cluster, ['logs', '-n', NS, pod.metadata.name, '-c', container]);
        seen =
          r.code === 0
            ? r.stdout
                .split('\n')
                .filter((l) => l.startsWith('{'))
                .map((l) => JSON.parse(l))
            : [];
        const i = seen.findIndex((l) => l.ok);
        return i >= 0 ? { pod, line: seen[i], before: seen.slice(0, i) } : undefined;
      },
      180_000,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; the app printed: ${JSON.stringify(seen.slice(0, 3))}`);
  }
}

const envOf = (c: any) => Object.fromEntries((c?.env ?? []).map((e: any) => [e.name, e.value]));
const federatedExchanges = (clientId: string) => world.aad.requests.filter((r) => r.clientId === clientId && r.credential === 'federated').length;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podid-e2e-wi-'));
  // Azure AD where pods reach it: on the node's address (inside the suite's namespace).
  world = await startWorld(dir, { host: NODE_IP });
  await addNodeAddress(IMDS_IP);
  imds = await startImds({ tenant: world.tenant, host: IMDS_IP, port: 80 });
  k = new ShippedCluster(cluster, node);
  await k.uninstall();
  await kube(cluster, ['create', 'namespace', NS]);
  await kube(cluster, ['create', 'configmap', CA_CONFIGMAP, '-n', NS, `--from-literal=ca.crt=${world.tls.caPem}`]);
  // The operator's settings for workload identity: the cluster's tenant, the cloud's authority, the private CA.
  await installOnNode(
    k,
    dir,
    'deploy',
    emulatorEnv(world, { PODID_WI_TENANT_ID: world.tenant.id, PODID_WI_AUTHORITY_HOST: world.aad.url, PODID_SIDECAR_CA_CONFIGMAP: CA_CONFIGMAP }),
    [NMI, ['Deployment', 'podid-webhook', 'webhook']],
  );
  issuer = JSON.parse(await kube(cluster, ['get', '--raw', '/.well-known/openid-configuration'])).issuer;
  // azure-workload-identity's setup: an identity with a federated credential for the ServiceAccount, which names it.
  world.tenant.apps.push(wiApp);
  world.tenant.federate(wiApp.clientId, federatedCredential(`system:serviceaccount:${NS}:wi-app`));
  await apply({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'wi-app', namespace: NS, annotations: { 'azure.workload.identity/client-id': wiApp.clientId } },
  });
  await apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'moving', namespace: NS } });
  // aad-pod-identity's: two user-assigned identities on the node, each bound by a selector.
  await bindManagedIdentities(cluster, NS, [
    ['legacy', world.msi],
    ['moving', world.msi2],
  ]);
}, 600_000);

afterAll(async () => {
  await kubectl(cluster, ['delete', 'namespace', NS, '--wait=false']);
  await k?.cleanup();
  await imds?.close();
  await world?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('workload identity on the real node, served by podid', () => {
  it('a workload-identity Deployment gets tokens with unmodified @azure/identity (WorkloadIdentityCredential, DefaultAzureCredential)', async () => {
    const before = federatedExchanges(wiApp.clientId);
    await apply(
      deployment('wi', {
        labels: { 'azure.workload.identity/use': 'true' },
        serviceAccount: 'wi-app',
        // DefaultAzureCredential: its WorkloadIdentityCredential stops at MSAL's instance discovery (the emulator is not
        // a host MSAL knows, and login.microsoftonline.com is unreachable here), and its ManagedIdentityCredential then
        // makes the same exchange through the SDK's own AKS path (tokenExchangeMsi). Either way: the federated token.
        containers: { app: 'workload', default: 'default' },
      }),
    );
    for (const container of ['app', 'default']) {
      const { pod, line, before } = await firstToken('wi', container);
      if (before.length) console.log(`wi/${container}: ${before.length} attempt(s) before the first token: ${JSON.stringify(before[0])}`);
      expect(line, JSON.stringify(line)).toMatchObject({ ok: true, claims: { appid: wiApp.clientId, oid: wiApp.objectId, aud: RESOURCE } });
      const c = pod.spec.containers.find((x: any) => x.name === container);
      expect(envOf(c)).toMatchObject({
        AZURE_CLIENT_ID: wiApp.clientId,
        AZURE_TENANT_ID: world.tenant.id,
        AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token',
        AZURE_AUTHORITY_HOST: world.aad.url,
      });
      // No sidecar: the SDK exchanges the projected token itself.
      expect(pod.spec.initContainers ?? []).toEqual([]);
    }
    expect(federatedExchanges(wiApp.clientId)).toBeGreaterThanOrEqual(before + 2);
  });

  it("a ServiceAccount annotated with another workload's client ID gets no token: Azure AD matches the subject, not the annotation", async () => {
    // Anyone who may write a ServiceAccount can name any client ID; the federated credential names wi-app only.
    await apply({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'intruder', namespace: NS, annotations: { 'azure.workload.identity/client-id': wiApp.clientId } },
    });
    await apply(deployment('intruder', { labels: { 'azure.workload.identity/use': 'true' }, serviceAccount: 'intruder', containers: { app: 'workload' } }));
    const line = await eventually(
      'the intruder app to print its first attempt',
      async () => {
        const [pod] = await k.newestPods(NS, 'intruder');
        const r = pod ? await kubectl(cluster, ['logs', '-n', NS, pod.metadata.name, '-c', 'app']) : undefined;
        const first = r?.code === 0 ? r.stdout.split('\n').find((l) => l.startsWith('{')) : undefined;
        return first ? JSON.parse(first) : undefined;
      },
      120_000,
    );
    expect(line.ok, JSON.stringify(line)).toBe(false);
    expect(line.error).toMatch(/AADSTS700213|system:serviceaccount:wi-e2e:intruder/);
  });

  it("the same Deployment with azwi's proxy annotation gets tokens through podid's sidecar with an SDK that speaks only managed identity", async () => {
    const before = federatedExchanges(wiApp.clientId);
    await apply(
      deployment('wi-proxy', {
        labels: { 'azure.workload.identity/use': 'true' },
        annotations: { 'azure.workload.identity/inject-proxy-sidecar': 'true' },
        serviceAccount: 'wi-app',
        containers: { app: 'msal' },
      }),
    );
    const { pod, line } = await firstToken('wi-proxy', 'app');
    expect(line, JSON.stringify(line)).toMatchObject({ ok: true, claims: { appid: wiApp.clientId, aud: RESOURCE } });
    const inits = pod.spec.initContainers ?? [];
    expect(inits.map((c: any) => c.name)).toEqual(['podid-token']);
    expect(inits[0].restartPolicy).toBe('Always');
    expect(inits.some((c: any) => c.securityContext?.privileged || c.securityContext?.capabilities?.add?.length)).toBe(false);
    expect(envOf(pod.spec.containers[0]).IDENTITY_ENDPOINT).toBe('http://127.0.0.1:8000/msi/token');
    // The sidecar made the exchange (the app has no client of Azure AD of its own here).
    expect(federatedExchanges(wiApp.clientId)).toBeGreaterThan(before);
  });

  it('one namespace, both models: an aadpodidbinding pod is served through NMI beside the workload-identity pods', async () => {
    await apply(deployment('legacy', { labels: { aadpodidbinding: 'legacy' }, serviceAccount: 'default', containers: { app: 'default' } }));
    const { pod, line } = await firstToken('legacy', 'app');
    expect(line, JSON.stringify(line)).toMatchObject({ ok: true, claims: { appid: world.msi.clientId, aud: RESOURCE } });
    expect((pod.spec.initContainers ?? []).map((c: any) => c.name)).toEqual(['podid-token']);
    expect(envOf(pod.spec.containers[0]).AZURE_FEDERATED_TOKEN_FILE).toBeUndefined();
    // The workload-identity pods of the tests above are still served.
    expect((await firstToken('wi', 'app')).line.ok).toBe(true);
  });

  it('podid migrate workload-identity: its credentials created and its --apply turn an aadpodidbinding Deployment into a workload-identity one', async () => {
    await apply(deployment('moving', { labels: { aadpodidbinding: 'moving' }, serviceAccount: 'moving', containers: { app: 'default' } }));
    expect((await firstToken('moving', 'app')).line).toMatchObject({ ok: true, claims: { appid: world.msi2.clientId } });
    const podid = (args: string[]) =>
      run(
        process.execPath,
        ['bin/podid.js', 'migrate', 'workload-identity', '--kubeconfig', cluster.kubeconfig, '--binding', `${NS}/moving-binding`, ...args],
        {
          timeout: 60_000,
        },
      );
    const plan = JSON.parse((await podid(['--output', 'json'])).stdout) as WiPlan;
    const [move] = plan.moves;
    expect(plan.issuer).toBe(issuer);
    expect(move!.workloads.map((w) => `${w.kind}/${w.name}/${w.serviceAccount}`)).toEqual(['Deployment/moving/moving']);
    expect(move!.credentials).toEqual([
      { name: `kubernetes-${NS}-moving`, issuer, subject: `system:serviceaccount:${NS}:moving`, audience: 'api://AzureADTokenExchange' },
    ]);
    expect(move!.azCommands[0]).toMatch(/^az identity federated-credential create --name kubernetes-wi-e2e-moving --identity-name other-msi /);
    // The operator's az step, in the emulated Azure: the credentials exactly as the plan wrote them.
    for (const c of move!.credentials)
      world.tenant.federate(world.msi2.clientId, { issuer: c.issuer, subject: c.subject, audience: c.audience, jwks: clusterJwks });
    const applied = await podid(['--apply']);
    expect(applied.stdout).toMatch(/patched\s+ServiceAccount wi-e2e\/moving/);
    expect(applied.stdout).toMatch(/patched\s+Deployment wi-e2e\/moving/);
    const moved = await eventually(
      'the moved pod to print a workload-identity token',
      async () => {
        const { pod, line } = await firstToken('moving', 'app');
        return pod.metadata.labels['azure.workload.identity/use'] === 'true' ? { pod, line } : undefined;
      },
      180_000,
    );
    expect(moved.pod.metadata.labels.aadpodidbinding).toBeUndefined();
    expect(moved.line, JSON.stringify(moved.line)).toMatchObject({ ok: true, claims: { appid: world.msi2.clientId, aud: RESOURCE } });
    expect(envOf(moved.pod.spec.containers[0]).AZURE_CLIENT_ID).toBe(world.msi2.clientId);
    expect(world.aad.requests.some((r) => r.clientId === world.msi2.clientId && r.credential === 'federated')).toBe(true);
  });
});

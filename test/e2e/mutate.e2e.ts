// The mutating webhook as users meet it: a real kube-apiserver sends the AdmissionReview, applies the
// JSON patch, enforces objectSelector, reinvocationPolicy and failurePolicy, and trusts caBundle.

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { allow, patchResponse } from '../../webhook/admission.ts';
import type { AdmissionHandler } from '../../webhook/app.ts';
import { createLogger } from '../../common/log.ts';
import { IdentityStore } from '../../identity/store.ts';
import { kubeClient, kubeCredentials } from '../../common/kube-client.ts';
import { runWatches } from '../../common/kube-watch.ts';
import { identityWatches } from '../../identity/watches.ts';
import { identityHints } from '../../webhook/identity-hints.ts';
import { api, eventually, kube, kubeJson, kubectl } from './kube.ts';
import { installDeploy, startLoopbackPodid, type LoopbackPodid } from './podid-on-loopback.ts';

const cluster = inject('cluster');
const NS = 'e2e-mutate';
let podid: LoopbackPodid;

/** A second mutating webhook, called after podid's, that adds a container: it makes the apiserver reinvoke podid. */
const addContainer: AdmissionHandler = (req) => {
  const pod = req.object as { spec: { containers: { name: string }[] } };
  const has = pod.spec.containers.some((c) => c.name === 'added-later');
  const patch = has
    ? []
    : [
        {
          op: 'add',
          path: '/spec/containers/-',
          value: { name: 'added-later', image: 'example/added:1', securityContext: { capabilities: { drop: ['NET_RAW'] } } },
        },
      ];
  return { response: has ? allow(req.uid) : patchResponse(req.uid, patch, []), outcome: has ? 'unchanged' : 'added', subject: '' };
};

async function mutateCount(): Promise<number> {
  const text = await podid.webhook.metrics.registry.getSingleMetricAsString('podid_admission_requests_total');
  return [...text.matchAll(/endpoint="mutate"[^}]*\} (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
}

const pod = (name: string, labels: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: NS, labels },
  spec: {
    containers: [
      {
        name: 'app',
        image: 'example/app:1',
        env: [{ name: 'KEEP', value: 'me' }],
        securityContext: { capabilities: { drop: ['NET_RAW'] } },
      },
    ],
    ...extra,
  },
});

const envOf = (c: any): Record<string, string> => Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value]));

let stopInformers: (() => void) | undefined;

beforeAll(async () => {
  // --identity-hints as deploy/ runs it: the podid CRDs watched through the real apiserver.
  const store = new IdentityStore();
  const log = createLogger('webhook', 'silent');
  stopInformers = await runWatches(kubeClient(kubeCredentials(cluster.kubeconfig)), identityWatches(store, log), log, () => {});
  podid = await startLoopbackPodid(
    { '/add-container': addContainer },
    undefined,
    identityHints((p) => store.objectsFor(p), { forceNamespaced: false }),
  );
  await installDeploy(cluster, podid);
  await kube(cluster, ['create', 'namespace', NS]);
  await eventually('default service account', async () =>
    (await api(cluster, 'GET', `/api/v1/namespaces/${NS}/serviceaccounts/default`)).status === 200 ? true : undefined,
  );
});

afterAll(async () => {
  stopInformers?.();
  await podid?.stop();
});

describe('deploy/ through a real apiserver', () => {
  it('passes kubectl apply --dry-run=server -k deploy/', async () => {
    const r = await kubectl(cluster, ['apply', '--dry-run=server', '-k', 'deploy']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('mutatingwebhookconfiguration.admissionregistration.k8s.io/podid');
    expect(r.stdout).toContain('customresourcedefinition.apiextensions.k8s.io/azureidentities.aadpodidentity.k8s.io');
  });

  it('stores aad-pod-identity manifests in both casings', async () => {
    const manifest = (name: string, spec: Record<string, unknown>) => ({
      apiVersion: 'aadpodidentity.k8s.io/v1',
      kind: 'AzureIdentity',
      metadata: { name, namespace: NS },
      spec,
    });
    const items = [
      manifest('new-casing', {
        type: 0,
        resourceID: '/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a',
        clientID: '00000000-0000-0000-0000-00000000000a',
      }),
      manifest('old-casing', {
        type: 0,
        ResourceID: '/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/b',
        ClientID: '00000000-0000-0000-0000-00000000000b',
      }),
    ];
    await kube(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    const old = await kubeJson(cluster, ['get', 'azureidentity', 'old-casing', '-n', NS]);
    expect(old.spec).toMatchObject({ ClientID: '00000000-0000-0000-0000-00000000000b' });
    const bad = await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(manifest('bad-type', { type: 7, clientID: 'x' })));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('spec.type');
  });
});

describe('deploy/example', () => {
  it('applies, and its Deployment gets podid-injected pods', async () => {
    await kube(cluster, ['apply', '-k', 'deploy/example']);
    const binding = await kubeJson(cluster, ['get', 'azureidentitybinding', 'demo-reader', '-n', 'demo']);
    expect(binding.spec).toEqual({ azureIdentity: 'demo-reader', selector: 'demo-reader' });
    const pods = await eventually('a demo-app pod', async () => {
      const list = await kubeJson(cluster, ['get', 'pods', '-n', 'demo', '-l', 'app=demo-app']);
      return list.items.length ? list.items : undefined;
    });
    expect(pods[0].spec.initContainers[0].name).toBe('podid-token');
  });
});

describe('mutating webhook through a real apiserver', () => {
  it('injects the sidecar into a labeled pod', async () => {
    const before = await mutateCount();
    await kube(cluster, ['apply', '-f', '-'], JSON.stringify(pod('labeled', { aadpodidbinding: 'reader' })));
    const stored = await kubeJson(cluster, ['get', 'pod', 'labeled', '-n', NS]);
    const sidecars = stored.spec.initContainers.filter((c: any) => c.name.startsWith('podid-token'));
    expect(sidecars).toHaveLength(1);
    expect(stored.spec.initContainers[0]).toMatchObject({ name: 'podid-token', restartPolicy: 'Always', image: 'podid:e2e' });
    expect(stored.spec.initContainers[0].startupProbe.httpGet).toMatchObject({ path: '/healthz', port: 2577 });
    expect(envOf(stored.spec.containers[0])).toMatchObject({ KEEP: 'me', AZURE_POD_IDENTITY_AUTHORITY_HOST: 'http://127.0.0.1:2578' });
    expect(stored.metadata.annotations['podid.io/injected']).toBe('podid-token');
    expect(stored.spec.volumes.find((v: any) => v.name === 'podid-sa-token').projected.sources[0].serviceAccountToken).toEqual({
      audience: 'podid',
      expirationSeconds: 3600,
      path: 'token',
    });
    // Called once by podid's webhook; the test webhook's reinvocation of podid is the added-later container's.
    expect(await mutateCount()).toBeGreaterThan(before);
  });

  it('gets reinvoked after another webhook adds a container, and only adds env to it', async () => {
    await kube(cluster, ['apply', '-f', '-'], JSON.stringify(adderConfig(podid)));
    try {
      const before = await mutateCount();
      await kube(cluster, ['apply', '-f', '-'], JSON.stringify(pod('reinvoked', { aadpodidbinding: 'reader' })));
      const stored = await kubeJson(cluster, ['get', 'pod', 'reinvoked', '-n', NS]);
      expect(stored.spec.containers.map((c: any) => c.name)).toEqual(['app', 'added-later']);
      expect(stored.spec.initContainers.map((c: any) => c.name)).toEqual(['podid-token']);
      const [app, added] = stored.spec.containers.map(envOf);
      expect(added.AZURE_POD_IDENTITY_AUTHORITY_HOST).toBe('http://127.0.0.1:2578');
      expect(added.IDENTITY_HEADER).toBe(app.IDENTITY_HEADER);
      expect(await mutateCount()).toBe(before + 2);
    } finally {
      await kube(cluster, ['delete', 'mutatingwebhookconfiguration', 'zz-e2e-adder']);
    }
  });

  it('never sees an unlabeled pod', async () => {
    const before = await mutateCount();
    await kube(cluster, ['apply', '-f', '-'], JSON.stringify(pod('plain', { app: 'plain' })));
    const stored = await kubeJson(cluster, ['get', 'pod', 'plain', '-n', NS]);
    expect(stored.spec.initContainers).toBeUndefined();
    expect(stored.metadata.annotations?.['podid.io/injected']).toBeUndefined();
    expect(await mutateCount()).toBe(before);
  });

  it('injects into pods a labeled Deployment creates through its ReplicaSet', async () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web', aadpodidbinding: 'reader' } },
          spec: { containers: [{ name: 'web', image: 'example/web:1', securityContext: { capabilities: { drop: ['NET_RAW'] } } }] },
        },
      },
    };
    await kube(cluster, ['apply', '-f', '-'], JSON.stringify(deployment));
    const pods = await eventually('two web pods', async () => {
      const list = await kubeJson(cluster, ['get', 'pods', '-n', NS, '-l', 'app=web']);
      return list.items.length === 2 ? list.items : undefined;
    });
    for (const p of pods) {
      expect(p.metadata.generateName).toMatch(/^web-/);
      expect(p.spec.initContainers[0].name).toBe('podid-token');
      expect(envOf(p.spec.containers[0]).IDENTITY_ENDPOINT).toBe('http://127.0.0.1:2578/msi/token');
    }
    const headers = new Set(pods.map((p: any) => envOf(p.spec.containers[0]).IDENTITY_HEADER));
    expect(headers.size).toBe(2); // a secret per pod, not per template
  });

  it('mutates server-side dry runs without storing them', async () => {
    const out = await kubeJson(cluster, ['create', '--dry-run=server', '-f', '-'], JSON.stringify(pod('dry', { aadpodidbinding: 'reader' })));
    expect(out.spec.initContainers[0].name).toBe('podid-token');
    expect((await kubectl(cluster, ['get', 'pod', 'dry', '-n', NS])).code).not.toBe(0);
  });

  it('with the webhook down, fails pods as each failurePolicy says, except in exempt namespaces', async () => {
    await podid.webhook.close();
    try {
      const labeled = await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(pod('while-down', { aadpodidbinding: 'reader' })));
      expect(labeled.code).not.toBe(0);
      expect(labeled.stderr).toContain('failed calling webhook "mutate.pods.podid.io"');
      const plain = await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(pod('plain-while-down', { app: 'x' })));
      expect(plain.code).not.toBe(0);
      expect(plain.stderr).toContain('failed calling webhook "netraw.validate.podid.io"');
      const system = { ...pod('system-while-down', { app: 'x' }), metadata: { name: 'system-while-down', namespace: 'kube-system' } };
      await kube(cluster, ['apply', '-f', '-'], JSON.stringify(system));
    } finally {
      await podid.restart();
    }
    await kube(cluster, ['apply', '-f', '-'], JSON.stringify(pod('after-restart', { aadpodidbinding: 'reader' })));
    const stored = await kubeJson(cluster, ['get', 'pod', 'after-restart', '-n', NS]);
    expect(stored.spec.initContainers[0].name).toBe('podid-token');
  });

  it("warns at kubectl apply when a labeled pod's selector matches no binding (--identity-hints)", async () => {
    const r = await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(pod('unbound', { aadpodidbinding: 'nobody-binds-this' })));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `Warning: podid: pod ${NS}/unbound has aadpodidbinding=nobody-binds-this but no AzureIdentityBinding has selector nobody-binds-this: it gets no token until that is fixed`,
    );
  });
});

function adderConfig(p: LoopbackPodid) {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: 'zz-e2e-adder' },
    webhooks: [
      {
        name: 'add-container.e2e.podid.io',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Fail',
        reinvocationPolicy: 'Never',
        objectSelector: { matchLabels: { aadpodidbinding: 'reader' } },
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
        clientConfig: { url: `https://127.0.0.1:${p.port}/add-container`, caBundle: Buffer.from(p.ca.certPem).toString('base64') },
      },
    ],
  };
}

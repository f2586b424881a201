import fjp from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { defaultInjectionConfig as cfg, type InjectionConfig } from './injection-config.ts';
import { planInjection, type InjectionOutcome } from './inject.ts';
import type { Container, Pod } from '../podspec/pod.ts';

const HOST = 'http://127.0.0.1:2578';
const ENDPOINT = `${HOST}/msi/token`;
let counter = 0;
const secret = () => `secret-${++counter}`;

const app = (name = 'app', extra: Partial<Container> = {}): Container => ({ name, image: 'example/app:1', ...extra });
const labeled = (spec: Partial<Pod['spec']> = {}, metadata: Pod['metadata'] = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', ...metadata, labels: { aadpodidbinding: 'reader', ...(metadata.labels ?? {}) } },
  spec: { containers: [app()], ...spec },
});

const envOf = (c: Container | undefined): Record<string, string | undefined> => Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));

interface Case {
  name: string;
  pod: Pod;
  config?: Partial<InjectionConfig>;
  outcome: InjectionOutcome;
  check?: (after: Pod, warnings: string[]) => void;
}

const sidecarOf = (p: Pod) => p.spec.initContainers?.find((c) => c.name === p.metadata?.annotations?.['podid.io/injected']);

const cases: Case[] = [
  {
    name: 'minimal labeled pod',
    pod: labeled(),
    outcome: 'injected',
    check: (p) => {
      const sc = p.spec.initContainers![0]!;
      expect(sc).toMatchObject({ name: 'podid-token', restartPolicy: 'Always', image: cfg.sidecarImage, args: ['sidecar'] });
      expect(sc.startupProbe).toMatchObject({ httpGet: { path: '/healthz', port: 2577 } });
      expect(sc.securityContext).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(sc.resources).toEqual({ requests: { cpu: '5m', memory: '32Mi' }, limits: { memory: '128Mi' } });
      expect(sc.volumeMounts).toEqual([{ name: 'podid-sa-token', mountPath: '/var/run/secrets/podid', readOnly: true }]);
      expect(p.spec.volumes).toEqual([
        {
          name: 'podid-sa-token',
          projected: {
            defaultMode: 0o444,
            sources: [{ serviceAccountToken: { audience: 'podid', expirationSeconds: 3600, path: 'token' } }],
          },
        },
      ]);
      const env = envOf(p.spec.containers[0]);
      expect(env.AZURE_POD_IDENTITY_AUTHORITY_HOST).toBe(HOST);
      expect(env.IDENTITY_ENDPOINT).toBe(ENDPOINT);
      expect(env.IDENTITY_HEADER).toBe(envOf(sc).PODID_IDENTITY_HEADER);
      expect(p.metadata?.annotations).toEqual({ 'podid.io/injected': 'podid-token' });
      expect(p.spec.containers[0]!.volumeMounts).toBeUndefined();
    },
  },
  { name: 'unlabeled pod', pod: { metadata: { name: 'p' }, spec: { containers: [app()] } }, outcome: 'not-labeled' },
  { name: 'label with empty value', pod: labeled({}, { labels: { aadpodidbinding: '' } }), outcome: 'not-labeled' },
  { name: 'opt-out annotation', pod: labeled({}, { annotations: { 'podid.io/inject': 'false' } }), outcome: 'opted-out' },
  {
    name: 'opt-out annotation, other case and spaces',
    pod: labeled({}, { annotations: { 'podid.io/inject': ' FALSE ' } }),
    outcome: 'opted-out',
  },
  {
    name: 'inject annotation true is not an opt-out',
    pod: labeled({}, { annotations: { 'podid.io/inject': 'true' } }),
    outcome: 'injected',
    check: (p) => expect(p.metadata?.annotations).toEqual({ 'podid.io/inject': 'true', 'podid.io/injected': 'podid-token' }),
  },
  {
    name: 'hostNetwork pod',
    pod: labeled({ hostNetwork: true }),
    outcome: 'host-network',
    check: (_p, w) => expect(w[0]).toContain('hostNetwork'),
  },
  {
    name: 'windows pod',
    pod: labeled({ os: { name: 'windows' } }),
    outcome: 'windows',
    check: (_p, w) => expect(w[0]).toContain('Windows'),
  },
  {
    name: 'generateName only',
    pod: labeled({}, { name: undefined, generateName: 'web-' }),
    outcome: 'injected',
    check: (p) => expect(p.metadata?.generateName).toBe('web-'),
  },
  {
    name: 'existing init containers keep their order after the sidecar and get env',
    pod: labeled({ initContainers: [app('migrate'), app('seed', { env: [{ name: 'A', value: '1' }] })] }),
    outcome: 'injected',
    check: (p) => {
      expect(p.spec.initContainers!.map((c) => c.name)).toEqual(['podid-token', 'migrate', 'seed']);
      expect(envOf(p.spec.initContainers![1]).AZURE_POD_IDENTITY_AUTHORITY_HOST).toBe(HOST);
      expect(envOf(p.spec.initContainers![2])).toMatchObject({ A: '1', AZURE_POD_IDENTITY_AUTHORITY_HOST: HOST });
    },
  },
  {
    // msrestazure (Azure CLI 2.45) and go-autorest's adal read only MSI_ENDPOINT; newer SDKs pick the App Service pair first.
    name: 'the default flavour adds MSI_ENDPOINT beside the App Service pair for older clients',
    pod: labeled(),
    outcome: 'injected',
    check: (p, warnings) => {
      expect(envOf(p.spec.containers[0])).toMatchObject({ IDENTITY_ENDPOINT: ENDPOINT, MSI_ENDPOINT: `${HOST}/oauth2/token` });
      expect(envOf(p.spec.containers[0]).MSI_SECRET).toBeUndefined();
      expect(warnings).toEqual([]);
    },
  },
  {
    name: 'no MSI_ENDPOINT where the App Service pair is not added (alone it would mean Cloud Shell to newer SDKs)',
    pod: labeled({ containers: [app('app', { env: [{ name: 'IMDS_ENDPOINT', value: 'http://arc' }] })] }),
    outcome: 'injected',
    check: (p) => {
      expect(envOf(p.spec.containers[0]).MSI_ENDPOINT).toBeUndefined();
      expect(envOf(p.spec.containers[0]).IDENTITY_ENDPOINT).toBeUndefined();
    },
  },
  {
    name: "a container with msrestazure's App Service marker gets the pair but not MSI_ENDPOINT, with a warning",
    pod: labeled({ containers: [app('app', { env: [{ name: 'APPSETTING_WEBSITE_SITE_NAME', value: 'site' }] })] }),
    outcome: 'injected',
    check: (p, warnings) => {
      expect(envOf(p.spec.containers[0]).IDENTITY_ENDPOINT).toBe(ENDPOINT);
      expect(envOf(p.spec.containers[0]).MSI_ENDPOINT).toBeUndefined();
      expect(warnings.join()).toContain('sets APPSETTING_WEBSITE_SITE_NAME; podid did not add MSI_ENDPOINT');
    },
  },
  {
    name: 'empty initContainers array',
    pod: labeled({ initContainers: [] }),
    outcome: 'injected',
    check: (p) => expect(p.spec.initContainers!.map((c) => c.name)).toEqual(['podid-token']),
  },
  {
    name: 'existing env is kept and appended to',
    pod: labeled({
      containers: [
        app('app', {
          env: [
            { name: 'LOG', value: 'debug' },
            { name: 'FROM', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
        }),
      ],
    }),
    outcome: 'injected',
    check: (p) => {
      const env = p.spec.containers[0]!.env!;
      expect(env.slice(0, 2).map((e) => e.name)).toEqual(['LOG', 'FROM']);
      expect(env.map((e) => e.name)).toEqual(['LOG', 'FROM', 'AZURE_POD_IDENTITY_AUTHORITY_HOST', 'IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'MSI_ENDPOINT']);
    },
  },
  {
    name: 'empty env array',
    pod: labeled({ containers: [app('app', { env: [] })] }),
    outcome: 'injected',
    check: (p) => expect(envOf(p.spec.containers[0]).AZURE_POD_IDENTITY_AUTHORITY_HOST).toBe(HOST),
  },
  {
    name: 'container that sets the authority host keeps it',
    pod: labeled({ containers: [app('app', { env: [{ name: 'AZURE_POD_IDENTITY_AUTHORITY_HOST', value: 'http://mine:1' }] })] }),
    outcome: 'injected',
    check: (p, w) => {
      expect(envOf(p.spec.containers[0]).AZURE_POD_IDENTITY_AUTHORITY_HOST).toBe('http://mine:1');
      expect(w).toContain('container app sets AZURE_POD_IDENTITY_AUTHORITY_HOST itself; podid left it unchanged');
    },
  },
  {
    name: 'IMDS_ENDPOINT set: no App Service pair (would select Azure Arc)',
    pod: labeled({ containers: [app('app', { env: [{ name: 'IMDS_ENDPOINT', value: 'http://x' }] })] }),
    outcome: 'injected',
    check: (p, w) => {
      const env = envOf(p.spec.containers[0]);
      expect(env.IDENTITY_ENDPOINT).toBeUndefined();
      expect(env.IDENTITY_HEADER).toBeUndefined();
      expect(env.AZURE_POD_IDENTITY_AUTHORITY_HOST).toBe(HOST);
      expect(w.join()).toContain('sets IMDS_ENDPOINT');
    },
  },
  {
    name: 'IDENTITY_SERVER_THUMBPRINT set: no App Service pair (would select Service Fabric)',
    pod: labeled({ containers: [app('app', { env: [{ name: 'IDENTITY_SERVER_THUMBPRINT', value: 'AB' }] })] }),
    outcome: 'injected',
    check: (p) => expect(envOf(p.spec.containers[0]).IDENTITY_ENDPOINT).toBeUndefined(),
  },
  {
    name: 'user IDENTITY_ENDPOINT alone: podid header never leaks to it',
    pod: labeled({ containers: [app('app', { env: [{ name: 'IDENTITY_ENDPOINT', value: 'http://elsewhere' }] })] }),
    outcome: 'injected',
    check: (p) => {
      const env = envOf(p.spec.containers[0]);
      expect(env.IDENTITY_ENDPOINT).toBe('http://elsewhere');
      expect(env.IDENTITY_HEADER).toBeUndefined();
    },
  },
  {
    name: 'MSI_ENDPOINT set: no App Service pair (Cloud Shell)',
    pod: labeled({ containers: [app('app', { env: [{ name: 'MSI_ENDPOINT', value: 'http://x' }] })] }),
    outcome: 'injected',
    check: (p) => expect(envOf(p.spec.containers[0]).IDENTITY_HEADER).toBeUndefined(),
  },
  {
    name: 'imds flavour injects only the authority host',
    pod: labeled(),
    config: { envFlavour: 'imds' },
    outcome: 'injected',
    check: (p) => expect(Object.keys(envOf(p.spec.containers[0]))).toEqual(['AZURE_POD_IDENTITY_AUTHORITY_HOST']),
  },
  {
    name: 'appservice flavour injects only the App Service pair',
    pod: labeled(),
    config: { envFlavour: 'appservice' },
    outcome: 'injected',
    check: (p) => expect(Object.keys(envOf(p.spec.containers[0]))).toEqual(['IDENTITY_ENDPOINT', 'IDENTITY_HEADER']),
  },
  {
    name: 'several containers share one header secret',
    pod: labeled({ containers: [app('a'), app('b'), app('c')] }),
    outcome: 'injected',
    check: (p) => {
      const headers = new Set(p.spec.containers.map((c) => envOf(c).IDENTITY_HEADER));
      expect(headers.size).toBe(1);
      expect([...headers][0]).toMatch(/^secret-\d+$/);
    },
  },
  {
    name: 'skip-containers annotation',
    pod: labeled({ containers: [app('a'), app('istio-proxy')] }, { annotations: { 'podid.io/skip-containers': ' istio-proxy , ghost' } }),
    outcome: 'injected',
    check: (p, w) => {
      expect(envOf(p.spec.containers[1])).toEqual({});
      expect(envOf(p.spec.containers[0]).AZURE_POD_IDENTITY_AUTHORITY_HOST).toBe(HOST);
      expect(w).toContain('podid.io/skip-containers names ghost, which is not a container of this pod');
    },
  },
  {
    name: 'a user container already named like the sidecar',
    pod: labeled({ containers: [app('podid-token')] }),
    outcome: 'injected',
    check: (p) => {
      expect(p.spec.initContainers![0]!.name).toBe('podid-token-2');
      expect(p.metadata?.annotations?.['podid.io/injected']).toBe('podid-token-2');
      expect(envOf(p.spec.containers[0]).AZURE_POD_IDENTITY_AUTHORITY_HOST).toBe(HOST);
    },
  },
  {
    name: 'user volume and init container named like ours',
    pod: labeled({ volumes: [{ name: 'podid-sa-token', emptyDir: {} }], initContainers: [app('podid-token'), app('podid-token-2')] }),
    outcome: 'injected',
    check: (p) => {
      expect(p.spec.volumes!.map((v) => v.name)).toEqual(['podid-sa-token', 'podid-sa-token-2']);
      expect(p.spec.initContainers!.map((c) => c.name)).toEqual(['podid-token-3', 'podid-token', 'podid-token-2']);
      expect(sidecarOf(p)!.volumeMounts).toEqual([{ name: 'podid-sa-token-2', mountPath: '/var/run/secrets/podid', readOnly: true }]);
    },
  },
  {
    name: 'ephemeral container names are avoided too',
    pod: labeled({ ephemeralContainers: [app('podid-token')] }),
    outcome: 'injected',
    check: (p) => expect(p.spec.initContainers![0]!.name).toBe('podid-token-2'),
  },
  {
    name: 'existing volumes are appended to',
    pod: labeled({ volumes: [{ name: 'data', emptyDir: {} }] }),
    outcome: 'injected',
    check: (p) => expect(p.spec.volumes!.map((v) => v.name)).toEqual(['data', 'podid-sa-token']),
  },
  {
    name: 'annotation keys with slashes are escaped',
    pod: labeled({}, { annotations: { 'example.com/owner': 'team-a' } }),
    outcome: 'injected',
    check: (p) => expect(p.metadata?.annotations).toEqual({ 'example.com/owner': 'team-a', 'podid.io/injected': 'podid-token' }),
  },
  {
    name: 'stale injected annotation without a sidecar injects again',
    pod: labeled({}, { annotations: { 'podid.io/injected': 'podid-token' } }),
    outcome: 'injected',
    check: (p) => expect(p.spec.initContainers!.map((c) => c.name)).toEqual(['podid-token']),
  },
  {
    name: 'custom port, image, audience and resources',
    pod: labeled(),
    config: {
      port: 9000,
      healthPort: 9001,
      sidecarImage: 'registry.local/podid:dev',
      tokenAudience: 'api://podid',
      tokenExpirationSeconds: 600,
      resources: { cpuRequest: '1m', memoryRequest: '8Mi', cpuLimit: '100m' },
    },
    outcome: 'injected',
    check: (p) => {
      const sc = p.spec.initContainers![0]!;
      expect(sc.image).toBe('registry.local/podid:dev');
      expect(envOf(sc).PODID_SIDECAR_LISTEN).toBe('127.0.0.1:9000');
      expect(sc.resources).toEqual({ requests: { cpu: '1m', memory: '8Mi' }, limits: { cpu: '100m' } });
      expect(envOf(p.spec.containers[0]).AZURE_POD_IDENTITY_AUTHORITY_HOST).toBe('http://127.0.0.1:9000');
      expect(JSON.stringify(p.spec.volumes)).toContain('"audience":"api://podid","expirationSeconds":600');
    },
  },
  {
    name: 'podid.io/ready-resource makes the sidecar wait for a first token before the app starts',
    pod: labeled({}, { annotations: { 'podid.io/ready-resource': 'https://vault.azure.net' } }),
    outcome: 'injected',
    check: (p, warnings) => {
      expect(envOf(sidecarOf(p)).PODID_READY_RESOURCE).toBe('https://vault.azure.net');
      expect(warnings).toEqual([]);
    },
  },
  {
    name: 'a ready-resource that is not a URI is ignored with a warning',
    pod: labeled({}, { annotations: { 'podid.io/ready-resource': 'vault' } }),
    outcome: 'injected',
    check: (p, warnings) => {
      expect(envOf(sidecarOf(p)).PODID_READY_RESOURCE).toBeUndefined();
      expect(warnings.join()).toContain('podid.io/ready-resource "vault" is not a resource URI');
    },
  },
  {
    name: 'unknown fields pass through untouched',
    pod: labeled({
      containers: [app('app', { ports: [{ containerPort: 80 }], resources: { limits: { cpu: '1' } } })],
      nodeSelector: { pool: 'a' },
    }),
    outcome: 'injected',
    check: (p) => {
      expect(p.spec.nodeSelector).toEqual({ pool: 'a' });
      expect(p.spec.containers[0]!.ports).toEqual([{ containerPort: 80 }]);
    },
  },
];

describe('planInjection', () => {
  it.each(cases)('$name', ({ pod, config, outcome, check }) => {
    const settings = { ...cfg, ...config };
    const before = structuredClone(pod);
    const first = planInjection(pod, settings, secret);
    expect(pod).toEqual(before); // pure: the input is not modified
    expect(first.outcome).toBe(outcome);
    const after = fjp.applyPatch(structuredClone(pod), first.patch, true, false).newDocument;
    check?.(after, first.warnings);
    if (outcome !== 'injected') expect(first.patch).toEqual([]);

    // Reinvocation: admitting the result again changes nothing.
    const again = planInjection(after, settings, secret);
    expect(again.patch).toEqual([]);
    expect(again.outcome).toBe(outcome === 'injected' ? 'unchanged' : outcome);
  });

  it('has at least 25 pod shapes', () => expect(cases.length).toBeGreaterThanOrEqual(25));

  it('on reinvocation adds env, with the same header, to a container another webhook added', () => {
    const pod = labeled();
    const injected = fjp.applyPatch(structuredClone(pod), planInjection(pod, cfg, secret).patch, true, false).newDocument;
    injected.spec.containers.push(app('added-later'));
    const r = planInjection(injected, cfg, secret);
    expect(r.outcome).toBe('updated');
    const after = fjp.applyPatch(injected, r.patch, true, false).newDocument;
    expect(envOf(after.spec.containers[1])).toEqual(envOf(after.spec.containers[0]));
    expect(planInjection(after, cfg, secret).patch).toEqual([]);
  });

  it('draws a fresh header secret per pod', () => {
    const headers = [labeled(), labeled()].map((p) => {
      const after = fjp.applyPatch(p, planInjection(p, cfg, secret).patch, true, false).newDocument;
      return envOf(after.spec.containers[0]).IDENTITY_HEADER;
    });
    expect(headers[0]).not.toBe(headers[1]);
  });
});

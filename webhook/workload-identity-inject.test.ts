// What podid gives azure-workload-identity's pods, case by case; each expectation is azwi v1.5.1's
// pkg/webhook/webhook.go behaviour (the helper named), and the compat suite checks the same table against azwi's
// own webhook (test/compat/azwi-oracle.compat.ts).

import fjp from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import type { Container, Pod } from '../podspec/pod.ts';
import { CLIENT, OTHER_TENANT, TENANT, WI_CASES, wiPod } from '../test/workload-identity-cases.ts';
import { defaultInjectionConfig } from './injection-config.ts';
import { planWorkloadIdentity, type WorkloadIdentityConfig } from './workload-identity-inject.ts';

const WI: WorkloadIdentityConfig = { tenantId: TENANT, authorityHost: 'https://login.microsoftonline.com/', audience: 'api://AzureADTokenExchange' };
const TOKEN_FILE = '/var/run/secrets/azure/tokens/azure-identity-token';
const secret = () => 'header-secret';

function admit(c: (typeof WI_CASES)[number]) {
  return planWorkloadIdentity(c.pod, 'apps', c.sa, WI, defaultInjectionConfig, secret);
}
function patched(pod: Pod, patch: readonly unknown[]): Pod {
  return fjp.applyPatch(structuredClone(pod), patch as fjp.Operation[], true, false).newDocument;
}
const envOf = (c: Container | undefined) => Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
const find = (pod: Pod, name: string) => [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((c) => c.name === name);

interface Expect {
  refused?: RegExp;
  /** The app container's workload-identity variables (undefined: not set). */
  env?: Partial<Record<'AZURE_CLIENT_ID' | 'AZURE_TENANT_ID' | 'AZURE_FEDERATED_TOKEN_FILE' | 'AZURE_AUTHORITY_HOST', string | undefined>>;
  expiration?: number;
  /** Containers that get nothing (skip-containers). */
  untouched?: string[];
  proxyPort?: number;
}

const ALL = {
  AZURE_CLIENT_ID: CLIENT,
  AZURE_TENANT_ID: TENANT,
  AZURE_FEDERATED_TOKEN_FILE: TOKEN_FILE,
  AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.com/',
};

// prettier-ignore
const EXPECTED: Record<string, Expect> = {
  'default ServiceAccount with a client ID': { env: ALL, expiration: 3600 },
  'named ServiceAccount': { env: ALL },
  'tenant from the ServiceAccount': { env: { ...ALL, AZURE_TENANT_ID: OTHER_TENANT } },                 // getTenantID
  'empty tenant annotation: no AZURE_TENANT_ID': { env: { ...ALL, AZURE_TENANT_ID: undefined } },      // present annotation wins; empty values are not added
  'no client ID: no AZURE_CLIENT_ID': { env: { ...ALL, AZURE_CLIENT_ID: undefined } },
  'init containers get it too': { env: ALL },                                                            // mutateContainers(InitContainers)
  'skip-containers, ;-separated with spaces': { env: ALL, untouched: ['logger', 'migrate'] },           // getSkipContainers
  'variables the container sets are kept': { env: { ...ALL, AZURE_CLIENT_ID: 'mine', AZURE_AUTHORITY_HOST: 'https://login.example/' } },
  'expiration from the pod': { expiration: 7200 },                                                       // getServiceAccountTokenExpiration
  'expiration from the ServiceAccount': { expiration: 86400 },
  "the pod's expiration wins over the ServiceAccount's": { expiration: 4000 },
  'expiration below 3600 is refused': { refused: /3599 is not between 3600 and 86400/ },
  'expiration above 86400 is refused': { refused: /ServiceAccount's .* 86401 is not between/ },
  'expiration with a unit is refused': { refused: /"3600s" is not a whole number/ },
  'a missing ServiceAccount is refused': { refused: /ServiceAccount apps\/absent not found/ },
  'an existing token volume and mount are kept': { env: ALL },
  'proxy sidecar': { env: ALL, proxyPort: 8000 },
  'proxy sidecar on another port': { env: ALL, proxyPort: 9000 },
  'proxy on a hostNetwork pod is refused': { refused: /hostNetwork/ },
  'a proxy port that is not a number is refused': { refused: /"http" is not a port/ },
  'a proxy port out of range is refused before the apiserver sees it': { refused: /"70000" is not a port/ },
};

describe("azure-workload-identity's contract (azwi v1.5.1 pkg/webhook/webhook.go)", () => {
  it('every case has its expectation', () => expect(Object.keys(EXPECTED).sort()).toEqual(WI_CASES.map((c) => c.name).sort()));

  it.each(WI_CASES.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const want = EXPECTED[name]!;
    const plan = admit(c);
    if (want.refused) {
      expect(plan.ok).toBe(false);
      if (!plan.ok) expect(plan.message).toMatch(want.refused);
      return;
    }
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    const pod = patched(c.pod, plan.patch);
    const app = find(pod, 'app');
    if (want.env) for (const [k, v] of Object.entries(want.env)) expect(envOf(app)[k], k).toBe(v);
    for (const c2 of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
      const untouched = want.untouched?.includes(c2.name);
      const mounted = ((c2.volumeMounts ?? []) as { name: string; mountPath: string }[]).filter((m) => m.name === 'azure-identity-token');
      expect(mounted.length, c2.name).toBe(untouched ? 0 : 1);
      if (!untouched) expect(mounted[0]!.mountPath).toBe('/var/run/secrets/azure/tokens');
      if (untouched) expect(envOf(c2).AZURE_FEDERATED_TOKEN_FILE).toBeUndefined();
    }
    const volumes = (pod.spec.volumes ?? []).filter((v) => v.name === 'azure-identity-token');
    expect(volumes).toHaveLength(1);
    const projection = (volumes[0]!.projected as { sources: { serviceAccountToken: Record<string, unknown> }[] }).sources[0]!.serviceAccountToken;
    expect(projection.audience).toBe('api://AzureADTokenExchange');
    expect(projection.path).toBe('azure-identity-token');
    if (want.expiration) expect(projection.expirationSeconds).toBe(want.expiration);
    const sidecar = pod.spec.initContainers?.find((s) => s.name === 'podid-token');
    if (want.proxyPort) {
      // podid's proxy: its own sidecar as the first init container, native (restartPolicy Always), no privileged init container.
      expect(pod.spec.initContainers?.[0]?.name).toBe('podid-token');
      expect(sidecar?.restartPolicy).toBe('Always');
      expect(envOf(sidecar).PODID_SIDECAR_LISTEN).toBe(`127.0.0.1:${want.proxyPort}`);
      expect(envOf(sidecar).PODID_TOKEN_SOURCE).toBe('workload-identity');
      expect(envOf(sidecar).AZURE_FEDERATED_TOKEN_FILE).toBe(TOKEN_FILE);
      expect(envOf(app).IDENTITY_ENDPOINT).toBe(`http://127.0.0.1:${want.proxyPort}/msi/token`);
      expect(pod.spec.initContainers?.some((s) => (s.securityContext as { privileged?: boolean } | undefined)?.privileged)).toBe(false);
    } else expect(sidecar).toBeUndefined();
  });

  it.each(WI_CASES.filter((c) => !EXPECTED[c.name]!.refused).map((c) => [c.name, c] as const))('%s: a second admission changes nothing', (_n, c) => {
    const first = admit(c);
    if (!first.ok) throw new Error(first.message);
    const again = planWorkloadIdentity(patched(c.pod, first.patch), 'apps', c.sa, WI, defaultInjectionConfig, secret);
    expect(again).toMatchObject({ ok: true, outcome: 'unchanged', patch: [] });
  });

  it('a pod without the use label is left alone, even with an annotated ServiceAccount', () => {
    const pod = wiPod();
    pod.metadata!.labels = { 'azure.workload.identity/use': 'false' };
    expect(planWorkloadIdentity(pod, 'apps', WI_CASES[0]!.sa, WI, defaultInjectionConfig, secret)).toMatchObject({
      ok: true,
      outcome: 'not-labeled',
      patch: [],
    });
  });

  it("an aadpodidbinding pod asking for the proxy keeps podid's NMI sidecar and gets no second one", () => {
    const pod = wiPod({ annotations: { 'azure.workload.identity/inject-proxy-sidecar': 'true' } });
    pod.metadata!.labels!.aadpodidbinding = 'web';
    const plan = planWorkloadIdentity(pod, 'apps', WI_CASES[0]!.sa, WI, defaultInjectionConfig, secret);
    expect(plan.ok && plan.warnings.join()).toMatch(/serves it through NMI already/);
    expect(plan.ok && plan.outcome).toBe('injected');
  });

  it("a pod that azwi's own webhook gave its proxy gets no second one", () => {
    const pod = wiPod({ annotations: { 'azure.workload.identity/inject-proxy-sidecar': 'true' }, init: true });
    pod.spec.initContainers!.unshift({ name: 'azwi-proxy', image: 'proxy', restartPolicy: 'Always' });
    const plan = planWorkloadIdentity(pod, 'apps', WI_CASES[0]!.sa, WI, defaultInjectionConfig, secret);
    expect(plan.ok && plan.warnings.join()).toMatch(/gave the pod its proxy \(azwi-proxy\) already/);
    expect(plan.ok && plan.outcome).toBe('injected');
  });

  it("--sidecar-ca-configmap: the proxy trusts the ConfigMap's CAs (optional in the pod); without a proxy nothing is added", () => {
    const cfg = { ...defaultInjectionConfig, caConfigMap: 'corp-ca' };
    const proxied = wiPod({ annotations: { 'azure.workload.identity/inject-proxy-sidecar': 'true' } });
    const plan = planWorkloadIdentity(proxied, 'apps', WI_CASES[0]!.sa, WI, cfg, secret);
    if (!plan.ok) throw new Error(plan.message);
    const pod = patched(proxied, plan.patch);
    expect(pod.spec.volumes?.find((v) => v.name === 'podid-proxy-ca')).toEqual({
      name: 'podid-proxy-ca',
      configMap: { name: 'corp-ca', optional: true, items: [{ key: 'ca.crt', path: 'ca.crt' }] },
    });
    const sidecar = find(pod, 'podid-token');
    expect(envOf(sidecar).NODE_EXTRA_CA_CERTS).toBe('/var/run/secrets/podid/proxy-ca/ca.crt');
    expect(envOf(find(pod, 'app')).NODE_EXTRA_CA_CERTS).toBeUndefined();
    const plain = planWorkloadIdentity(wiPod(), 'apps', WI_CASES[0]!.sa, WI, cfg, secret);
    expect(plain.ok && JSON.stringify(plain.patch)).not.toContain('podid-proxy-ca');
  });

  it('a volume named azure-identity-token that is something else is refused, not doubled', () => {
    const pod = wiPod({ extra: { volumes: [{ name: 'azure-identity-token', emptyDir: {} }] } });
    expect(planWorkloadIdentity(pod, 'apps', WI_CASES[0]!.sa, WI, defaultInjectionConfig, secret)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/rename it/),
    });
  });
});

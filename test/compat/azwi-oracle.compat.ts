// azure-workload-identity's own webhook as the oracle for podid's /mutate-workload-identity: for each input of
// test/workload-identity-cases.ts, azwi's pkg/webhook (v1.5.1, built from its Go module by test/compat/setup.sh
// into .cache/bin/azwi-webhook-oracle) and podid's planner mutate the same pod with the same ServiceAccount, and
// the env, volume mounts and volumes they produce must be the same, except where a case names a difference.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import fjp from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import type { Container, Pod } from '../../podspec/pod.ts';
import { defaultInjectionConfig } from '../../webhook/injection-config.ts';
import { planWorkloadIdentity } from '../../webhook/workload-identity-inject.ts';
import { TENANT, WI_CASES, type WiCase } from '../workload-identity-cases.ts';

const ORACLE = resolve(import.meta.dirname, '../../.cache/bin/azwi-webhook-oracle');
const NS = 'apps';
const WI = { tenantId: TENANT, authorityHost: 'https://login.microsoftonline.com/', audience: 'api://AzureADTokenExchange' };

interface Outcome {
  allowed: boolean;
  pod?: Pod;
}

function azwi(c: WiCase): Outcome {
  const input = {
    namespace: NS,
    tenantID: TENANT,
    kubeVersion: 'v1.34.0',
    pod: c.pod,
    serviceAccount: c.sa ? { metadata: { name: c.sa.name, namespace: NS, annotations: c.sa.annotations } } : null,
  };
  const out = JSON.parse(execFileSync(ORACLE, { input: JSON.stringify(input), encoding: 'utf8' })) as { allowed: boolean; patch: fjp.Operation[] | null };
  if (!out.allowed) return { allowed: false };
  return { allowed: true, pod: fjp.applyPatch(structuredClone(c.pod), out.patch ?? [], true, false).newDocument };
}

function podid(c: WiCase): Outcome {
  const plan = planWorkloadIdentity(c.pod, NS, c.sa, WI, defaultInjectionConfig, () => 'secret');
  if (!plan.ok) return { allowed: false };
  return { allowed: true, pod: fjp.applyPatch(structuredClone(c.pod), plan.patch, true, false).newDocument };
}

/** The proxies are each product's own; podid's also sends IMDS-only SDKs to itself (sdk-env.ts). */
const PROXIES = new Set(['azwi-proxy', 'azwi-proxy-init', defaultInjectionConfig.sidecarName]);
const PODID_SDK_ENV = new Set(['IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'AZURE_POD_IDENTITY_AUTHORITY_HOST', 'MSI_ENDPOINT']);

/** What the two are compared on: each app container's env and mounts, and the volumes. */
function shape(pod: Pod) {
  const container = (c: Container) => ({
    name: c.name,
    env: (c.env ?? []).filter((e) => !PODID_SDK_ENV.has(e.name)),
    volumeMounts: c.volumeMounts ?? [],
  });
  return {
    initContainers: (pod.spec.initContainers ?? []).filter((c) => !PROXIES.has(c.name)).map(container),
    containers: pod.spec.containers.filter((c) => !PROXIES.has(c.name)).map(container),
    volumes: pod.spec.volumes ?? [],
  };
}

describe("podid's workload-identity injection against azure-workload-identity's webhook", () => {
  it('the oracle is built (test/compat/setup.sh)', () => expect(existsSync(ORACLE), ORACLE).toBe(true));

  it.each(WI_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const theirs = azwi(c);
    const ours = podid(c);
    if (c.differs === 'refused-earlier') {
      // azwi passes a bad port on to the pod, where the apiserver's validation refuses it; podid refuses it itself.
      expect(theirs.allowed).toBe(true);
      expect(ours.allowed).toBe(false);
      return;
    }
    expect(ours.allowed).toBe(theirs.allowed);
    if (!theirs.allowed) return;
    expect(shape(ours.pod!)).toEqual(shape(theirs.pod!));
    if (c.differs === 'proxy') {
      // azwi: its proxy plus a privileged init container that redirects IMDS with iptables; podid: its own sidecar, unprivileged.
      const names = (p: Pod) => (p.spec.initContainers ?? []).map((x) => x.name).filter((n) => PROXIES.has(n));
      expect(names(theirs.pod!)).toEqual(['azwi-proxy', 'azwi-proxy-init']);
      expect(names(ours.pod!)).toEqual([defaultInjectionConfig.sidecarName]);
      expect((theirs.pod!.spec.initContainers ?? []).find((x) => x.name === 'azwi-proxy-init')?.securityContext?.privileged).toBe(true);
    } else {
      expect((ours.pod!.spec.initContainers ?? []).map((x) => x.name)).toEqual((theirs.pod!.spec.initContainers ?? []).map((x) => x.name));
    }
  });
});

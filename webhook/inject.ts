// Pure: a pod and the injection settings in, the JSON Patch that injects podid out.
// The patch only ensures a state (sidecar present, SDK env set, annotation recorded), so
// admitting an injected pod again yields an empty patch: safe under reinvocation.

import type { Operation } from 'fast-json-patch';
import { BINDING_LABEL } from '../identity/crds.ts';
import { INJECTED_ANNOTATION, INJECT_ANNOTATION, READY_RESOURCE_ANNOTATION, SKIP_CONTAINERS_ANNOTATION, type InjectionConfig } from './injection-config.ts';
import type { Container, Pod } from '../podspec/pod.ts';
import { envOps, listAddOp, recordSidecarOp } from './patch-ops.ts';
import { planSdkEnv } from './sdk-env.ts';
import { SIDECAR_HEADER_VAR, sidecarContainer, tokenVolume } from './sidecar-spec.ts';

export type InjectionOutcome = 'injected' | 'updated' | 'unchanged' | 'not-labeled' | 'opted-out' | 'host-network' | 'windows';

export interface InjectionResult {
  outcome: InjectionOutcome;
  patch: Operation[];
  warnings: string[];
}

/** A name not in `taken`: `base`, else `base-2`, `base-3`, … */
function freeName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
}

const names = (list: readonly { name: string }[] | undefined): string[] => (list ?? []).map((c) => c.name);

function skipList(annotations: Record<string, string>): Set<string> {
  const raw = annotations[SKIP_CONTAINERS_ANNOTATION] ?? '';
  return new Set(
    raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

export function planInjection(pod: Pod, cfg: InjectionConfig, newSecret: () => string): InjectionResult {
  const labels = pod.metadata?.labels ?? {};
  const annotations = pod.metadata?.annotations ?? {};
  const skipped = (outcome: InjectionOutcome, warnings: string[] = []): InjectionResult => ({ outcome, patch: [], warnings });
  if (!labels[BINDING_LABEL]) return skipped('not-labeled');
  if (annotations[INJECT_ANNOTATION]?.trim().toLowerCase() === 'false') return skipped('opted-out');
  if (pod.spec.hostNetwork === true) {
    return skipped('host-network', [
      'podid does not inject its sidecar into hostNetwork pods (its loopback port would be shared by the node); use NMI /host/token',
    ]);
  }
  if (pod.spec.os?.name === 'windows') {
    return skipped('windows', ['podid does not inject its sidecar into Windows pods yet; the pod gets no podid token endpoint']);
  }

  const spec = pod.spec;
  const inits = spec.initContainers ?? [];
  const recorded = annotations[INJECTED_ANNOTATION];
  const existing = recorded ? inits.find((c) => c.name === recorded) : undefined;
  const patch: Operation[] = [];
  const warnings: string[] = [];

  let sidecarName: string;
  let header: string;
  let newSidecar: Container | undefined;
  if (existing) {
    sidecarName = existing.name;
    header = existing.env?.find((e) => e.name === SIDECAR_HEADER_VAR)?.value ?? newSecret();
  } else {
    sidecarName = freeName(cfg.sidecarName, new Set([...names(spec.containers), ...names(inits), ...names(spec.ephemeralContainers)]));
    const volumeName = freeName(cfg.volumeName, new Set(names(spec.volumes)));
    header = newSecret();
    const readyResource = annotations[READY_RESOURCE_ANNOTATION]?.trim();
    const readyValid = !readyResource || /^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(readyResource);
    if (!readyValid) {
      warnings.push(
        `${READY_RESOURCE_ANNOTATION} "${readyResource}" is not a resource URI (e.g. https://vault.azure.net); the sidecar starts without waiting for a token`,
      );
    }
    newSidecar = sidecarContainer(cfg, sidecarName, volumeName, header, readyValid ? readyResource : undefined);
    const volume = tokenVolume(cfg, volumeName);
    patch.push(listAddOp(Array.isArray(spec.volumes), '/spec/volumes', volume));
  }

  if (annotations[INJECTED_ANNOTATION] !== sidecarName) patch.unshift(recordSidecarOp(pod, sidecarName));

  const skip = skipList(annotations);
  const address = { port: cfg.port, flavour: cfg.envFlavour, identityHeader: header };
  const visit = (list: readonly Container[], field: 'containers' | 'initContainers') => {
    list.forEach((c, i) => {
      if (skip.has(c.name) || (field === 'initContainers' && c.name === sidecarName)) return;
      const plan = planSdkEnv(c.name, new Map((c.env ?? []).map((e) => [e.name, e.value])), address);
      warnings.push(...plan.warnings);
      patch.push(...envOps(`/spec/${field}/${i}`, c, plan.add));
    });
  };
  visit(spec.containers, 'containers');
  visit(inits, 'initContainers');
  for (const name of skip) {
    if (!spec.containers.some((c) => c.name === name) && !inits.some((c) => c.name === name)) {
      warnings.push(`${SKIP_CONTAINERS_ANNOTATION} names ${name}, which is not a container of this pod`);
    }
  }

  // Inserting at index 0 shifts the init containers, so it comes after the env operations that address them.
  if (newSidecar) patch.push(listAddOp(Array.isArray(spec.initContainers), '/spec/initContainers', newSidecar, 'start'));
  const outcome: InjectionOutcome = newSidecar ? 'injected' : patch.length ? 'updated' : 'unchanged';
  return { outcome, patch, warnings };
}

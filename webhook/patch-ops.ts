// The JSON Patch operations both injections write (inject.ts for aadpodidbinding, workload-identity-inject.ts for
// azure-workload-identity): an item added to a list that may not exist yet, variables added to a container, and
// the annotation naming the injected sidecar. Pure.

import type { Operation } from 'fast-json-patch';
import { pointerToken, type Container, type EnvVar, type Pod } from '../podspec/pod.ts';
import { INJECTED_ANNOTATION } from './injection-config.ts';

/** `value` added to the list at `path`: at its end (or `at: 'start'`), or as the whole list when `exists` is false. */
export function listAddOp(exists: boolean, path: string, value: unknown, at: 'end' | 'start' = 'end'): Operation {
  if (!exists) return { op: 'add', path, value: [value] };
  return { op: 'add', path: `${path}/${at === 'end' ? '-' : '0'}`, value };
}

/** `add` appended to the container at `path`'s env (which may not exist yet). */
export function envOps(path: string, container: Container, add: readonly EnvVar[]): Operation[] {
  if (add.length === 0) return [];
  if (!Array.isArray(container.env)) return [{ op: 'add', path: `${path}/env`, value: add }];
  return add.map((value) => ({ op: 'add', path: `${path}/env/-`, value }));
}

/** podid.io/injected = the sidecar's name, on a pod that may have no annotations yet. */
export function recordSidecarOp(pod: Pod, name: string): Operation {
  return pod.metadata?.annotations
    ? { op: 'add', path: `/metadata/annotations/${pointerToken(INJECTED_ANNOTATION)}`, value: name }
    : { op: 'add', path: '/metadata/annotations', value: { [INJECTED_ANNOTATION]: name } };
}

// Checks that untrusted admission input has the Pod shape podid reads, naming the first bad field.

import { isRecord } from '../identity/fields.ts';
import type { Pod } from './pod.ts';

export type PodRead = { ok: true; pod: Pod } | { ok: false; message: string };

/**
 * Bounds on what one pod may hold, far above any real pod (Kubernetes sets none): each container gets a patch, so a pod
 * of 10,000 containers would cost megabytes of answer. A pod past them is refused with a message naming the field.
 */
export const POD_LIMITS = { containers: 256, envPerContainer: 4096 };

function checkStringMap(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) return `${path} must be an object`;
  for (const [k, v] of Object.entries(value)) if (typeof v !== 'string') return `${path}["${k}"] must be a string`;
  return undefined;
}

function checkNamedList(value: unknown, path: string, required: boolean): string | undefined {
  if (value === undefined || value === null) return required ? `${path} is required` : undefined;
  if (!Array.isArray(value)) return `${path} must be an array`;
  for (const [i, item] of value.entries()) {
    if (!isRecord(item)) return `${path}[${i}] must be an object`;
    if (typeof item.name !== 'string' || !item.name) return `${path}[${i}].name must be a non-empty string`;
  }
  return undefined;
}

const absent = (v: unknown) => v === undefined || v === null;

/** The fields the NET_RAW rule reads: a wrong type is an error, never silently "no capabilities". */
function checkSecurityContext(sc: unknown, path: string): string | undefined {
  if (absent(sc)) return undefined;
  if (!isRecord(sc)) return `${path} must be an object`;
  if (!absent(sc.privileged) && typeof sc.privileged !== 'boolean') return `${path}.privileged must be a boolean`;
  const caps = sc.capabilities;
  if (absent(caps)) return undefined;
  if (!isRecord(caps)) return `${path}.capabilities must be an object with add and drop lists`;
  for (const field of ['add', 'drop'] as const) {
    const names = caps[field];
    if (absent(names)) continue;
    if (!Array.isArray(names)) return `${path}.capabilities.${field} must be a list of capability names`;
    const bad = names.findIndex((n) => typeof n !== 'string');
    if (bad >= 0) return `${path}.capabilities.${field}[${bad}] must be a capability name (a string)`;
  }
  return undefined;
}

function checkContainers(value: unknown, path: string, required: boolean): string | undefined {
  const err = checkNamedList(value, path, required);
  if (err || !Array.isArray(value)) return err;
  if (required && value.length === 0) return `${path} must not be empty`;
  for (const [i, c] of value.entries()) {
    if (Array.isArray(c.env) && c.env.length > POD_LIMITS.envPerContainer) {
      return `${path}[${i}].env has ${c.env.length} entries; podid reads at most ${POD_LIMITS.envPerContainer} per container`;
    }
    const e = checkNamedList(c.env, `${path}[${i}].env`, false);
    if (e) return e;
    const e2 = checkSecurityContext(c.securityContext, `${path}[${i}].securityContext`);
    if (e2) return e2;
  }
  return undefined;
}

/** Reads `obj` as a Pod; `path` prefixes field names (e.g. `spec.template` for workloads). */
export function readPodShape(obj: unknown, path = ''): PodRead {
  const at = (f: string) => (path ? `${path}.${f}` : f);
  if (!isRecord(obj)) return { ok: false, message: `${path || 'object'} must be an object` };
  const meta = obj.metadata;
  if (meta !== undefined && meta !== null && !isRecord(meta)) return { ok: false, message: `${at('metadata')} must be an object` };
  const spec = obj.spec;
  if (!isRecord(spec)) return { ok: false, message: `${at('spec')} is required and must be an object` };
  const counted = ['initContainers', 'containers', 'ephemeralContainers'].reduce((n, f) => n + (Array.isArray(spec[f]) ? (spec[f] as unknown[]).length : 0), 0);
  if (counted > POD_LIMITS.containers) {
    return {
      ok: false,
      message: `${at('spec')} has ${counted} containers; podid reads at most ${POD_LIMITS.containers} per pod (init, app and ephemeral together)`,
    };
  }
  const err =
    (isRecord(meta) && (checkStringMap(meta.labels, at('metadata.labels')) ?? checkStringMap(meta.annotations, at('metadata.annotations')))) ||
    checkContainers(spec.containers, at('spec.containers'), true) ||
    checkContainers(spec.initContainers, at('spec.initContainers'), false) ||
    checkContainers(spec.ephemeralContainers, at('spec.ephemeralContainers'), false) ||
    checkNamedList(spec.volumes, at('spec.volumes'), false);
  return err ? { ok: false, message: err } : { ok: true, pod: obj as unknown as Pod };
}

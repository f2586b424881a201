// Checks that untrusted admission input has the Pod shape podid reads, naming the first bad field.

import { isRecord } from '../identity/fields.ts';
import type { Pod } from './pod.ts';

export type PodRead = { ok: true; pod: Pod } | { ok: false; message: string };

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

function checkContainers(value: unknown, path: string, required: boolean): string | undefined {
  const err = checkNamedList(value, path, required);
  if (err || !Array.isArray(value)) return err;
  if (required && value.length === 0) return `${path} must not be empty`;
  for (const [i, c] of value.entries()) {
    const e = checkNamedList(c.env, `${path}[${i}].env`, false);
    if (e) return e;
    if (c.securityContext !== undefined && c.securityContext !== null && !isRecord(c.securityContext)) {
      return `${path}[${i}].securityContext must be an object`;
    }
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
  const err =
    (isRecord(meta) && (checkStringMap(meta.labels, at('metadata.labels')) ?? checkStringMap(meta.annotations, at('metadata.annotations')))) ||
    checkContainers(spec.containers, at('spec.containers'), true) ||
    checkContainers(spec.initContainers, at('spec.initContainers'), false) ||
    checkContainers(spec.ephemeralContainers, at('spec.ephemeralContainers'), false) ||
    checkNamedList(spec.volumes, at('spec.volumes'), false);
  return err ? { ok: false, message: err } : { ok: true, pod: obj as unknown as Pod };
}

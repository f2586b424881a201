// Where each kind the validating webhook checks keeps its pod template. Pure.

import type { GroupVersionKind } from './admission.ts';
import { readPodShape, type PodRead } from './read-pod.ts';

export interface TemplateLocation {
  /** Path of the pod-shaped object ({metadata, spec}) inside the admitted object; '' for a Pod itself. */
  path: string[];
  /** Dotted form for messages. */
  label: string;
}

const TEMPLATE = ['spec', 'template'];

const LOCATIONS: Record<string, TemplateLocation> = {
  '/Pod': { path: [], label: '' },
  '/ReplicationController': { path: TEMPLATE, label: 'spec.template' },
  'apps/Deployment': { path: TEMPLATE, label: 'spec.template' },
  'apps/StatefulSet': { path: TEMPLATE, label: 'spec.template' },
  'apps/DaemonSet': { path: TEMPLATE, label: 'spec.template' },
  'apps/ReplicaSet': { path: TEMPLATE, label: 'spec.template' },
  'batch/Job': { path: TEMPLATE, label: 'spec.template' },
  'batch/CronJob': { path: ['spec', 'jobTemplate', 'spec', 'template'], label: 'spec.jobTemplate.spec.template' },
};

export const CHECKED_KINDS = Object.keys(LOCATIONS).map((k) => k.split('/')[1]!);

export function templateLocation(kind: GroupVersionKind): TemplateLocation | undefined {
  return LOCATIONS[`${kind.group}/${kind.kind}`];
}

/** The value at `path`, or undefined when any step is missing. */
export function at(obj: unknown, path: readonly string[]): unknown {
  let cur = obj;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** The pod template of an admitted object (the Pod itself for pods), checked for the shape podid reads. */
export function readTemplate(obj: unknown, loc: TemplateLocation): PodRead {
  return readPodShape(at(obj, loc.path), loc.label);
}

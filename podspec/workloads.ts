// Where each kind the validating webhook checks keeps its pod template. Pure.

import { readPodShape, type PodRead } from './read-pod.ts';

/** metav1.GroupVersionKind. */
export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** What kindResourceProblem reads of an admission request. */
export interface KindAndResource {
  kind: GroupVersionKind;
  resource?: { group: string; version: string; resource: string };
  subResource?: string;
  namespace: string;
}

export interface TemplateLocation {
  /** The resource (plural) the apiserver names with this kind. */
  resource: string;
  /** Path of the pod-shaped object ({metadata, spec}) inside the admitted object; '' for a Pod itself. */
  path: string[];
  /** Dotted form for messages. */
  label: string;
}

const TEMPLATE = ['spec', 'template'];

const LOCATIONS: Record<string, TemplateLocation> = {
  '/Pod': { resource: 'pods', path: [], label: '' },
  '/ReplicationController': { resource: 'replicationcontrollers', path: TEMPLATE, label: 'spec.template' },
  'apps/Deployment': { resource: 'deployments', path: TEMPLATE, label: 'spec.template' },
  'apps/StatefulSet': { resource: 'statefulsets', path: TEMPLATE, label: 'spec.template' },
  'apps/DaemonSet': { resource: 'daemonsets', path: TEMPLATE, label: 'spec.template' },
  'apps/ReplicaSet': { resource: 'replicasets', path: TEMPLATE, label: 'spec.template' },
  'batch/Job': { resource: 'jobs', path: TEMPLATE, label: 'spec.template' },
  'batch/CronJob': { resource: 'cronjobs', path: ['spec', 'jobTemplate', 'spec', 'template'], label: 'spec.jobTemplate.spec.template' },
};
/** "group/resource" → "group/Kind", for the resources above. */
const KIND_OF_RESOURCE = new Map(Object.entries(LOCATIONS).map(([key, loc]) => [`${key.split('/')[0]}/${loc.resource}`, key]));

export const CHECKED_KINDS = Object.keys(LOCATIONS).map((k) => k.split('/')[1]!);

export function templateLocation(kind: GroupVersionKind): TemplateLocation | undefined {
  return LOCATIONS[`${kind.group}/${kind.kind}`];
}

/**
 * Why a review's kind and resource cannot be classified, or undefined: a kind podid checks must come with its own
 * resource and a namespace (they are all namespaced), and a checked resource without a subresource with its own kind
 * (with a subresource the kind differs: pods/binding is a Binding, pods/eviction an Eviction). The apiserver always
 * sends them so; anything else would let a pod through unclassified.
 */
export function kindResourceProblem(req: KindAndResource): string | undefined {
  const kindKey = `${req.kind.group}/${req.kind.kind}`;
  const loc = LOCATIONS[kindKey];
  const resource = req.resource ?? { group: '', resource: '' };
  const resourceKey = `${resource.group}/${resource.resource}`;
  const resourceKind = KIND_OF_RESOURCE.get(resourceKey);
  if (loc && resourceKey !== `${req.kind.group}/${loc.resource}`) return `request.resource ${resourceKey} is not the resource of request.kind ${kindKey}`;
  if (resourceKind && !req.subResource && resourceKind !== kindKey) return `request.kind ${kindKey} is not the kind of request.resource ${resourceKey}`;
  if ((loc || resourceKind) && !req.namespace) return `request.namespace must be set for ${resource.resource} (a namespaced resource)`;
  return undefined;
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

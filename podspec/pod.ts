// The slice of the Pod schema the webhooks read, typed loosely: admission input is untrusted,
// so every field is optional and unknown fields pass through untouched.

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

export interface Capabilities {
  add?: unknown;
  drop?: unknown;
}

export interface SecurityContext {
  privileged?: unknown;
  capabilities?: Capabilities | null;
  [k: string]: unknown;
}

export interface Container {
  name: string;
  image?: string;
  env?: EnvVar[];
  restartPolicy?: string;
  securityContext?: SecurityContext | null;
  [k: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  volumes?: Array<{ name: string; [k: string]: unknown }>;
  hostNetwork?: boolean;
  os?: { name?: string };
  [k: string]: unknown;
}

export interface ObjectMetadata {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [k: string]: unknown;
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMetadata;
  spec: PodSpec;
  [k: string]: unknown;
}

/** RFC 6901: `~` → `~0`, `/` → `~1`, so label and annotation keys can be JSON Pointer tokens. */
export function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A name shown to people: `name`, or `generateName*` for pods the apiserver has not named yet. */
/** The pod's name for messages: its name, or `generateName*` before the apiserver has named it. */
export const podName = (meta: ObjectMetadata | undefined): string => meta?.name || (meta?.generateName ? `${meta.generateName}*` : '<unnamed>');

export function displayName(meta: ObjectMetadata | undefined, namespace: string): string {
  return `${namespace}/${podName(meta)}`;
}

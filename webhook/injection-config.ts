// What the mutating webhook injects, and the annotations pods use to steer it.

import { SIDECAR_PORTS, TOKEN_AUDIENCE } from '../tokens/sidecar-contract.ts';
import type { EnvFlavour } from './sdk-env.ts';

export interface ResourceSettings {
  cpuRequest: string;
  memoryRequest: string;
  cpuLimit?: string;
  memoryLimit?: string;
}

export interface InjectionConfig {
  sidecarImage: string;
  sidecarName: string;
  volumeName: string;
  /** Loopback port the sidecar serves tokens on, inside the pod. */
  port: number;
  /** Port of the sidecar's health endpoint, on the pod IP, for the kubelet's probes. */
  healthPort: number;
  /** Port NMI listens on, on the node (host network). */
  nmiPort: number;
  tokenAudience: string;
  tokenExpirationSeconds: number;
  envFlavour: EnvFlavour;
  resources: ResourceSettings;
  runAsUser: number;
  /**
   * A ConfigMap (in each pod's namespace, key ca.crt) of CA certificates the workload-identity proxy trusts beside
   * Node's own, for an Azure AD endpoint behind a private CA (a sovereign cloud, a TLS-inspecting proxy; trust-manager
   * writes such a ConfigMap into every namespace). Optional in the pod: a namespace without it starts the proxy with
   * Node's roots only.
   */
  caConfigMap?: string;
}

export const defaultInjectionConfig: InjectionConfig = {
  sidecarImage: 'ghcr.io/podid/podid-sidecar:0.1.0',
  sidecarName: 'podid-token',
  volumeName: 'podid-sa-token',
  port: SIDECAR_PORTS.token,
  healthPort: SIDECAR_PORTS.health,
  nmiPort: SIDECAR_PORTS.nmi,
  tokenAudience: TOKEN_AUDIENCE,
  tokenExpirationSeconds: 3600,
  envFlavour: 'all',
  resources: { cpuRequest: '5m', memoryRequest: '32Mi', memoryLimit: '128Mi' },
  runAsUser: 65532,
};

export const ANNOTATION_PREFIX = 'podid.io/';
/** `"false"` opts a pod out of injection. */
export const INJECT_ANNOTATION = `${ANNOTATION_PREFIX}inject`;
/** Comma-separated container names that get no env overrides. */
export const SKIP_CONTAINERS_ANNOTATION = `${ANNOTATION_PREFIX}skip-containers`;
/** A resource URI: the sidecar reports ready (and the app starts) only once it holds a token for it. */
export const READY_RESOURCE_ANNOTATION = `${ANNOTATION_PREFIX}ready-resource`;
/** Set by podid on injection; its value names the sidecar container. */
export const INJECTED_ANNOTATION = `${ANNOTATION_PREFIX}injected`;

export const MIN_TOKEN_EXPIRATION_SECONDS = 600;

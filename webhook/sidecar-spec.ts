// The sidecar container and token volume podid injects: a native sidecar
// (initContainer, restartPolicy Always) that is ready before app containers start.

import { SIDECAR_ENV, TOKEN_DIR, TOKEN_PATH } from '../tokens/sidecar-contract.ts';
import type { InjectionConfig } from './injection-config.ts';
import type { Container, EnvVar } from '../podspec/pod.ts';

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}

/** Environment variable carrying the App Service header secret into the sidecar. */
export const SIDECAR_HEADER_VAR = SIDECAR_ENV.identityHeader;

function resources(cfg: InjectionConfig): Record<string, Record<string, string>> {
  const r = cfg.resources;
  const limits: Record<string, string> = {};
  if (r.cpuLimit) limits.cpu = r.cpuLimit;
  if (r.memoryLimit) limits.memory = r.memoryLimit;
  return { requests: { cpu: r.cpuRequest, memory: r.memoryRequest }, ...(Object.keys(limits).length ? { limits } : {}) };
}

/** The sidecar container around its environment and mounts: probes, resources and a locked-down security context. */
function baseSidecar(cfg: InjectionConfig, name: string, env: EnvVar[], volumeMounts: VolumeMount[]): Container {
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: cfg.healthPort },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 1,
  });
  return {
    name,
    image: cfg.sidecarImage,
    args: ['sidecar'],
    restartPolicy: 'Always',
    env,
    ports: [{ name: 'podid-health', containerPort: cfg.healthPort, protocol: 'TCP' }],
    startupProbe: probe('/healthz', 1, 60),
    livenessProbe: probe('/livez', 10, 3),
    resources: resources(cfg),
    securityContext: {
      runAsNonRoot: true,
      runAsUser: cfg.runAsUser,
      runAsGroup: cfg.runAsUser,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts,
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

const headerEnv = (identityHeader: string, readyResource?: string): EnvVar[] => [
  { name: SIDECAR_HEADER_VAR, value: identityHeader },
  ...(readyResource ? [{ name: SIDECAR_ENV.readyResource, value: readyResource }] : []),
];

/** The sidecar backed by NMI: it presents its projected token (audience cfg.tokenAudience) at the node's NMI. */
export function sidecarContainer(cfg: InjectionConfig, name: string, volumeName: string, identityHeader: string, readyResource?: string): Container {
  return baseSidecar(
    cfg,
    name,
    [
      { name: SIDECAR_ENV.listen, value: `127.0.0.1:${cfg.port}` },
      { name: SIDECAR_ENV.healthListen, value: `:${cfg.healthPort}` },
      { name: SIDECAR_ENV.nodeIp, valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
      { name: SIDECAR_ENV.nmiPort, value: String(cfg.nmiPort) },
      { name: SIDECAR_ENV.tokenFile, value: TOKEN_PATH },
      ...headerEnv(identityHeader, readyResource),
    ],
    [{ name: volumeName, mountPath: TOKEN_DIR, readOnly: true }],
  );
}

/**
 * The sidecar as a workload-identity proxy: it exchanges the pod's azure-identity-token (the workload-identity
 * variables and mount in `wiEnv` and `wiMount`) for Azure AD tokens itself, on `port`; no NMI, no node access.
 */
export function proxySidecarContainer(
  cfg: InjectionConfig,
  name: string,
  port: number,
  identityHeader: string,
  wiEnv: readonly EnvVar[],
  wiMount: VolumeMount,
): Container {
  const ca = cfg.caConfigMap ? { name: PROXY_CA_VOLUME, mountPath: PROXY_CA_DIR, readOnly: true } : undefined;
  return baseSidecar(
    cfg,
    name,
    [
      { name: SIDECAR_ENV.tokenSource, value: 'workload-identity' },
      { name: SIDECAR_ENV.listen, value: `127.0.0.1:${port}` },
      { name: SIDECAR_ENV.healthListen, value: `:${cfg.healthPort}` },
      ...headerEnv(identityHeader),
      ...wiEnv,
      ...(ca ? [{ name: 'NODE_EXTRA_CA_CERTS', value: `${PROXY_CA_DIR}/ca.crt` }] : []),
    ],
    ca ? [wiMount, ca] : [wiMount],
  );
}

const PROXY_CA_VOLUME = 'podid-proxy-ca';
const PROXY_CA_DIR = '/var/run/secrets/podid/proxy-ca';

/** The --sidecar-ca-configmap volume, optional: a namespace without the ConfigMap still starts the proxy. */
export function proxyCaVolume(cfg: InjectionConfig): { name: string; [k: string]: unknown } | undefined {
  if (!cfg.caConfigMap) return undefined;
  return { name: PROXY_CA_VOLUME, configMap: { name: cfg.caConfigMap, optional: true, items: [{ key: 'ca.crt', path: 'ca.crt' }] } };
}

export function tokenVolume(cfg: InjectionConfig, name: string): { name: string; [k: string]: unknown } {
  return {
    name,
    projected: {
      // Only the sidecar mounts this volume; world-readable so the non-root sidecar can read it whatever the pod's fsGroup.
      defaultMode: 0o444,
      sources: [{ serviceAccountToken: { audience: cfg.tokenAudience, expirationSeconds: cfg.tokenExpirationSeconds, path: 'token' } }],
    },
  };
}

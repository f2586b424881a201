// The sidecar container and token volume podid injects: a native sidecar
// (initContainer, restartPolicy Always) that is ready before app containers start.

import { SIDECAR_ENV, TOKEN_DIR, TOKEN_PATH } from '../tokens/sidecar-contract.ts';
import type { InjectionConfig } from './injection-config.ts';
import type { Container } from '../podspec/pod.ts';

/** Environment variable carrying the App Service header secret into the sidecar. */
export const SIDECAR_HEADER_VAR = SIDECAR_ENV.identityHeader;

function resources(cfg: InjectionConfig): Record<string, Record<string, string>> {
  const r = cfg.resources;
  const limits: Record<string, string> = {};
  if (r.cpuLimit) limits.cpu = r.cpuLimit;
  if (r.memoryLimit) limits.memory = r.memoryLimit;
  return { requests: { cpu: r.cpuRequest, memory: r.memoryRequest }, ...(Object.keys(limits).length ? { limits } : {}) };
}

export function sidecarContainer(cfg: InjectionConfig, name: string, volumeName: string, identityHeader: string, readyResource?: string): Container {
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
    env: [
      { name: SIDECAR_ENV.listen, value: `127.0.0.1:${cfg.port}` },
      { name: SIDECAR_ENV.healthListen, value: `:${cfg.healthPort}` },
      { name: SIDECAR_ENV.nodeIp, valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
      { name: SIDECAR_ENV.nmiPort, value: String(cfg.nmiPort) },
      { name: SIDECAR_ENV.tokenFile, value: TOKEN_PATH },
      { name: SIDECAR_HEADER_VAR, value: identityHeader },
      ...(readyResource ? [{ name: SIDECAR_ENV.readyResource, value: readyResource }] : []),
    ],
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
    volumeMounts: [{ name: volumeName, mountPath: TOKEN_DIR, readOnly: true }],
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
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

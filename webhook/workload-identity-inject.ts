// Pure: a workload-identity pod, its ServiceAccount and the settings in; the JSON Patch that gives it what
// azure-workload-identity's webhook gives it out (tokens/workload-identity-contract.ts names the contract). Each rule
// follows azwi v1.5.1's pkg/webhook/webhook.go (Handle and the helpers named beside each step); where podid differs it
// says so here and in docs/workload-identity.md. Like inject.ts, the patch only ensures a state, so a second
// admission of the same pod yields an empty patch.

import type { Operation } from 'fast-json-patch';
import { BINDING_LABEL } from '../identity/crds.ts';
import type { Container, EnvVar, Pod } from '../podspec/pod.ts';
import { envOps, listAddOp, recordSidecarOp } from './patch-ops.ts';
import { WI_ANNOTATIONS, WI_DEFAULT_PROXY_PORT, WI_ENV, WI_TOKEN, WI_USE_LABEL } from '../tokens/workload-identity-contract.ts';
import { INJECTED_ANNOTATION, type InjectionConfig } from './injection-config.ts';
import { planSdkEnv } from './sdk-env.ts';
import { proxyCaVolume, proxySidecarContainer, SIDECAR_HEADER_VAR, type VolumeMount } from './sidecar-spec.ts';

/** The cluster-wide settings azwi takes from its own environment (AZURE_TENANT_ID, AZURE_ENVIRONMENT) and flags. */
export interface WorkloadIdentityConfig {
  /** The tenant for ServiceAccounts without the tenant-id annotation (azwi requires one; podid warns without). */
  tenantId?: string;
  /** AZURE_AUTHORITY_HOST: the cloud's Azure AD endpoint. */
  authorityHost: string;
  /** The projected token's audience (azwi's --audience, default api://AzureADTokenExchange). */
  audience: string;
}

export interface ServiceAccountView {
  name: string;
  annotations?: Record<string, string>;
}

export type WorkloadIdentityOutcome = 'injected' | 'proxied' | 'updated' | 'unchanged' | 'not-labeled';

export type WorkloadIdentityPlan = { ok: true; outcome: WorkloadIdentityOutcome; patch: Operation[]; warnings: string[] } | { ok: false; message: string };

/** The pod's ServiceAccount name, as the apiserver will set it (azwi: "default" when the spec names none). */
export const serviceAccountName = (pod: Pod): string => {
  const name = pod.spec.serviceAccountName;
  return typeof name === 'string' && name ? name : 'default';
};

/** Go's strconv.ParseInt(s, 10, 64), which azwi uses for the expiration: optional sign, decimal digits, int64. */
function parseGoInt(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const n = BigInt(text);
  if (n > 9223372036854775807n || n < -9223372036854775808n) return undefined;
  return Number(n);
}

/** getServiceAccountTokenExpiration: the pod's annotation when non-empty, else the ServiceAccount's, else 3600; in [3600, 86400]. */
export function tokenExpiration(podAnnotations: Record<string, string>, sa: ServiceAccountView): number | string {
  const key = WI_ANNOTATIONS.tokenExpiration;
  const [where, text] = podAnnotations[key] ? ['pod', podAnnotations[key]] : sa.annotations?.[key] ? ['ServiceAccount', sa.annotations[key]] : [];
  if (text === undefined) return WI_TOKEN.defaultExpirationSeconds;
  const seconds = parseGoInt(text);
  if (seconds === undefined) return `the ${where}'s ${key} annotation ${JSON.stringify(text.slice(0, 40))} is not a whole number of seconds`;
  if (seconds < WI_TOKEN.minExpirationSeconds || seconds > WI_TOKEN.maxExpirationSeconds) {
    return `the ${where}'s ${key} annotation ${seconds} is not between ${WI_TOKEN.minExpirationSeconds} and ${WI_TOKEN.maxExpirationSeconds} seconds`;
  }
  return seconds;
}

/** getProxyPort: the annotation as a port (azwi takes any int32 and leaves a bad one to the apiserver; podid refuses it here). */
function proxyPort(annotations: Record<string, string>): number | string {
  const text = annotations[WI_ANNOTATIONS.proxySidecarPort];
  if (text === undefined) return WI_DEFAULT_PROXY_PORT;
  const port = parseGoInt(text);
  if (port === undefined || port < 1 || port > 65535) return `${WI_ANNOTATIONS.proxySidecarPort} ${JSON.stringify(text.slice(0, 40))} is not a port (1-65535)`;
  return port;
}

/** getSkipContainers: `;`-separated, each name trimmed. */
const skipList = (annotations: Record<string, string>): Set<string> =>
  new Set((annotations[WI_ANNOTATIONS.skipContainers] ?? '').split(';').map((s) => s.trim()));

/** addEnvironmentVariables: the four variables in azwi's order, each only when the container does not set it and the value is not empty. */
function wiEnv(clientId: string, tenantId: string, authorityHost: string): EnvVar[] {
  return [
    { name: WI_ENV.clientId, value: clientId },
    { name: WI_ENV.tenantId, value: tenantId },
    { name: WI_ENV.federatedTokenFile, value: WI_TOKEN.path },
    { name: WI_ENV.authorityHost, value: authorityHost },
  ].filter((e) => e.value);
}

const WI_MOUNT: VolumeMount = { name: WI_TOKEN.volumeName, mountPath: WI_TOKEN.mountPath, readOnly: true };

/** addProjectedServiceAccountTokenVolume's test: a projected volume with a service-account token at azwi's path. */
function hasTokenVolume(volumes: Pod['spec']['volumes']): boolean {
  return (volumes ?? []).some((v) => {
    const sources = (v.projected as { sources?: { serviceAccountToken?: { path?: string } }[] } | undefined)?.sources;
    return Array.isArray(sources) && sources.some((s) => s?.serviceAccountToken?.path === WI_TOKEN.fileName);
  });
}

/** The variables the container does not set yet (by name, whatever the value) and azwi's mount unless one of that name exists. */
function containerOps(path: string, c: Container, env: readonly EnvVar[]): Operation[] {
  const present = new Set((c.env ?? []).map((e) => e.name));
  const ops = envOps(
    path,
    c,
    env.filter((e) => !present.has(e.name)),
  );
  // addProjectedTokenVolumeMount: a mount of that name is left as it is.
  const mounts = c.volumeMounts as { name?: string }[] | undefined;
  if (!Array.isArray(mounts) || !mounts.some((m) => m?.name === WI_TOKEN.volumeName))
    ops.push(listAddOp(Array.isArray(mounts), `${path}/volumeMounts`, WI_MOUNT));
  return ops;
}

/** The container azwi's webhook injects as its proxy (consts.go ProxySidecarContainerName). */
const AZWI_PROXY = 'azwi-proxy';

interface Proxy {
  port: number;
  header: string;
  /** False on a later admission, when the sidecar is in place already. */
  add: boolean;
}

/** The proxy the annotation asks for, nothing, or why the pod is refused. */
function planProxy(pod: Pod, cfg: InjectionConfig, newSecret: () => string, warnings: string[]): Proxy | undefined | string {
  const annotations = pod.metadata?.annotations ?? {};
  const spec = pod.spec;
  // shouldInjectProxySidecar: the annotation's presence, whatever its value.
  const asked = annotations[WI_ANNOTATIONS.injectProxySidecar];
  if (asked === undefined) return undefined;
  if (spec.hostNetwork === true) return `${WI_ANNOTATIONS.injectProxySidecar}: a hostNetwork pod cannot have the token proxy`;
  const port = proxyPort(annotations);
  if (typeof port === 'string') return port;
  if (port === cfg.healthPort) return `${WI_ANNOTATIONS.proxySidecarPort} ${port} is the port of podid's sidecar health endpoint; choose another`;
  if (asked.trim().toLowerCase() !== 'true') {
    warnings.push(
      `${WI_ANNOTATIONS.injectProxySidecar} is ${JSON.stringify(asked)}: like azure-workload-identity, podid adds the proxy whenever the annotation is present; remove it to go without`,
    );
  }
  if (pod.metadata?.labels?.[BINDING_LABEL]) {
    warnings.push(`the pod is labeled ${BINDING_LABEL}: podid's sidecar serves it through NMI already, so no workload-identity proxy is added`);
    return undefined;
  }
  const inits = spec.initContainers ?? [];
  if ([...inits, ...spec.containers].some((c) => c.name === AZWI_PROXY)) {
    warnings.push(`azure-workload-identity's webhook gave the pod its proxy (${AZWI_PROXY}) already, so podid adds none`);
    return undefined;
  }
  const existing = annotations[INJECTED_ANNOTATION] === cfg.sidecarName ? inits.find((c) => c.name === cfg.sidecarName) : undefined;
  if (existing) return { port, header: existing.env?.find((e) => e.name === SIDECAR_HEADER_VAR)?.value ?? newSecret(), add: false };
  if ([...spec.containers, ...inits, ...(spec.ephemeralContainers ?? [])].some((c) => c.name === cfg.sidecarName)) {
    return `the pod already has a container named ${cfg.sidecarName}, the name of podid's proxy sidecar`;
  }
  return { port, header: newSecret(), add: true };
}

/**
 * `sa` undefined: the ServiceAccount does not exist (azwi answers 400 with the lookup's error). The proxy, when asked
 * for, is podid's own sidecar (cfg), not azwi's proxy and its privileged init container.
 */
export function planWorkloadIdentity(
  pod: Pod,
  namespace: string,
  sa: ServiceAccountView | undefined,
  wi: WorkloadIdentityConfig,
  cfg: InjectionConfig,
  newSecret: () => string,
): WorkloadIdentityPlan {
  const labels = pod.metadata?.labels ?? {};
  const annotations = pod.metadata?.annotations ?? {};
  const spec = pod.spec;
  // azwi leaves the label to its objectSelector; podid checks it again so that nothing else is ever changed.
  if (labels[WI_USE_LABEL] !== 'true') return { ok: true, outcome: 'not-labeled', patch: [], warnings: [] };
  const saName = serviceAccountName(pod);
  if (!sa) return { ok: false, message: `ServiceAccount ${namespace}/${saName} not found: workload identity reads the client ID from it` };
  const warnings: string[] = [];
  const patch: Operation[] = [];
  const inits = spec.initContainers ?? [];
  const proxy = planProxy(pod, cfg, newSecret, warnings);
  if (typeof proxy === 'string') return { ok: false, message: proxy };

  const expiration = tokenExpiration(annotations, sa);
  if (typeof expiration === 'string') return { ok: false, message: expiration };
  const clientId = sa.annotations?.[WI_ANNOTATIONS.clientId] ?? '';
  // getTenantID: the annotation when present (even empty), else the cluster's tenant.
  const tenantId = sa.annotations && WI_ANNOTATIONS.tenantId in sa.annotations ? sa.annotations[WI_ANNOTATIONS.tenantId]! : (wi.tenantId ?? '');
  if (!clientId)
    warnings.push(
      `ServiceAccount ${namespace}/${saName} has no ${WI_ANNOTATIONS.clientId} annotation: the pod gets no ${WI_ENV.clientId} and workload identity fails`,
    );
  if (!tenantId)
    warnings.push(
      `neither ServiceAccount ${namespace}/${saName} (${WI_ANNOTATIONS.tenantId}) nor podid (--wi-tenant-id) names a tenant: the pod gets no ${WI_ENV.tenantId}`,
    );
  const env = wiEnv(clientId, tenantId, wi.authorityHost);

  const skip = skipList(annotations);
  const sdkAddress = proxy && { port: proxy.port, flavour: cfg.envFlavour, identityHeader: proxy.header };
  const visit = (list: readonly Container[], field: 'containers' | 'initContainers') => {
    list.forEach((c, i) => {
      if (skip.has(c.name) || (proxy && field === 'initContainers' && c.name === cfg.sidecarName)) return;
      // With the proxy, SDKs that speak only managed identity are sent to it too (sdk-env.ts, as for podid's own sidecar).
      const sdk = sdkAddress ? planSdkEnv(c.name, new Map((c.env ?? []).map((e) => [e.name, e.value])), sdkAddress) : { add: [], warnings: [] };
      warnings.push(...sdk.warnings);
      patch.push(...containerOps(`/spec/${field}/${i}`, c, [...env, ...sdk.add]));
    });
  };
  visit(inits, 'initContainers');
  visit(spec.containers, 'containers');

  const addVolume = !hasTokenVolume(spec.volumes);
  if (addVolume) {
    if ((spec.volumes ?? []).some((v) => v.name === WI_TOKEN.volumeName)) {
      return { ok: false, message: `the pod has a volume named ${WI_TOKEN.volumeName} that is not the workload-identity token; rename it` };
    }
    const volume = {
      name: WI_TOKEN.volumeName,
      projected: { sources: [{ serviceAccountToken: { path: WI_TOKEN.fileName, expirationSeconds: expiration, audience: wi.audience } }] },
    };
    patch.push(listAddOp(Array.isArray(spec.volumes), '/spec/volumes', volume));
  }
  if (proxy?.add) {
    // A native sidecar first among the init containers (azwi prepends its proxy the same way from Kubernetes 1.32),
    // added after the operations that address init containers by index.
    patch.unshift(recordSidecarOp(pod, cfg.sidecarName));
    const sidecar = proxySidecarContainer(cfg, cfg.sidecarName, proxy.port, proxy.header, env, WI_MOUNT);
    patch.push(listAddOp(Array.isArray(spec.initContainers), '/spec/initContainers', sidecar, 'start'));
    const ca = proxyCaVolume(cfg);
    if (ca) patch.push(listAddOp(Array.isArray(spec.volumes) || addVolume, '/spec/volumes', ca));
  }
  const outcome: WorkloadIdentityOutcome = proxy?.add ? 'proxied' : addVolume ? 'injected' : patch.length ? 'updated' : 'unchanged';
  return { ok: true, outcome, patch, warnings };
}

// NMI on a cluster, wired: informers → indexes, TokenReview, Secrets, token providers, the HTTP server,
// AzureAssignedIdentity bookkeeping and (optionally) interception. `podid nmi` and the end-to-end tests
// start it the same way.

import type { KubeClient } from '../common/kube-client.ts';
import type { ListenAddress } from '../common/listen.ts';
import type { ServerLimits } from '../common/serve.ts';
import type { Logger } from '../common/log.ts';
import { desiredAssignments } from './assignments.ts';
import type { AzurePodIdentityException } from '../identity/crds.ts';
import type { HostTokenAuth } from './host-auth.ts';
import type { AmbiguityPolicy } from './lookup.ts';
import { cachedReviewer } from './caller.ts';
import { IdentityStore } from '../identity/store.ts';
import { iptablesRunner, startInterception } from './iptables.ts';
import type { InterceptConfig } from './iptables-rules.ts';
import { AssignmentStates, standardModeGate } from './assignment-gate.ts';
import { kubeReviewer, kubeSecrets, nodeAssignmentNames, nodeAssignmentWatch, startInformers, syncAssignments, takeOverLeftovers } from './kube.ts';
import { kubeEvents } from '../common/events.ts';
import { dedupedEvents } from '../common/events.ts';
import { createNmiMetrics } from './metrics.ts';
import { msalNetwork } from '../aad/msal-network.ts';
import { PodIndex } from './pod-index.ts';
import { tokenProviders } from './providers.ts';
import { startNmi, type InterceptInjected } from './server.ts';
import { TokenService } from './token-service.ts';

export interface DaemonSettings {
  kube: KubeClient;
  nodeName: string;
  nodeIP?: string;
  listen: ListenAddress;
  limits?: ServerLimits;
  tokenAudience: string;
  imdsUrl: string;
  authorityHost: string;
  extraCaPem?: string;
  federatedTokenFile?: string;
  forceNamespaced: boolean;
  podWaitMs: number;
  refreshAheadSeconds: number;
  maxTokens: number;
  maxTokensPerIdentity?: number;
  /** /host/token: whether the pod's token is required, verified when present, or ignored; its audience; node-IP callers. */
  hostToken?: { auth: HostTokenAuth; audience: string; fromNodeIP: boolean };
  ambiguousIdentity?: AmbiguityPolicy;
  blockInstanceMetadata?: boolean;
  /** Interception of pods that carry a projected token for tokenAudience (injected pods): refused by default. */
  interceptInjected?: InterceptInjected;
  /** Exceptions applied without an AzurePodIdentityException object (default: the AKS add-on's). */
  builtinExceptions?: AzurePodIdentityException[];
  callerRate?: { ratePerSecond: number; burst: number };
  /** Managed mode: write AzureAssignedIdentity objects (status Assigned) for the pods served. */
  assignments: boolean;
  /** Standard mode: podid-controller writes them; type 0 requests wait up to `waitMs` for Assigned. */
  standard?: { waitMs: number };
  intercept?: { config: InterceptConfig; intervalMs: number; binary: string };
}

export interface RunningDaemon {
  url: string;
  pods: PodIndex;
  store: IdentityStore;
  close(): Promise<void>;
}

export async function startDaemon(s: DaemonSettings, log: Logger): Promise<RunningDaemon> {
  const pods = new PodIndex();
  const store = new IdentityStore();
  for (const e of s.builtinExceptions ?? []) store.upsertException(e);
  const metrics = createNmiMetrics();
  const tokens = new TokenService({
    providers: tokenProviders({
      imdsUrl: s.imdsUrl,
      msal: {
        authorityHost: s.authorityHost,
        readSecret: kubeSecrets(s.kube),
        federatedTokenFile: s.federatedTokenFile,
        network: msalNetwork({ extraCaPem: s.extraCaPem }),
      },
    }),
    refreshAheadSeconds: s.refreshAheadSeconds,
    maxEntries: s.maxTokens,
    maxPerIdentity: s.maxTokensPerIdentity,
    metrics,
  });
  const countReview = (result: 'authenticated' | 'rejected' | 'error') => metrics.tokenReviews.inc({ result });
  const reviewer = cachedReviewer(kubeReviewer(s.kube, s.tokenAudience, countReview));
  const hostAudience = s.hostToken?.audience ?? s.tokenAudience;
  const hostReviewer = hostAudience === s.tokenAudience ? reviewer : cachedReviewer(kubeReviewer(s.kube, hostAudience, countReview));
  pods.onForget(function forgetReviews(pod) {
    reviewer.forgetPod(pod.uid);
    hostReviewer.forgetPod(pod.uid);
  });
  let ready = false;
  const states = s.standard ? new AssignmentStates() : undefined;
  // In standard mode the controller owns AzureAssignedIdentity objects; NMI only reads its node's.
  const writeAssignments = s.assignments && !s.standard;
  const nmi = await startNmi(
    {
      listen: s.listen,
      limits: s.limits,
      nodeName: s.nodeName,
      ambiguousIdentity: s.ambiguousIdentity,
      blockInstanceMetadata: s.blockInstanceMetadata,
      callerRate: s.callerRate,
      imdsUrl: s.imdsUrl,
      nodeIPs: s.hostToken?.fromNodeIP && s.nodeIP ? [s.nodeIP] : [],
      hostTokenAuth: s.hostToken?.auth,
      podWaitMs: s.podWaitMs,
      forceNamespaced: s.forceNamespaced,
      sidecarAudience: s.tokenAudience,
      interceptInjected: s.interceptInjected,
    },
    {
      pods,
      store,
      tokens,
      reviewer,
      hostReviewer,
      metrics,
      log,
      events: dedupedEvents(kubeEvents(s.kube, s.nodeName, log)),
      ready: () => ready,
      assignments: states && standardModeGate(states, s.standard!.waitMs),
    },
  );

  // AzureAssignedIdentity objects follow the informers, at most once a second, and fully every minute.
  let dirty = true;
  let syncing = false;
  const sync = async () => {
    if (!ready || !dirty || syncing || !writeAssignments) return;
    dirty = false;
    syncing = true;
    try {
      const desired = desiredAssignments(pods.pods(), store, { forceNamespaced: s.forceNamespaced });
      const r = await syncAssignments(s.kube, s.nodeName, desired, assigned, log);
      if (r.created || r.removed) log.info(r, 'AzureAssignedIdentity objects updated');
    } catch (err) {
      dirty = true;
      log.warn({ err }, 'cannot sync AzureAssignedIdentity objects');
    } finally {
      syncing = false;
    }
  };
  const assigned = new Map<string, { namespace: string; name: string }>();
  const extra = states ? [nodeAssignmentWatch(s.nodeName, states)] : writeAssignments ? [nodeAssignmentNames(s.nodeName, assigned)] : [];
  // A failed start must not leave the server listening (and the process alive, never ready) behind it.
  const stopInformers = await startInformers(s.kube, store, log, () => (dirty = true), { name: s.nodeName, pods }, extra).catch(async (err: unknown) => {
    await nmi.close();
    throw err;
  });
  ready = true;
  log.info({ node: s.nodeName, pods: pods.size, ...store.counts }, 'informers synced');
  // MIC's objects keep the names podid uses (and MIC's finalizers): adopt or delete them once, before the sync loop.
  if (writeAssignments) {
    await takeOverLeftovers(s.kube, s.nodeName, desiredAssignments(pods.pods(), store, { forceNamespaced: s.forceNamespaced }), log).catch((err: unknown) =>
      log.warn({ err }, "cannot take over MIC's AzureAssignedIdentity objects; they stay as they are"),
    );
  }
  const syncTimer = setInterval(() => void sync(), 1000);
  const fullTimer = setInterval(() => (dirty = true), 60_000);
  const stopIntercept = s.intercept
    ? await startInterception(iptablesRunner(s.intercept.binary), s.intercept.config, s.intercept.intervalMs, log, (result) =>
        metrics.interceptionRestores.inc({ result }),
      )
    : undefined;
  return {
    url: nmi.url,
    pods,
    store,
    async close() {
      clearInterval(syncTimer);
      clearInterval(fullTimer);
      await stopIntercept?.();
      stopInformers();
      await nmi.close();
    },
  };
}

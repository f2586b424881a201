// NMI wired in-process to an emulated world (world.ts) instead of a cluster: the world's
// identities and bindings in the store, pods given by the caller, and a reviewer that knows the
// service-account tokens the caller hands out. Used by unit tests, the compatibility suite, the demo
// and the benchmarks; the cluster wiring (informers, TokenReview) is tested end to end.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../common/log.ts';
import type { AzureIdentity } from '../identity/crds.ts';
import { unauthorized } from '../common/http-error.ts';
import type { Caller, Reviewer } from '../nmi/caller.ts';
import type { PodEvents } from '../common/events.ts';
import { IdentityStore } from '../identity/store.ts';
import { createNmiMetrics, type NmiMetrics } from '../nmi/metrics.ts';
import { msalNetwork } from '../aad/msal-network.ts';
import { PodIndex, type NodePod } from '../nmi/pod-index.ts';
import { tokenProviders } from '../nmi/providers.ts';
import type { TokenProviders } from '../aad/token-provider.ts';
import { startNmi, type RunningNmi, type NmiSettings } from '../nmi/server.ts';
import { CredentialError } from '../aad/sp-credentials.ts';
import { TokenService } from '../nmi/token-service.ts';
import type { World } from './world.ts';

export interface LocalNmi extends RunningNmi {
  pods: PodIndex;
  store: IdentityStore;
  metrics: NmiMetrics;
  /** The warning Events NMI would have written, in order. */
  events: Array<{ pod: string; reason: string; message: string }>;
  /** Registers a pod (on this node unless `node` names another) and returns the service-account token NMI accepts for it. */
  addPod(pod: Partial<NodePod> & { name: string; labels: Record<string, string>; node?: string }): string;
}

/** The node the local NMI serves (its tokens name it, as Kubernetes ≥ 1.30 bound tokens do). */
export const LOCAL_NODE = 'local-node';

export function podFor(identity: AzureIdentity): Record<string, string> {
  return { aadpodidbinding: identity.name };
}

export interface LocalNmiOptions {
  logLevel?: string;
  /** Changes the provider registry (e.g. registers a provider for a new identity type). */
  providers?: (registry: TokenProviders) => TokenProviders;
  /** Token cache bounds (default: 10,000 in all, none per identity). */
  maxTokens?: number;
  maxPerIdentity?: number;
}

export async function startLocalNmi(world: World, dir: string, settings: Partial<NmiSettings> = {}, opts: LocalNmiOptions = {}): Promise<LocalNmi> {
  const pods = new PodIndex();
  const store = new IdentityStore();
  for (const i of world.identities) store.upsertIdentity(i);
  for (const b of world.bindings) store.upsertBinding(b);
  const federatedTokenFile = join(dir, 'nmi-federated-token');
  await writeFile(federatedTokenFile, world.federatedAssertion());
  const metrics = createNmiMetrics();
  const registry = tokenProviders({
    imdsUrl: world.imds.url,
    msal: {
      authorityHost: world.aad.url,
      readSecret: async (ref) => {
        const data = world.secrets.get(`${ref.namespace}/${ref.name}`);
        if (!data) throw new CredentialError('not found');
        return data;
      },
      federatedTokenFile,
      network: msalNetwork({ extraCaPem: world.tls.caPem }),
    },
  });
  const tokens = new TokenService({
    providers: opts.providers ? opts.providers(registry) : registry,
    refreshAheadSeconds: 300,
    maxEntries: opts.maxTokens ?? 10_000,
    maxPerIdentity: opts.maxPerIdentity,
    metrics,
  });
  const events: LocalNmi['events'] = [];
  const recorder: PodEvents = { warn: (pod, reason, message) => events.push({ pod: `${pod.namespace}/${pod.name}`, reason, message }) };
  const callers = new Map<string, Caller>();
  const reviewer: Reviewer = {
    review: async (token) => {
      const caller = callers.get(token);
      if (!caller) throw unauthorized('the service-account token was not accepted');
      return caller;
    },
  };
  const nmi = await startNmi(
    { listen: { host: '127.0.0.1', port: 0 }, imdsUrl: world.imds.url, nodeIPs: [], podWaitMs: 200, forceNamespaced: false, nodeName: LOCAL_NODE, ...settings },
    { pods, store, tokens, reviewer, metrics, events: recorder, log: createLogger('nmi', opts.logLevel ?? 'silent'), ready: () => true },
  );
  let n = 0;
  return {
    ...nmi,
    pods,
    store,
    metrics,
    events,
    addPod({ node = LOCAL_NODE, ...p }) {
      const pod: NodePod = { namespace: 'demo', uid: `uid-${p.name}`, ips: [], serviceAccount: 'default', hostNetwork: false, ...p };
      if (node === LOCAL_NODE) pods.upsert(pod);
      const token = `sa-token-${++n}-${pod.name}`;
      callers.set(token, { namespace: pod.namespace, podName: pod.name, podUID: pod.uid, serviceAccount: pod.serviceAccount, nodeName: node });
      return token;
    },
  };
}

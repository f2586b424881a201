// `podid nmi`: flags → the node daemon: informers, token providers, the HTTP server, AzureAssignedIdentity
// bookkeeping and metadata interception.

import { readFile } from 'node:fs/promises';
import { parseDurationMs } from '../common/duration.ts';
import { parseListen, parsePort } from '../common/listen.ts';
import { createLogger } from '../common/log.ts';
import { desiredAssignments } from '../nmi/assignments.ts';
import { cachedReviewer } from '../nmi/caller.ts';
import { IdentityStore } from '../nmi/identity-store.ts';
import { imdsProvider } from '../nmi/imds-provider.ts';
import { iptablesRunner, startInterception } from '../nmi/iptables.ts';
import { defaultInterceptConfig, validateInterceptConfig, type InterceptConfig } from '../nmi/iptables-rules.ts';
import { kubeConfig, kubeReviewer, kubeSecrets, startInformers, syncAssignments } from '../nmi/kube.ts';
import { createNmiMetrics } from '../nmi/metrics.ts';
import { msalNetwork } from '../nmi/msal-network.ts';
import { msalProvider } from '../nmi/msal-provider.ts';
import { PodIndex } from '../nmi/pod-index.ts';
import { startNmi } from '../nmi/server.ts';
import { TokenService } from '../nmi/token-service.ts';
import { UsageError, convert, type Command, type FlagValues } from './flags.ts';
import { untilSignal } from './signals.ts';

function interceptConfigFrom(v: FlagValues, nmiPort: number): InterceptConfig {
  if (!v['node-ip']) throw new UsageError('--intercept needs --node-ip (PODID_NODE_IP), the address NMI is reached at from pods');
  const c: InterceptConfig = {
    chain: v['iptables-chain']!,
    metadataIP: v['metadata-ip']!,
    metadataPort: convert(v, 'metadata-port', parsePort),
    nmiIP: v['node-ip'],
    nmiPort,
    excludeInterfaces: (v['intercept-exclude-interfaces'] ?? '').split(',').map((s) => s.trim()).filter(Boolean),
  };
  const errors = validateInterceptConfig(c);
  if (errors.length) throw new UsageError(`interception: ${errors.join('; ')}`);
  return c;
}

export const nmiCommand: Command = {
  name: 'nmi',
  summary: 'node daemon: resolves pod identities, serves tokens to sidecars and the CSI driver, intercepts metadata traffic',
  flags: [
    { name: 'listen', env: 'PODID_NMI_LISTEN', default: ':2579', help: 'HTTP listen address on the node (host network)' },
    { name: 'node-name', env: 'PODID_NODE_NAME', required: true, help: 'this node (fieldRef spec.nodeName): only its pods are watched' },
    { name: 'node-ip', env: 'PODID_NODE_IP', default: '', help: "the node's IP (fieldRef status.hostIP): interception target and allowed /host/token caller" },
    { name: 'kubeconfig', env: 'KUBECONFIG', default: '', help: 'kubeconfig file (default: in-cluster service account)' },
    { name: 'token-audience', env: 'PODID_TOKEN_AUDIENCE', default: 'podid', help: 'audience sidecar tokens must carry (TokenReview)' },
    { name: 'imds-url', env: 'PODID_IMDS_URL', default: 'http://169.254.169.254', help: "the node's real metadata service: type 0 tokens and pass-through" },
    { name: 'authority-host', env: 'PODID_AUTHORITY_HOST', default: 'https://login.microsoftonline.com', help: 'Azure AD authority host for service principals (an identity\'s adEndpoint overrides it)' },
    { name: 'extra-ca-file', env: 'PODID_EXTRA_CA_FILE', default: '', help: 'PEM CA certificates trusted for the authority host besides the system ones' },
    { name: 'federated-token-file', env: 'PODID_FEDERATED_TOKEN_FILE', default: '', help: "NMI's projected service-account token, presented as the assertion of type 3 identities" },
    { name: 'force-namespaced', env: 'PODID_FORCE_NAMESPACED', boolean: true, help: 'bindings serve only pods of their own namespace (aad-pod-identity --forceNamespaced)' },
    { name: 'pod-wait', env: 'PODID_POD_WAIT', default: '3s', help: 'how long a request for a pod NMI has not seen yet waits for the informer' },
    { name: 'refresh-ahead', env: 'PODID_REFRESH_AHEAD', default: '5m', help: 'refresh cached tokens this long before they expire (±20% jitter)' },
    { name: 'max-tokens', env: 'PODID_MAX_TOKENS', default: '20000', help: 'most (identity, resource) tokens kept' },
    { name: 'assignments', env: 'PODID_ASSIGNMENTS', default: 'true', boolean: true, help: 'write AzureAssignedIdentity objects for the pods served (managed mode, status Assigned)' },
    { name: 'intercept', env: 'PODID_INTERCEPT', boolean: true, help: 'DNAT pod traffic to the metadata address to NMI with iptables (needs NET_ADMIN, host network)' },
    { name: 'iptables-chain', env: 'PODID_IPTABLES_CHAIN', default: defaultInterceptConfig.chain, help: 'NAT chain holding the interception rule' },
    { name: 'metadata-ip', env: 'PODID_METADATA_IP', default: defaultInterceptConfig.metadataIP, help: 'metadata address intercepted' },
    { name: 'metadata-port', env: 'PODID_METADATA_PORT', default: String(defaultInterceptConfig.metadataPort), help: 'metadata port intercepted' },
    { name: 'intercept-exclude-interfaces', env: 'PODID_INTERCEPT_EXCLUDE_INTERFACES', default: '', help: 'interfaces never intercepted, comma-separated (e.g. the uplink)' },
    { name: 'iptables-interval', env: 'PODID_IPTABLES_INTERVAL', default: '60s', help: 'how often the rules are checked and restored' },
    { name: 'iptables-binary', env: 'PODID_IPTABLES_BINARY', default: 'iptables', help: 'iptables, iptables-nft or iptables-legacy: match what the node uses' },
    { name: 'log-level', env: 'PODID_LOG_LEVEL', default: 'info', help: 'pino level: fatal, error, warn, info, debug, trace' },
  ],
  async run(v) {
    const log = createLogger('nmi', v['log-level']);
    const listen = convert(v, 'listen', parseListen);
    const nodeName = v['node-name']!;
    const maxEntries = Number(v['max-tokens']);
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new UsageError('--max-tokens must be a positive integer');
    const intercept = v.intercept === 'true' ? interceptConfigFrom(v, listen.port) : undefined;
    const forceNamespaced = v['force-namespaced'] === 'true';
    const extraCaPem = v['extra-ca-file'] ? await readFile(v['extra-ca-file'], 'utf8') : undefined;

    const kc = kubeConfig(v.kubeconfig || undefined);
    const pods = new PodIndex();
    const store = new IdentityStore();
    const metrics = createNmiMetrics();
    const tokens = new TokenService({
      imds: imdsProvider(v['imds-url']!),
      msal: msalProvider({ authorityHost: v['authority-host']!, readSecret: kubeSecrets(kc), federatedTokenFile: v['federated-token-file'] || undefined, network: msalNetwork({ extraCaPem }) }),
      refreshAheadSeconds: convert(v, 'refresh-ahead', parseDurationMs) / 1000,
      maxEntries,
      metrics,
    });
    let ready = false;
    const nmi = await startNmi(
      { listen, imdsUrl: v['imds-url']!, nodeIPs: v['node-ip'] ? [v['node-ip']] : [], podWaitMs: convert(v, 'pod-wait', parseDurationMs), forceNamespaced },
      { pods, store, tokens, reviewer: cachedReviewer(kubeReviewer(kc, v['token-audience']!)), metrics, log, ready: () => ready },
    );

    // AzureAssignedIdentity objects follow the informers, at most once a second.
    let dirty = true;
    let syncing = false;
    const sync = async () => {
      if (!ready || !dirty || syncing || v.assignments !== 'true') return;
      dirty = false;
      syncing = true;
      try {
        const r = await syncAssignments(kc, nodeName, desiredAssignments(pods.pods(), store, { forceNamespaced }), log);
        if (r.created || r.removed) log.info(r, 'AzureAssignedIdentity objects updated');
      } catch (err) {
        dirty = true;
        log.warn({ err: (err as Error).message }, 'cannot sync AzureAssignedIdentity objects');
      } finally {
        syncing = false;
      }
    };
    const stopInformers = await startInformers(kc, nodeName, pods, store, log, () => (dirty = true));
    ready = true;
    log.info({ node: nodeName, pods: pods.size, ...store.counts }, 'informers synced');
    const syncTimer = setInterval(() => void sync(), 1000);
    const fullTimer = setInterval(() => (dirty = true), 60_000);
    const stopIntercept = intercept ? await startInterception(iptablesRunner(v['iptables-binary']), intercept, convert(v, 'iptables-interval', parseDurationMs), log) : undefined;

    await untilSignal();
    clearInterval(syncTimer);
    clearInterval(fullTimer);
    await stopIntercept?.();
    stopInformers();
    await nmi.close();
    return 0;
  },
};

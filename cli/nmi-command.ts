// `podid nmi`: flags → the node daemon: informers, token providers, the HTTP server, AzureAssignedIdentity
// bookkeeping and metadata interception.

import { readFile } from 'node:fs/promises';
import { parseDurationMs } from '../common/duration.ts';
import { parseListen, parsePort } from '../common/listen.ts';
import { createLogger } from '../common/log.ts';
import { startDaemon } from '../nmi/daemon.ts';
import { defaultInterceptConfig, validateInterceptConfig, type InterceptConfig } from '../nmi/iptables-rules.ts';
import { kubeConfig } from '../nmi/kube.ts';
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
    const maxEntries = Number(v['max-tokens']);
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new UsageError('--max-tokens must be a positive integer');
    const intercept = v.intercept === 'true' ? interceptConfigFrom(v, listen.port) : undefined;
    const extraCaPem = v['extra-ca-file'] ? await readFile(v['extra-ca-file'], 'utf8') : undefined;

    const daemon = await startDaemon(
      {
        kc: kubeConfig(v.kubeconfig || undefined),
        nodeName: v['node-name']!,
        nodeIP: v['node-ip'] || undefined,
        listen,
        tokenAudience: v['token-audience']!,
        imdsUrl: v['imds-url']!,
        authorityHost: v['authority-host']!,
        extraCaPem,
        federatedTokenFile: v['federated-token-file'] || undefined,
        forceNamespaced: v['force-namespaced'] === 'true',
        podWaitMs: convert(v, 'pod-wait', parseDurationMs),
        refreshAheadSeconds: convert(v, 'refresh-ahead', parseDurationMs) / 1000,
        maxTokens: maxEntries,
        assignments: v.assignments === 'true',
        intercept: intercept && { config: intercept, intervalMs: convert(v, 'iptables-interval', parseDurationMs), binary: v['iptables-binary']! },
      },
      log,
    );
    await untilSignal();
    await daemon.close();
    return 0;
  },
};

// `podid nmi`: flags → the node daemon: informers, token providers, the HTTP server, AzureAssignedIdentity
// bookkeeping and metadata interception.

import { readFile } from 'node:fs/promises';
import { createLogger } from '../common/log.ts';
import { startDaemon } from '../nmi/daemon.ts';
import { DEFAULT_BUILTIN_EXCEPTIONS, parseBuiltinExceptions } from '../identity/builtin-exceptions.ts';
import { HOST_TOKEN_AUTH_MODES } from '../nmi/host-auth.ts';
import { AMBIGUITY_POLICIES } from '../nmi/lookup.ts';
import { INTERCEPT_INJECTED } from '../nmi/server.ts';
import { defaultInterceptConfig, validateInterceptConfig, type InterceptConfig } from '../nmi/iptables-rules.ts';
import { kubeClient, kubeCredentials } from '../common/kube-client.ts';
import { MODES } from '../common/mode.ts';
import { SIDECAR_PORTS, TOKEN_AUDIENCE } from '../tokens/sidecar-contract.ts';
import { defaultServerLimits } from '../common/serve.ts';
import { connectionFlags, kubeconfigFlag, limitsFrom, logLevelFlag } from './common-flags.ts';
import { UsageError, defineCommand, flag, switchFlag, typeOf, types, type FlagValues } from './flags.ts';
import { untilSignal } from './signals.ts';

/** `--builtin-exceptions`, parsed by identity/builtin-exceptions.ts. */
const builtinExceptions = typeOf('NS:K=V', parseBuiltinExceptions);

// One row per flag: a table reads best unwrapped.
// prettier-ignore
const flags = {
  listen: flag(types.listen, { env: 'PODID_NMI_LISTEN', default: `:${SIDECAR_PORTS.nmi}`, help: 'HTTP listen address on the node (host network)' }),
  'node-name': flag(types.string, { env: 'PODID_NODE_NAME', required: true, help: 'this node (fieldRef spec.nodeName): only its pods are watched' }),
  'node-ip': flag(types.optionalString, { env: 'PODID_NODE_IP', help: "the node's IP (fieldRef status.hostIP): interception target and allowed /host/token caller" }),
  kubeconfig: kubeconfigFlag('kubeconfig file (default: in-cluster service account)'),
  'token-audience': flag(types.string, { env: 'PODID_TOKEN_AUDIENCE', default: TOKEN_AUDIENCE, help: 'audience sidecar tokens must carry (TokenReview)' }),
  'imds-url': flag(types.url, { env: 'PODID_IMDS_URL', default: 'http://169.254.169.254', help: "the node's real metadata service: type 0 tokens and pass-through" }),
  'authority-host': flag(types.url, { env: 'PODID_AUTHORITY_HOST', default: 'https://login.microsoftonline.com', help: "Azure AD authority host for service principals (an identity's adEndpoint overrides it)" }),
  'extra-ca-file': flag(types.optionalString, { env: 'PODID_EXTRA_CA_FILE', help: 'PEM CA certificates trusted for the authority host besides the system ones' }),
  'federated-token-file': flag(types.optionalString, { env: 'PODID_FEDERATED_TOKEN_FILE', help: "NMI's projected service-account token, presented as the assertion of type 3 identities" }),
  'force-namespaced': switchFlag({ env: 'PODID_FORCE_NAMESPACED', help: 'bindings serve only pods of their own namespace (aad-pod-identity --forceNamespaced)' }),
  'pod-wait': flag(types.duration, { env: 'PODID_POD_WAIT', default: '3s', help: 'how long a request for a pod NMI has not seen yet waits for the informer' }),
  'refresh-ahead': flag(types.seconds, { env: 'PODID_REFRESH_AHEAD', default: '5m', help: 'refresh cached tokens this long before they expire (±20% jitter)' }),
  'max-tokens': flag(types.int(1), { env: 'PODID_MAX_TOKENS', default: '20000', help: 'most (identity, resource) tokens kept' }),
  'max-tokens-per-identity': flag(types.int(1), { env: 'PODID_MAX_TOKENS_PER_IDENTITY', default: '64', help: 'most resources one identity holds tokens for: one pod asking for many resources evicts only its own identity\'s tokens' }),
  'caller-rate': flag(types.int(1), { env: 'PODID_CALLER_RATE', default: '20', help: 'token requests per second one caller (a pod\'s address; for /host/token the pod named) may make on average; past it 429 with Retry-After' }),
  'caller-burst': flag(types.int(1), { env: 'PODID_CALLER_BURST', default: '100', help: 'token requests one caller may make at once before --caller-rate applies' }),
  'host-token-auth': flag(types.oneOf(HOST_TOKEN_AUTH_MODES), { env: 'PODID_HOST_TOKEN_AUTH', default: 'optional', help: "/host/token: required (the pod's service-account token, verified by TokenReview), optional (verified when present; requests without it are counted) or off (the podname/podns headers decide, as in aad-pod-identity)" }),
  'host-token-audience': flag(types.string, { env: 'PODID_HOST_TOKEN_AUDIENCE', default: TOKEN_AUDIENCE, help: 'audience of the service-account tokens presented on /host/token (the CSIDriver tokenRequests audience)' }),
  'host-token-from-node-ip': switchFlag({ env: 'PODID_HOST_TOKEN_FROM_NODE_IP', help: "also accept /host/token callers from the node's IP (default: loopback only)" }),
  'ambiguous-identity': flag(types.oneOf(AMBIGUITY_POLICIES), { env: 'PODID_AMBIGUOUS_IDENTITY', default: 'first', help: 'a pod holding several identities that names none: first (serve the first by namespace/name, as aad-pod-identity did; counted and a warning Event on the pod) or refuse (409)' }),
  'builtin-exceptions': flag(builtinExceptions, { env: 'PODID_BUILTIN_EXCEPTIONS', default: DEFAULT_BUILTIN_EXCEPTIONS, help: 'exceptions applied without an AzurePodIdentityException object, namespace:key=value[+key=value], comma-separated (default: the AKS add-on exception; empty: none)' }),
  'block-instance-metadata': switchFlag({ env: 'PODID_BLOCK_INSTANCE_METADATA', help: "intercepted pods get 403 for /metadata/instance (the VM's details), as aad-pod-identity's --block-instance-metadata did" }),
  mode: flag(types.oneOf(MODES), { env: 'PODID_MODE', default: 'managed', help: 'managed: identities are already on the node pools; standard: podid-controller assigns them through ARM and type 0 requests wait for their AzureAssignedIdentity to be Assigned (match the controller)' }),
  'assignment-wait': flag(types.duration, { env: 'PODID_ASSIGNMENT_WAIT', default: '5s', help: 'standard mode: how long a type 0 request waits for its identity to be Assigned before 503 identity_not_assigned (Retry-After)' }),
  assignments: switchFlag({ env: 'PODID_ASSIGNMENTS', default: 'true', help: 'managed mode: write AzureAssignedIdentity objects for the pods served (status Assigned)' }),
  'intercept-injected': flag(types.oneOf(INTERCEPT_INJECTED), { env: 'PODID_INTERCEPT_INJECTED', default: 'refuse', help: "intercepted requests from a pod that has podid's token sidecar (a projected token for --token-audience): refuse (403 sidecar_required: its SDKs use the sidecar, and a source address can be forged by a pod holding NET_RAW on a bridge) or serve (by address, for apps that hardcode 169.254.169.254)" }),
  intercept: switchFlag({ env: 'PODID_INTERCEPT', help: 'DNAT pod traffic to the metadata address to NMI with iptables (needs NET_ADMIN, host network)' }),
  'iptables-chain': flag(types.string, { env: 'PODID_IPTABLES_CHAIN', default: defaultInterceptConfig.chain, help: 'NAT chain holding the interception rule' }),
  'metadata-ip': flag(types.string, { env: 'PODID_METADATA_IP', default: defaultInterceptConfig.metadataIP, help: 'metadata address intercepted' }),
  'metadata-port': flag(types.port, { env: 'PODID_METADATA_PORT', default: String(defaultInterceptConfig.metadataPort), help: 'metadata port intercepted' }),
  'intercept-exclude-interfaces': flag(types.list, { env: 'PODID_INTERCEPT_EXCLUDE_INTERFACES', default: '', help: 'interfaces never intercepted, comma-separated (e.g. the uplink)' }),
  'iptables-interval': flag(types.duration, { env: 'PODID_IPTABLES_INTERVAL', default: '60s', help: 'how often the rules are checked and restored' }),
  'iptables-binary': flag(types.string, { env: 'PODID_IPTABLES_BINARY', default: 'iptables', help: 'iptables, iptables-nft or iptables-legacy: match what the node uses' }),
  'log-level': logLevelFlag('info'),
  ...connectionFlags(defaultServerLimits.maxConnections),
};

function interceptConfigFrom(v: FlagValues<typeof flags>): InterceptConfig {
  if (!v['node-ip']) throw new UsageError('--intercept needs --node-ip (PODID_NODE_IP), the address NMI is reached at from pods');
  const c: InterceptConfig = {
    chain: v['iptables-chain'],
    metadataIP: v['metadata-ip'],
    metadataPort: v['metadata-port'],
    nmiIP: v['node-ip'],
    nmiPort: v.listen.port,
    excludeInterfaces: v['intercept-exclude-interfaces'],
  };
  const errors = validateInterceptConfig(c);
  if (errors.length) throw new UsageError(`interception: ${errors.join('; ')}`);
  return c;
}

export const nmiCommand = defineCommand({
  name: 'nmi',
  summary: 'node daemon: resolves pod identities, serves tokens to sidecars and the CSI driver, intercepts metadata traffic',
  flags,
  async run(v) {
    const log = createLogger('nmi', v['log-level']);
    const intercept = v.intercept ? interceptConfigFrom(v) : undefined;
    const extraCaPem = v['extra-ca-file'] ? await readFile(v['extra-ca-file'], 'utf8') : undefined;

    const daemon = await startDaemon(
      {
        kube: kubeClient(kubeCredentials(v.kubeconfig)),
        nodeName: v['node-name'],
        nodeIP: v['node-ip'],
        listen: v.listen,
        limits: limitsFrom(v),
        tokenAudience: v['token-audience'],
        imdsUrl: v['imds-url'],
        authorityHost: v['authority-host'],
        extraCaPem,
        federatedTokenFile: v['federated-token-file'],
        forceNamespaced: v['force-namespaced'],
        podWaitMs: v['pod-wait'],
        refreshAheadSeconds: v['refresh-ahead'],
        maxTokens: v['max-tokens'],
        maxTokensPerIdentity: v['max-tokens-per-identity'],
        callerRate: { ratePerSecond: v['caller-rate'], burst: v['caller-burst'] },
        ambiguousIdentity: v['ambiguous-identity'],
        builtinExceptions: v['builtin-exceptions'],
        blockInstanceMetadata: v['block-instance-metadata'],
        interceptInjected: v['intercept-injected'],
        hostToken: { auth: v['host-token-auth'], audience: v['host-token-audience'], fromNodeIP: v['host-token-from-node-ip'] },
        assignments: v.assignments,
        standard: v.mode === 'standard' ? { waitMs: v['assignment-wait'] } : undefined,
        intercept: intercept && { config: intercept, intervalMs: v['iptables-interval'], binary: v['iptables-binary'] },
      },
      log,
    );
    await untilSignal();
    await daemon.close();
    return 0;
  },
});

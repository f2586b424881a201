// `podid sidecar`: flags → settings → the per-pod token server. Imports node: built-ins and podid's own
// dependency-free modules only.

import { urlHost } from '../common/listen.ts';
import { nmiClient } from '../sidecar/nmi-client.ts';
import { federatedClient } from '../sidecar/federated-client.ts';
import type { TokenSource } from '../sidecar/token-source.ts';
import { WI_ENV } from '../tokens/workload-identity-contract.ts';
import { SIDECAR_ENV, SIDECAR_PORTS, TOKEN_PATH } from '../tokens/sidecar-contract.ts';
import { sidecarLimits, startSidecar, type SidecarLog } from '../sidecar/server.ts';
import { createLogger } from '../common/log.ts';
import type { LogLevel } from '../common/log-levels.ts';
import { connectionFlags, limitsFrom, logLevelFlag } from './common-flags.ts';
import { UsageError, defineCommand, flag, types, type FlagValues } from './flags.ts';
import { untilSignal } from './signals.ts';

// One row per flag: a table reads best unwrapped.
// prettier-ignore
const flags = {
  listen: flag(types.listen, { env: SIDECAR_ENV.listen, default: `127.0.0.1:${SIDECAR_PORTS.token}`, help: 'token API address (keep it on loopback)' }),
  'health-listen': flag(types.listen, { env: SIDECAR_ENV.healthListen, default: `:${SIDECAR_PORTS.health}`, help: 'health endpoints (/healthz ready, /livez alive) for the kubelet' }),
  'nmi-url': flag(types.url, { env: SIDECAR_ENV.nmiUrl, help: 'NMI base URL (default: http://<node-ip>:<nmi-port>)' }),
  'node-ip': flag(types.optionalString, { env: SIDECAR_ENV.nodeIp, help: "the node's IP (the webhook sets it from status.hostIP)" }),
  'nmi-port': flag(types.port, { env: SIDECAR_ENV.nmiPort, default: String(SIDECAR_PORTS.nmi), help: "NMI's port on the node" }),
  'token-file': flag(types.string, { env: SIDECAR_ENV.tokenFile, default: TOKEN_PATH, help: 'projected service-account token presented to NMI (re-read on every NMI call)' }),
  'identity-header': flag(types.string, { env: SIDECAR_ENV.identityHeader, default: '', help: 'App Service X-IDENTITY-HEADER secret (empty: App Service endpoint off)' }),
  'refresh-ahead': flag(types.seconds, { env: 'PODID_REFRESH_AHEAD', default: '5m', help: 'refresh cached tokens this long before they expire (±20% jitter)' }),
  'max-tokens': flag(types.int(1), { env: 'PODID_MAX_TOKENS', default: '256', help: 'most (identity, resource) tokens kept' }),
  'ready-resource': flag(types.optionalString, { env: SIDECAR_ENV.readyResource, help: "if set, /healthz (the app's start gate) also waits until a token for this resource is cached" }),
  'token-source': flag(types.oneOf(['nmi', 'workload-identity'] as const), { env: SIDECAR_ENV.tokenSource, default: 'nmi', help: "nmi (the node's NMI, aad-pod-identity's model) or workload-identity (exchange the pod's federated token with Azure AD itself: azure-workload-identity's proxy)" }),
  'client-id': flag(types.optionalString, { env: WI_ENV.clientId, help: 'workload identity: the client ID to exchange for (the webhook sets it from the ServiceAccount)' }),
  'tenant-id': flag(types.optionalString, { env: WI_ENV.tenantId, help: 'workload identity: the tenant' }),
  'authority-host': flag(types.optionalString, { env: WI_ENV.authorityHost, help: 'workload identity: the Azure AD endpoint' }),
  'federated-token-file': flag(types.optionalString, { env: WI_ENV.federatedTokenFile, help: 'workload identity: the projected azure-identity-token (re-read on every exchange)' }),
  'log-level': logLevelFlag('info'),
  ...connectionFlags(sidecarLimits.maxConnections),
};

/** The token source the flags name: NMI at the node, or Azure AD with the pod's federated token. */
function tokenSourceFrom(v: FlagValues<typeof flags>): TokenSource {
  if (v['token-source'] === 'nmi') return nmiClient(nmiUrlFrom(v), v['token-file']);
  const need = {
    'client-id': v['client-id'],
    'tenant-id': v['tenant-id'],
    'authority-host': v['authority-host'],
    'federated-token-file': v['federated-token-file'],
  };
  const missing = Object.entries(need)
    .filter(([, value]) => !value)
    .map(([name]) => `--${name}`);
  if (missing.length)
    throw new UsageError(`--token-source workload-identity needs ${missing.join(', ')} (the webhook sets ${Object.values(WI_ENV).join(', ')})`);
  return federatedClient({
    clientId: need['client-id']!,
    tenantId: need['tenant-id']!,
    authorityHost: need['authority-host']!,
    tokenFile: need['federated-token-file']!,
  });
}

function nmiUrlFrom(v: FlagValues<typeof flags>): string {
  if (v['nmi-url']) return v['nmi-url'];
  if (!v['node-ip'])
    throw new UsageError(`--nmi-url (or ${SIDECAR_ENV.nmiUrl}), or --node-ip (${SIDECAR_ENV.nodeIp}, set by the webhook from status.hostIP), is required`);
  return `http://${urlHost(v['node-ip'])}:${v['nmi-port']}`;
}

/** The log schema of every podid process (common/log.ts), on stderr; callers never pass tokens. */
function stderrLog(level: LogLevel): SidecarLog {
  const logger = createLogger('sidecar', level, process.stderr);
  return function sidecarLog(lvl, msg, fields = {}) {
    logger[lvl](fields, msg);
  };
}

export const sidecarCommand = defineCommand({
  name: 'sidecar',
  summary: 'per-pod token server on loopback speaking the IMDS and App Service token APIs, backed by NMI or by workload identity',
  flags,
  async run(v) {
    const sidecar = await startSidecar(
      {
        listen: v.listen,
        healthListen: v['health-listen'],
        identityHeader: v['identity-header'],
        refreshAheadSeconds: v['refresh-ahead'],
        maxEntries: v['max-tokens'],
        readyResource: v['ready-resource'],
        limits: limitsFrom(v),
      },
      tokenSourceFrom(v),
      stderrLog(v['log-level']),
    );
    await untilSignal();
    await sidecar.close();
    return 0;
  },
});

// `podid sidecar`: flags → settings → the per-pod token server. Imports node: built-ins and podid's own
// dependency-free modules only.

import { parseDurationMs } from '../common/duration.ts';
import { parseListen, parsePort, urlHost } from '../common/listen.ts';
import { nmiClient } from '../sidecar/nmi-client.ts';
import { startSidecar, type SidecarLog } from '../sidecar/server.ts';
import { UsageError, convert, type Command, type FlagValues } from './flags.ts';
import { untilSignal } from './signals.ts';

function nmiUrlFrom(v: FlagValues): string {
  if (v['nmi-url']) return v['nmi-url'];
  if (!v['node-ip']) throw new UsageError('--nmi-url (or PODID_NMI_URL), or --node-ip (PODID_NODE_IP, set by the webhook from status.hostIP), is required');
  return `http://${urlHost(v['node-ip'])}:${convert(v, 'nmi-port', parsePort)}`;
}

/** JSON lines on stderr; callers never pass tokens. */
function jsonLog(level: string): SidecarLog {
  const quiet = level === 'silent' ? 3 : level === 'error' ? 2 : level === 'warn' ? 1 : 0;
  const rank = { info: 0, warn: 1, error: 2 };
  return (lvl, msg, fields = {}) => {
    if (rank[lvl] >= quiet) process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, component: 'sidecar', msg, ...fields })}\n`);
  };
}

export const sidecarCommand: Command = {
  name: 'sidecar',
  summary: 'per-pod token server on loopback speaking the IMDS and App Service token APIs, backed by NMI',
  flags: [
    { name: 'listen', env: 'PODID_SIDECAR_LISTEN', default: '127.0.0.1:2578', help: 'token API address (keep it on loopback)' },
    { name: 'health-listen', env: 'PODID_SIDECAR_HEALTH_LISTEN', default: ':2577', help: 'health endpoints (/healthz ready, /livez alive) for the kubelet' },
    { name: 'nmi-url', env: 'PODID_NMI_URL', default: '', help: 'NMI base URL (default: http://<node-ip>:<nmi-port>)' },
    { name: 'node-ip', env: 'PODID_NODE_IP', default: '', help: "the node's IP (the webhook sets it from status.hostIP)" },
    { name: 'nmi-port', env: 'PODID_NMI_PORT', default: '2579', help: "NMI's port on the node" },
    { name: 'token-file', env: 'PODID_TOKEN_FILE', default: '/var/run/secrets/podid/token', help: 'projected service-account token presented to NMI (re-read on every NMI call)' },
    { name: 'identity-header', env: 'PODID_IDENTITY_HEADER', default: '', help: 'App Service X-IDENTITY-HEADER secret (empty: App Service endpoint off)' },
    { name: 'refresh-ahead', env: 'PODID_REFRESH_AHEAD', default: '5m', help: 'refresh cached tokens this long before they expire (±20% jitter)' },
    { name: 'max-tokens', env: 'PODID_MAX_TOKENS', default: '256', help: 'most (identity, resource) tokens kept' },
    { name: 'ready-resource', env: 'PODID_READY_RESOURCE', default: '', help: "if set, /healthz (the app's start gate) also waits until a token for this resource is cached" },
    { name: 'log-level', env: 'PODID_LOG_LEVEL', default: 'info', help: 'info, warn, error or silent' },
  ],
  async run(v) {
    const log = jsonLog(v['log-level']!);
    const maxEntries = Number(v['max-tokens']);
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new UsageError('--max-tokens must be a positive integer');
    const sidecar = await startSidecar(
      {
        listen: convert(v, 'listen', parseListen),
        healthListen: convert(v, 'health-listen', parseListen),
        identityHeader: v['identity-header'] ?? '',
        refreshAheadSeconds: convert(v, 'refresh-ahead', parseDurationMs) / 1000,
        maxEntries,
        readyResource: v['ready-resource'] || undefined,
      },
      nmiClient(nmiUrlFrom(v), v['token-file']!),
      log,
    );
    await untilSignal();
    await sidecar.close();
    return 0;
  },
};

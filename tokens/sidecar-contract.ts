// The contract between the webhook, which injects the token sidecar into a pod, and the sidecar and NMI, which run
// on its other side: the environment variables the sidecar reads (each also its flag's variable), its ports, where
// the projected service-account token is mounted, and the audience that token carries. Written once here; the
// webhook's injection (webhook/sidecar-spec.ts, injection-config.ts) and the sidecar and NMI commands
// (cli/sidecar-command.ts, cli/nmi-command.ts) import it. No imports: the sidecar loads it.

/** What the sidecar reads from its environment; the webhook sets all but nmiUrl. */
export const SIDECAR_ENV = {
  listen: 'PODID_SIDECAR_LISTEN',
  healthListen: 'PODID_SIDECAR_HEALTH_LISTEN',
  nodeIp: 'PODID_NODE_IP',
  nmiPort: 'PODID_NMI_PORT',
  nmiUrl: 'PODID_NMI_URL',
  tokenFile: 'PODID_TOKEN_FILE',
  /** The App Service X-IDENTITY-HEADER secret the app is given too. */
  identityHeader: 'PODID_IDENTITY_HEADER',
  readyResource: 'PODID_READY_RESOURCE',
  /** `nmi` (default) or `workload-identity`: exchange the pod's federated token itself (the workload-identity proxy). */
  tokenSource: 'PODID_TOKEN_SOURCE',
} as const;

export const SIDECAR_PORTS = {
  /** The token API, on the pod's loopback. */
  token: 2578,
  /** Health endpoints on the pod IP, for the kubelet's probes. */
  health: 2577,
  /** NMI on the node (host network), which the sidecar calls at the node IP. */
  nmi: 2579,
} as const;

/** Where the projected service-account token is mounted in the sidecar, and its file. */
export const TOKEN_DIR = '/var/run/secrets/podid';
export const TOKEN_PATH = `${TOKEN_DIR}/token`;

/** The audience of the sidecar's projected token, which NMI's TokenReview requires. */
export const TOKEN_AUDIENCE = 'podid';

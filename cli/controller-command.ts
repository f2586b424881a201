// `podid controller`: flags → leader election, the printer-column status mirror and, in standard mode, identity
// assignment through ARM (credentials from the cloud config or flags).

import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { createLogger } from '../common/log.ts';
import { armClient } from '../controller/arm-client.ts';
import { CLOUDS, CloudConfigError, parseCloudConfig, type CloudConfig } from '../controller/cloud-config.ts';
import { MODES } from '../common/mode.ts';
import { startController } from '../controller/controller.ts';
import { candidateIdentity } from '../controller/leader.ts';
import { armTokenSource } from '../controller/credentials.ts';
import { ARM_MAX_IDENTITIES_PER_REQUEST, idKey } from '../controller/plan.ts';
import { DEFAULT_BUILTIN_EXCEPTIONS, parseBuiltinExceptions } from '../identity/builtin-exceptions.ts';
import { kubeClient, kubeCredentials } from '../common/kube-client.ts';
import { kubeconfigFlag, logLevelFlag } from './common-flags.ts';
import { UsageError, defineCommand, flag, switchFlag, typeOf, types, type FlagValues } from './flags.ts';
import { untilSignal } from './signals.ts';

// One row per flag: a table reads best unwrapped.
// prettier-ignore
const flags = {
  mode: flag(types.oneOf(MODES), { env: 'PODID_MODE', default: 'managed', help: 'managed: identities are already on the node pools (the controller only keeps the status columns); standard: the controller assigns type 0 identities to scale sets and VMs through ARM, as MIC did' }),
  namespace: flag(types.string, { env: 'PODID_NAMESPACE', default: 'podid-system', help: 'namespace of the leader Lease and the ownership ConfigMaps (fieldRef metadata.namespace)' }),
  identity: flag(types.optionalString, { env: 'PODID_POD_NAME', help: 'this replica in the leader Lease, followed there by a per-process suffix (fieldRef metadata.name; default: the host name)' }),
  listen: flag(types.listen, { env: 'PODID_CONTROLLER_LISTEN', default: ':8080', help: 'plain-HTTP address of /healthz, /readyz and /metrics' }),
  kubeconfig: kubeconfigFlag('kubeconfig file (default: in-cluster service account)'),
  'lease-name': flag(types.string, { env: 'PODID_LEASE_NAME', default: 'podid-controller', help: 'the coordination.k8s.io Lease replicas elect a leader on' }),
  'lease-duration': flag(types.seconds, { env: 'PODID_LEASE_DURATION', default: '15s', help: 'how long a standby waits after the last renewal before taking over' }),
  'renew-deadline': flag(types.duration, { env: 'PODID_RENEW_DEADLINE', default: '10s', help: 'a leader that cannot renew for this long steps down (exits)' }),
  'retry-period': flag(types.duration, { env: 'PODID_RETRY_PERIOD', default: '2s', help: 'how often the Lease is renewed or tried' }),
  'cloud-config': flag(types.optionalString, { env: 'PODID_CLOUD_CONFIG', help: 'standard mode: the Azure cloud-provider config (azure.json: tenantId, useManagedIdentityExtension + userAssignedIdentityID, or aadClientId + aadClientSecret); default /etc/kubernetes/azure.json unless --tenant-id is given' }),
  'tenant-id': flag(types.optionalString, { env: 'PODID_TENANT_ID', help: 'standard mode without a cloud config: the tenant of the credential below' }),
  'client-id': flag(types.optionalString, { env: 'PODID_CLIENT_ID', help: 'standard mode without a cloud config: the service principal, or (with --use-managed-identity) the user-assigned identity to use' }),
  'client-secret-file': flag(types.optionalString, { env: 'PODID_CLIENT_SECRET_FILE', help: "standard mode without a cloud config: a file holding the service principal's secret" }),
  'use-managed-identity': switchFlag({ env: 'PODID_USE_MANAGED_IDENTITY', help: "standard mode without a cloud config: the node's managed identity (IMDS) authenticates to ARM" }),
  'arm-url': flag(types.optional(types.url), { env: 'PODID_ARM_URL', help: "ARM's endpoint (default: the cloud config's cloud, https://management.azure.com)" }),
  'authority-host': flag(types.optional(types.url), { env: 'PODID_AUTHORITY_HOST', help: "Azure AD authority host (default: the cloud config's cloud)" }),
  'imds-url': flag(types.url, { env: 'PODID_IMDS_URL', default: 'http://169.254.169.254', help: "the node's metadata service, for a managed-identity credential" }),
  'extra-ca-file': flag(types.optionalString, { env: 'PODID_EXTRA_CA_FILE', help: 'PEM CA certificates trusted for ARM and Azure AD besides the system ones' }),
  'immutable-identities': flag(types.list, { env: 'PODID_IMMUTABLE_IDENTITIES', default: '', help: "identity resource IDs never removed from a node pool, comma-separated (MIC's --immutable-user-msis)" }),
  'unassign-grace': flag(types.duration, { env: 'PODID_UNASSIGN_GRACE', default: '2m', help: 'an identity podid added stays this long after its last pod, so rolling updates do not flap it' }),
  resync: flag(types.duration, { env: 'PODID_RESYNC', default: '5m', help: 'how often every scale set and VM is read again (changes made outside podid)' }),
  'max-identities-per-request': flag(types.int(1, ARM_MAX_IDENTITIES_PER_REQUEST), { env: 'PODID_MAX_IDENTITIES_PER_REQUEST', default: String(ARM_MAX_IDENTITIES_PER_REQUEST), help: 'identity changes in one ARM PATCH (ARM refuses more than 150)' }),
  concurrency: flag(types.int(1, 256), { env: 'PODID_ARM_CONCURRENCY', default: '16', help: 'scale sets and VMs updated at once' }),
  'force-namespaced': switchFlag({ env: 'PODID_FORCE_NAMESPACED', help: 'bindings serve only pods of their own namespace (must match NMI)' }),
  'builtin-exceptions': flag(typeOf('NS:K=V', parseBuiltinExceptions), { env: 'PODID_BUILTIN_EXCEPTIONS', default: DEFAULT_BUILTIN_EXCEPTIONS, help: 'exceptions applied without an AzurePodIdentityException object (must match NMI)' }),
  'log-level': logLevelFlag('info'),
};

async function credentialsFrom(v: FlagValues<typeof flags>): Promise<CloudConfig> {
  if (v['tenant-id']) {
    let credential: CloudConfig['credential'];
    if (v['use-managed-identity']) credential = { kind: 'managed-identity', clientId: v['client-id'] };
    else if (!v['client-id'] || !v['client-secret-file'])
      throw new UsageError('--tenant-id needs --use-managed-identity, or --client-id with --client-secret-file');
    else credential = { kind: 'client-secret', clientId: v['client-id'], clientSecret: (await readFile(v['client-secret-file'], 'utf8')).trim() };
    // The public cloud's endpoints; --arm-url and --authority-host name another.
    return { cloud: 'flags', tenantId: v['tenant-id'], credential, ...CLOUDS.azurepubliccloud! };
  }
  const path = v['cloud-config'] ?? '/etc/kubernetes/azure.json';
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `standard mode needs ARM credentials: cannot read the cloud config ${path} (${(err as NodeJS.ErrnoException).code}); mount azure.json or pass --tenant-id with a credential`,
    );
  }
  try {
    return parseCloudConfig(text, path);
  } catch (err) {
    if (err instanceof CloudConfigError) throw new UsageError(err.message);
    throw err;
  }
}

export const controllerCommand = defineCommand({
  name: 'controller',
  summary: 'cluster controller (one leader): status columns for both field casings; in standard mode assigns identities to scale sets and VMs through ARM',
  flags,
  async run(v) {
    const log = createLogger('controller', v['log-level']);
    const extraCaPem = v['extra-ca-file'] ? await readFile(v['extra-ca-file'], 'utf8') : undefined;
    let standard;
    if (v.mode === 'standard') {
      const cloud = await credentialsFrom(v);
      const token = armTokenSource({
        credential: cloud.credential,
        tenantId: cloud.tenantId,
        authorityHost: v['authority-host'] ?? cloud.authorityHost,
        imdsUrl: v['imds-url'],
        extraCaPem,
      });
      standard = {
        arm: armClient({ url: v['arm-url'] ?? cloud.armUrl, token, extraCaPem }),
        graceMs: v['unassign-grace'],
        immutable: new Set(v['immutable-identities'].map(idKey)),
        resyncMs: v.resync,
        maxPerRequest: v['max-identities-per-request'],
        concurrency: v.concurrency,
      };
      log.info({ arm: v['arm-url'] ?? cloud.armUrl, credential: cloud.credential.kind }, 'standard mode');
    }
    const controller = await startController(
      {
        kube: kubeClient(kubeCredentials(v.kubeconfig)),
        mode: v.mode,
        namespace: v.namespace,
        identity: candidateIdentity(v.identity ?? hostname(), randomUUID()),
        listen: v.listen,
        lease: { name: v['lease-name'], seconds: v['lease-duration'], renewDeadlineMs: v['renew-deadline'], retryMs: v['retry-period'] },
        standard,
        forceNamespaced: v['force-namespaced'],
        builtinExceptions: v['builtin-exceptions'],
      },
      log,
    );
    // A replica that lost the Lease must not act on stale leadership (as client-go's leader election): exit, and
    // its Deployment restarts it as a standby.
    const outcome = await Promise.race([untilSignal(), controller.election.lost.then(() => 'lost' as const)]);
    await controller.close();
    return outcome === 'lost' ? 1 : 0;
  },
});

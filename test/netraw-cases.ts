// The shared NET_RAW case table: podid's /validate is tested against it, and each exported policy
// (Gatekeeper, Kyverno, ValidatingAdmissionPolicy) is to be tested against the same rows.
// Every row runs with the defaults: enforce, all pods, kube-system exempt.

export interface NetRawCase {
  name: string;
  kind: { group: string; version: string; kind: string };
  namespace: string;
  object: Record<string, unknown>;
  allowed: boolean;
  /** Why: for allowed rows the rule that lets it through, for denied rows text the denial must contain. */
  reason: string;
  /** The apiserver refuses this object itself (schema) before any admission webhook or policy sees it. */
  apiserverRejects?: boolean;
  /** podid's denial code when it is not 403: 400 for an object of the wrong shape. */
  code?: 400;
}

type Ctx = Record<string, unknown>;
const c = (name: string, securityContext?: Ctx, extra: Ctx = {}) => ({
  name,
  image: 'example/app:1',
  ...(securityContext ? { securityContext } : {}),
  ...extra,
});
const drop = (...caps: string[]): Ctx => ({ capabilities: { drop: caps } });
const DROP = drop('NET_RAW');

const POD = { group: '', version: 'v1', kind: 'Pod' };
const pod = (spec: Ctx, labels: Record<string, string> = { app: 'x' }) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', labels },
  spec,
});
const templ = (spec: Ctx) => ({ metadata: { labels: { app: 'x' } }, spec });
const workload = (kind: string, group: string, spec: Ctx) => ({
  kind: { group, version: 'v1', kind },
  object: {
    apiVersion: group ? `${group}/v1` : 'v1',
    kind,
    metadata: { name: 'w' },
    spec:
      kind === 'CronJob'
        ? { schedule: '* * * * *', jobTemplate: { spec: { template: templ(spec) } } }
        : kind === 'Job'
          ? { template: templ(spec) }
          : { selector: kind === 'ReplicationController' ? { app: 'x' } : { matchLabels: { app: 'x' } }, template: templ(spec) },
  },
});

const podCase = (name: string, spec: Ctx, allowed: boolean, reason: string, namespace = 'team-a', labels?: Record<string, string>): NetRawCase => ({
  name,
  kind: POD,
  namespace,
  object: pod(spec, labels),
  allowed,
  reason,
});
const workloadCase = (name: string, kind: string, group: string, spec: Ctx, allowed: boolean, reason: string): NetRawCase => ({
  name,
  namespace: 'team-a',
  ...workload(kind, group, spec),
  allowed,
  reason,
});

export const netRawCases: NetRawCase[] = [
  podCase('drops NET_RAW', { containers: [c('app', DROP)] }, true, 'drops NET_RAW'),
  podCase('drops ALL', { containers: [c('app', drop('ALL'))] }, true, 'ALL covers NET_RAW'),
  podCase('drops lower-case net_raw', { containers: [c('app', drop('net_raw'))] }, true, 'names compare case-insensitively'),
  podCase('drops all, lower-case', { containers: [c('app', drop('all'))] }, true, 'containerd and CRI-O compare ALL case-insensitively'),
  podCase('drops Net_Raw, mixed case', { containers: [c('app', drop('Net_Raw'))] }, true, 'both runtimes upper-case the name'),
  // containerd turns each name into "CAP_" + upper(name) without trimming: these drop nothing there.
  podCase(
    'drops CAP_NET_RAW (containerd drops CAP_CAP_NET_RAW)',
    { containers: [c('app', drop('CAP_NET_RAW'))] },
    false,
    'capabilities.drop lists "CAP_NET_RAW", which containerd does not read as NET_RAW',
  ),
  podCase('drops " NET_RAW " (containerd does not trim)', { containers: [c('app', drop(' NET_RAW '))] }, false, 'spell it "NET_RAW" or "ALL"'),
  podCase('drops " ALL" (not ALL to either runtime)', { containers: [c('app', drop(' ALL'))] }, false, 'capabilities.drop lists " ALL"'),
  podCase('drops cap_all (containerd drops CAP_CAP_ALL)', { containers: [c('app', drop('cap_all'))] }, false, 'capabilities.drop lists "cap_all"'),
  podCase(
    'adds CAP_NET_RAW (CRI-O grants it)',
    { containers: [c('app', { capabilities: { add: ['CAP_NET_RAW'], drop: ['ALL'] } })] },
    false,
    'container "app" adds NET_RAW',
  ),
  podCase('adds all, lower-case', { containers: [c('app', { capabilities: { add: ['all'], drop: ['NET_RAW'] } })] }, false, 'adds NET_RAW'),
  podCase(
    'adds " NET_RAW" (refused, padded or not)',
    { containers: [c('app', { capabilities: { add: [' NET_RAW'], drop: ['ALL'] } })] },
    false,
    'adds NET_RAW',
  ),
  podCase('drops NET_RAW among others', { containers: [c('app', drop('CHOWN', 'NET_RAW', 'SETUID'))] }, true, 'drops NET_RAW'),
  podCase('no securityContext', { containers: [c('app')] }, false, 'container "app" does not drop NET_RAW'),
  podCase('securityContext without capabilities', { containers: [c('app', { runAsNonRoot: true })] }, false, 'container "app" does not drop NET_RAW'),
  podCase('drops other capabilities only', { containers: [c('app', drop('CHOWN'))] }, false, 'add "NET_RAW" (or "ALL") to securityContext.capabilities.drop'),
  podCase('capabilities null', { containers: [c('app', { capabilities: null })] }, false, 'does not drop NET_RAW'),
  {
    ...podCase(
      'drop list malformed (a string)',
      { containers: [c('app', { capabilities: { drop: 'NET_RAW' } })] },
      false,
      'capabilities.drop must be a list of capability names',
    ),
    apiserverRejects: true,
    code: 400,
  },
  {
    ...podCase(
      'capabilities malformed (a string)',
      { containers: [c('app', { capabilities: 'NET_RAW' })] },
      false,
      'securityContext.capabilities must be an object',
    ),
    apiserverRejects: true,
    code: 400,
  },
  {
    ...podCase(
      'drop list nested',
      { containers: [c('app', { capabilities: { drop: [['NET_RAW']] } })] },
      false,
      'capabilities.drop[0] must be a capability name',
    ),
    apiserverRejects: true,
    code: 400,
  },
  {
    ...podCase(
      'add list malformed (an object), drops ALL',
      { containers: [c('app', { capabilities: { add: { NET_RAW: true }, drop: ['ALL'] } })] },
      false,
      'capabilities.add must be a list',
    ),
    apiserverRejects: true,
    code: 400,
  },
  {
    ...podCase(
      'privileged malformed (a string)',
      { containers: [c('app', { privileged: 'true', capabilities: { drop: ['ALL'] } })] },
      false,
      'privileged must be a boolean',
    ),
    apiserverRejects: true,
    code: 400,
  },
  podCase(
    'adds NET_RAW and drops it too',
    { containers: [c('app', { capabilities: { add: ['NET_RAW'], drop: ['NET_RAW'] } })] },
    false,
    'adds NET_RAW: remove "NET_RAW" and "ALL" from securityContext.capabilities.add',
  ),
  podCase('adds ALL, drops ALL', { containers: [c('app', { capabilities: { add: ['ALL'], drop: ['ALL'] } })] }, false, 'container "app" adds NET_RAW'),
  podCase('adds cap_net_raw lower-case', { containers: [c('app', { capabilities: { add: ['cap_net_raw'], drop: ['ALL'] } })] }, false, 'adds NET_RAW'),
  podCase(
    'adds another capability, drops NET_RAW',
    { containers: [c('app', { capabilities: { add: ['NET_BIND_SERVICE'], drop: ['NET_RAW'] } })] },
    true,
    'adding other capabilities is fine',
  ),
  podCase(
    'privileged, drops ALL',
    { containers: [c('app', { privileged: true, capabilities: { drop: ['ALL'] } })] },
    false,
    'container "app" is privileged: set securityContext.privileged: false',
  ),
  podCase('privileged false, drops NET_RAW', { containers: [c('app', { privileged: false, ...DROP })] }, true, 'privileged: false is fine'),
  podCase(
    'init container without the drop',
    { initContainers: [c('init')], containers: [c('app', DROP)] },
    false,
    'initContainer "init" does not drop NET_RAW',
  ),
  podCase(
    'native sidecar without the drop',
    { initContainers: [c('proxy', undefined, { restartPolicy: 'Always' })], containers: [c('app', DROP)] },
    false,
    'initContainer "proxy" does not drop NET_RAW',
  ),
  podCase(
    'ephemeral container without the drop',
    { containers: [c('app', DROP)], ephemeralContainers: [c('debugger')] },
    false,
    'ephemeralContainer "debugger" does not drop NET_RAW',
  ),
  podCase(
    'every kind of container compliant',
    { initContainers: [c('init', DROP)], containers: [c('a', DROP), c('b', drop('ALL'))], ephemeralContainers: [c('dbg', DROP)] },
    true,
    'all drop NET_RAW',
  ),
  podCase('second of two containers fails', { containers: [c('a', DROP), c('b')] }, false, 'container "b" does not drop NET_RAW'),
  podCase(
    'both containers fail, both named',
    { containers: [c('a'), c('b')] },
    false,
    'denied by podid: container "a" does not drop NET_RAW: add "NET_RAW" (or "ALL") to securityContext.capabilities.drop; container "b" does not drop NET_RAW',
  ),
  podCase('kube-system is exempt', { containers: [c('app', { privileged: true })] }, true, 'exempt namespace', 'kube-system'),
  podCase('unlabeled pods are checked too', { containers: [c('app')] }, false, 'does not drop NET_RAW', 'team-a', {}),
  podCase('labeled pods are checked', { containers: [c('app')] }, false, 'does not drop NET_RAW', 'team-a', { aadpodidbinding: 'reader' }),
  podCase(
    'pod-level securityContext does not count (capabilities are per container)',
    { securityContext: { runAsNonRoot: true }, containers: [c('app')] },
    false,
    'does not drop NET_RAW',
  ),
  workloadCase(
    'Deployment without the drop',
    'Deployment',
    'apps',
    { containers: [c('web')] },
    false,
    'denied by podid: container "web" does not drop NET_RAW',
  ),
  workloadCase('Deployment with the drop', 'Deployment', 'apps', { containers: [c('web', DROP)] }, true, 'drops NET_RAW'),
  workloadCase(
    'StatefulSet privileged',
    'StatefulSet',
    'apps',
    { containers: [c('db', { privileged: true, ...DROP })] },
    false,
    'container "db" is privileged',
  ),
  workloadCase(
    'DaemonSet adding NET_RAW',
    'DaemonSet',
    'apps',
    { containers: [c('agent', { capabilities: { add: ['NET_RAW'], drop: ['ALL'] } })] },
    false,
    'container "agent" adds NET_RAW',
  ),
  workloadCase(
    'ReplicaSet init container',
    'ReplicaSet',
    'apps',
    { initContainers: [c('init')], containers: [c('app', DROP)] },
    false,
    'initContainer "init" does not drop NET_RAW',
  ),
  workloadCase('ReplicationController without the drop', 'ReplicationController', '', { containers: [c('app')] }, false, '(in spec.template)'),
  workloadCase('Job with the drop', 'Job', 'batch', { restartPolicy: 'Never', containers: [c('task', drop('ALL'))] }, true, 'drops ALL'),
  workloadCase('Job without the drop', 'Job', 'batch', { restartPolicy: 'Never', containers: [c('task')] }, false, 'container "task" does not drop NET_RAW'),
  workloadCase(
    'CronJob without the drop',
    'CronJob',
    'batch',
    { restartPolicy: 'Never', containers: [c('task')] },
    false,
    '(in spec.jobTemplate.spec.template)',
  ),
  workloadCase('CronJob with the drop', 'CronJob', 'batch', { restartPolicy: 'Never', containers: [c('task', DROP)] }, true, 'drops NET_RAW'),
];

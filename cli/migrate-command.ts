// `podid migrate check`: what moving an aad-pod-identity cluster to podid changes. Read-only.

import { checkMigration, findingsTable, INSTALL_STEPS } from '../migrate/check.ts';
import { kubeconfigFlag } from './common-flags.ts';
import { defineCommand, flag, types } from './flags.ts';

export const migrateCheckCommand = defineCommand({
  name: 'migrate check',
  summary:
    'read an aad-pod-identity cluster and print what moving to podid changes (read-only): NET_RAW fixes and denials, bindings, identities, Secrets, MIC/NMI flags',
  flags: {
    kubeconfig: kubeconfigFlag('kubeconfig file (default: in-cluster service account, then ~/.kube/config)'),
    output: flag(types.oneOf(['table', 'json'] as const), { env: 'PODID_OUTPUT', default: 'table', help: 'table for people, json for scripts' }),
    'netraw-exempt-namespaces': flag(types.list, {
      env: 'PODID_NETRAW_EXEMPT_NAMESPACES',
      default: 'kube-system',
      help: 'namespaces the NET_RAW rule will skip, comma-separated',
    }),
  },
  async run(v) {
    const { kubeConfig } = await import('../common/kube-config.ts');
    const { readCluster } = await import('../migrate/cluster.ts');
    const findings = checkMigration(await readCluster(kubeConfig(v.kubeconfig), v['netraw-exempt-namespaces']));
    if (v.output === 'json') process.stdout.write(`${JSON.stringify({ findings, install: INSTALL_STEPS }, null, 2)}\n`);
    else process.stdout.write(`${findingsTable(findings)}\nTo install podid in place of aad-pod-identity:\n${INSTALL_STEPS.map((s) => `  ${s}`).join('\n')}\n`);
    return findings.some((f) => f.severity === 'blocker') ? 3 : 0;
  },
});

// `podid migrate check`: what moving an aad-pod-identity cluster to podid changes. Read-only.
// `podid migrate workload-identity`: what moving each binding to azure-workload-identity takes; writes only with --apply.

import { checkMigration, findingsTable, INSTALL_STEPS } from '../migrate/check.ts';
import { kubeconfigFlag } from './common-flags.ts';
import { defineCommand, flag, switchFlag, types, UsageError } from './flags.ts';

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
    const { kubeClient, kubeCredentials } = await import('../common/kube-client.ts');
    const { readCluster } = await import('../migrate/cluster.ts');
    const kube = kubeClient(kubeCredentials(v.kubeconfig));
    let findings;
    try {
      findings = checkMigration(await readCluster(kube, v['netraw-exempt-namespaces']));
    } finally {
      kube.close();
    }
    if (v.output === 'json') process.stdout.write(`${JSON.stringify({ findings, install: INSTALL_STEPS }, null, 2)}\n`);
    else process.stdout.write(`${findingsTable(findings)}\nTo install podid in place of aad-pod-identity:\n${INSTALL_STEPS.map((s) => `  ${s}`).join('\n')}\n`);
    return findings.some((f) => f.severity === 'blocker') ? 3 : 0;
  },
});

const WI_DETAILS = `For each AzureIdentityBinding (or the one --binding names), the workloads whose pod templates it serves and
their ServiceAccounts, and what moving them to workload identity takes:
  1. federated identity credentials on the identity, one per ServiceAccount (issuer = the cluster's
     service-account issuer, subject = system:serviceaccount:NS:SA, audience = api://AzureADTokenExchange),
     as az commands (az identity federated-credential create for a user-assigned identity, az ad app
     federated-credential create for a service principal) and, with --output json, as ARM resources
     (Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials) or Graph requests;
  2. the ServiceAccount annotations (azure.workload.identity/client-id, and tenant-id when the identity names
     one) and the pod-template labels (azure.workload.identity/use: "true" in place of aadpodidbinding, and
     azure.workload.identity/inject-proxy-sidecar where a client speaks only IMDS), as kubectl merge patches.
Warnings name a ServiceAccount shared by workloads with different identities, an identity past Azure's 20
federated credentials, a service principal (type 1/2) whose app registration must carry the credentials, an
identity without the resourceID or clientID the commands need, and clients too old for workload identity.
Read-only unless --apply, which patches the ServiceAccounts and templates (never Azure: create the credentials
first), except a ServiceAccount several identities would need, the workloads using it, and bare pods (recreate
them). Exit codes: 0; 3 when --apply left a patch failed.`;

export const migrateWorkloadIdentityCommand = defineCommand({
  name: 'migrate workload-identity',
  summary:
    'print what moving each AzureIdentityBinding to azure-workload-identity takes: federated credentials (az commands, ARM/JSON), ServiceAccount annotations and template labels (read-only unless --apply)',
  details: WI_DETAILS,
  flags: {
    kubeconfig: kubeconfigFlag('kubeconfig file (default: in-cluster service account, then ~/.kube/config)'),
    output: flag(types.oneOf(['text', 'json'] as const), {
      env: 'PODID_OUTPUT',
      default: 'text',
      help: 'text for people, json (the plan, ARM resources included) for scripts',
    }),
    binding: flag(types.optionalString, { env: 'PODID_MIGRATE_BINDING', help: 'NAMESPACE/NAME: only this AzureIdentityBinding (move one at a time)' }),
    issuer: flag(types.optionalString, {
      env: 'PODID_MIGRATE_ISSUER',
      help: "the cluster's service-account issuer URL (AKS: az aks show --query oidcIssuerProfile.issuerUrl); default: the apiserver's /.well-known/openid-configuration",
    }),
    proxy: flag(types.oneOf(['auto', 'always', 'never'] as const), {
      env: 'PODID_MIGRATE_PROXY',
      default: 'auto',
      help: "add azwi's inject-proxy-sidecar annotation (podid's sidecar serves IMDS-only clients): auto where such a client is recognised, always, or never",
    }),
    'force-namespaced': switchFlag({
      env: 'PODID_FORCE_NAMESPACED',
      help: "match bindings as aad-pod-identity's --forceNamespaced did (each serves only its own namespace)",
    }),
    apply: switchFlag({ env: 'PODID_MIGRATE_APPLY', help: 'patch the ServiceAccounts and pod templates (never Azure); without it nothing is written' }),
  },
  async run(v) {
    const { kubeClient, kubeCredentials } = await import('../common/kube-client.ts');
    const { readWiSnapshot } = await import('../migrate/wi-cluster.ts');
    const { planWorkloadIdentityMove } = await import('../migrate/workload-identity.ts');
    const { planText, appliedText } = await import('../migrate/wi-format.ts');
    const kube = kubeClient(kubeCredentials(v.kubeconfig));
    try {
      const snapshot = await readWiSnapshot(kube, v.issuer);
      const plan = planWorkloadIdentityMove(snapshot, { forceNamespaced: v['force-namespaced'], binding: v.binding, proxy: v.proxy });
      if (v.binding && !plan.moves.length) throw new UsageError(`--binding ${v.binding}: no such AzureIdentityBinding`);
      process.stdout.write(v.output === 'json' ? `${JSON.stringify(plan, null, 2)}\n` : planText(plan));
      if (!v.apply) return 0;
      const { applyPlan } = await import('../migrate/wi-apply.ts');
      const applied = await applyPlan(kube, plan);
      process.stdout.write(`\nApplied:\n${appliedText(applied)}`);
      return applied.some((a) => a.result === 'failed') ? 3 : 0;
    } finally {
      kube.close();
    }
  },
});

// `podid migrate workload-identity`'s text output: per binding, the workloads and ServiceAccounts, the federated
// credentials as az commands, the Kubernetes patches as kubectl commands, and the warnings. Pure.

import type { Applied } from './wi-apply.ts';
import type { BindingMove, Patch, WiPlan } from './workload-identity.ts';

const kubectlPatch = (p: Patch): string =>
  `kubectl -n ${p.target.namespace} patch ${p.target.kind.toLowerCase()} ${p.target.name} --type merge -p '${JSON.stringify(p.mergePatch)}'`;

function moveText(m: BindingMove): string[] {
  const lines = [`AzureIdentityBinding ${m.binding}${m.identity ? ` → AzureIdentity ${m.identity.name} (client ${m.identity.clientID ?? 'none'})` : ''}`];
  for (const w of m.workloads) lines.push(`  ${w.kind} ${w.namespace}/${w.name}: ServiceAccount ${w.serviceAccount}${w.proxy ? ', with the proxy' : ''}`);
  if (m.azCommands.length) lines.push('  1. Federated identity credentials (in Azure; podid never creates them):', ...m.azCommands.map((c) => `     ${c}`));
  if (m.patches.length) {
    lines.push('  2. ServiceAccount annotations, then pod templates (each rolls its pods onto workload identity):');
    for (const p of m.patches) lines.push(`     ${kubectlPatch(p)}${p.manual ? `   # ${p.manual}` : ''}`);
  }
  for (const w of m.warnings) lines.push(`  ! ${w}`);
  return lines;
}

export function planText(plan: WiPlan): string {
  const lines = [`Service-account issuer: ${plan.issuer}`, ''];
  for (const m of plan.moves) lines.push(...moveText(m), '');
  if (!plan.moves.length) lines.push('No AzureIdentityBinding to move.', '');
  for (const w of plan.warnings) lines.push(`! ${w}`);
  return `${lines.join('\n').trimEnd()}\n`;
}

export function appliedText(applied: readonly Applied[]): string {
  return `${applied.map((a) => `${a.result.padEnd(8)} ${a.patch.target.kind} ${a.patch.target.namespace}/${a.patch.target.name}${a.reason ? `: ${a.reason}` : ''}`).join('\n')}\n`;
}

// How /validate applies the NET_RAW rule.

import { BINDING_LABEL } from '../identity/crds.ts';

/** `fix`: /mutate-netraw adds the missing drop, and /validate enforces whatever is left. */
export type NetRawMode = 'enforce' | 'warn' | 'audit' | 'fix' | 'off';
export const NETRAW_MODES: readonly NetRawMode[] = ['enforce', 'warn', 'audit', 'fix', 'off'];

/** `all`: every pod is checked (any pod with NET_RAW can attack a labeled one); `labeled`: only aadpodidbinding pods. */
export type NetRawScope = 'all' | 'labeled';
export const NETRAW_SCOPES: readonly NetRawScope[] = ['all', 'labeled'];

export interface LabelRequirement {
  key: string;
  /** undefined: the label only has to exist. */
  value?: string;
}

export interface ValidationConfig {
  mode: NetRawMode;
  scope: NetRawScope;
  exemptNamespaces: string[];
  /** Pods (templates) matching all of these are exempt, e.g. a CNI that needs NET_RAW. */
  exemptLabels: LabelRequirement[];
}

/** fix by default: NET_RAW closed for every pod without breaking workloads written without the drop. */
export const defaultValidationConfig: ValidationConfig = {
  mode: 'fix',
  scope: 'all',
  exemptNamespaces: ['kube-system'],
  exemptLabels: [],
};

/** `k=v,k2` → [{key:k,value:v},{key:k2}]; throws on malformed input. */
export function parseLabelSelector(text: string): LabelRequirement[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((part) => {
      const m = /^([A-Za-z0-9][-A-Za-z0-9_./]*)(?:=([-A-Za-z0-9_.]*))?$/.exec(part);
      if (!m) throw new Error(`"${part}" is not a label requirement like key=value or key`);
      return { key: m[1]!, value: m[2] };
    });
}

/** Whether a pod template with these labels is outside the rule (exempt labels, or unlabeled under scope `labeled`). */
export function templateExempt(labels: Record<string, string> | undefined, cfg: ValidationConfig): boolean {
  return matchesLabels(labels, cfg.exemptLabels) || (cfg.scope === 'labeled' && !labels?.[BINDING_LABEL]);
}

export function matchesLabels(labels: Record<string, string> | undefined, reqs: readonly LabelRequirement[]): boolean {
  if (!reqs.length) return false;
  return reqs.every((r) => labels !== undefined && r.key in labels && (r.value === undefined || labels[r.key] === r.value));
}

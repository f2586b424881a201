// Exceptions NMI applies without any AzurePodIdentityException object: the AKS pod-identity add-on ships one
// for its own add-on pods (kube-system, label kubernetes.azure.com/managedby: aks), and AKS add-ons rely on
// it to reach the real IMDS. podid keeps them as a flag, not a shipped object, so the default install needs no
// second apply after its CRDs. Pure parsing.

import type { AzurePodIdentityException } from './crds.ts';

/** The default: the AKS add-on exception. */
export const DEFAULT_BUILTIN_EXCEPTIONS = 'kube-system:kubernetes.azure.com/managedby=aks';

/** `ns:key=value[+key=value]`, several separated by commas → exceptions named `podid-builtin-<n>`. */
export function parseBuiltinExceptions(text: string): AzurePodIdentityException[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const m = /^([a-z0-9][-a-z0-9]*):(.+)$/.exec(entry);
      if (!m) throw new Error(`"${entry}" is not namespace:key=value[+key=value]`);
      const podLabels: Record<string, string> = {};
      for (const pair of m[2]!.split('+')) {
        const kv = /^([A-Za-z0-9][-A-Za-z0-9_./]*)=([-A-Za-z0-9_.]*)$/.exec(pair.trim());
        if (!kv) throw new Error(`"${pair}" in "${entry}" is not a label key=value`);
        podLabels[kv[1]!] = kv[2]!;
      }
      return { name: `podid-builtin-${i + 1}`, namespace: m[1]!, namespaced: false, podLabels };
    });
}

// `podid explain pod NAMESPACE/NAME`: why a pod does or does not get a token (read-only).

import { readForPod, PodNotFound } from '../explain/cluster.ts';
import { explainPod, explanationText } from '../explain/explain.ts';
import { DEFAULT_BUILTIN_EXCEPTIONS, parseBuiltinExceptions } from '../identity/builtin-exceptions.ts';
import { kubeConfig } from '../common/kube-config.ts';
import { MODES } from '../common/mode.ts';
import { kubeconfigFlag } from './common-flags.ts';
import { UsageError, defineCommand, flag, switchFlag, typeOf, types } from './flags.ts';

// One row per flag: a table reads best unwrapped.
// prettier-ignore
const flags = {
  pod: flag(types.string, { env: 'PODID_EXPLAIN_POD', required: true, help: 'the pod, NAMESPACE/NAME (also accepted as the first argument after `pod`)' }),
  output: flag(types.oneOf(['text', 'json'] as const), { env: 'PODID_OUTPUT', default: 'text', short: 'o', help: 'text for people, json for scripts' }),
  kubeconfig: kubeconfigFlag('kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)'),
  mode: flag(types.oneOf(MODES), { env: 'PODID_MODE', default: 'managed', help: 'the mode podid runs in (standard: type 0 identities wait for the controller)' }),
  'force-namespaced': switchFlag({ env: 'PODID_FORCE_NAMESPACED', help: 'as NMI runs: bindings serve only pods of their own namespace' }),
  'builtin-exceptions': flag(typeOf('NS:K=V', parseBuiltinExceptions), { env: 'PODID_BUILTIN_EXCEPTIONS', default: DEFAULT_BUILTIN_EXCEPTIONS, help: "as NMI runs: exceptions applied without an AzurePodIdentityException object" }),
};

export const explainPodCommand = defineCommand({
  name: 'explain pod',
  summary: 'why a pod does or does not get a token: label, sidecar, binding, identity, exception, assignment, NET_RAW (read-only; exit 3 when it gets none)',
  flags,
  positional: 'pod',
  async run(v) {
    const m = /^([^/\s]+)\/([^/\s]+)$/.exec(v.pod);
    if (!m) throw new UsageError(`--pod must be NAMESPACE/NAME, got ${JSON.stringify(v.pod)}`);
    let input;
    try {
      input = await readForPod(kubeConfig(v.kubeconfig), m[1]!, m[2]!, {
        mode: v.mode,
        forceNamespaced: v['force-namespaced'],
        builtinExceptions: v['builtin-exceptions'],
      });
    } catch (err) {
      if (err instanceof PodNotFound) {
        process.stderr.write(`podid explain: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
    const e = explainPod(input);
    process.stdout.write(v.output === 'json' ? `${JSON.stringify(e, null, 2)}\n` : explanationText(e));
    return e.serves.length && !e.findings.some((f) => f.verdict === 'blocks') ? 0 : 3;
  },
});

// `podid explain pod`, pure: why a pod does (or does not) get a token, from the same resolution NMI runs
// (identity/match.ts) and the same NET_RAW rule the webhook enforces. Each step is a finding with a verdict and,
// when it blocks, the fix; the cluster is read elsewhere (cluster.ts).

import {
  BINDING_LABEL,
  identityTypeName,
  type AzureAssignedIdentity,
  type AzureIdentity,
  type AzureIdentityBinding,
  type AzurePodIdentityException,
} from '../identity/crds.ts';
import { explainResolution, resolvePod, type Resolution } from '../identity/match.ts';
import { podSpecViolations, describeViolation } from '../podspec/netraw-rule.ts';
import { bothModelsWarning, serviceAccountProblem, usesWorkloadIdentity, WI_CLIENT_ID_ANNOTATION, WI_USE_LABEL } from '../podspec/workload-identity.ts';

export type Verdict = 'ok' | 'warn' | 'blocks';

export interface Finding {
  step: 'label' | 'sidecar' | 'resolution' | 'identity' | 'assignment' | 'netraw' | 'workload-identity';
  verdict: Verdict;
  message: string;
  fix?: string;
}

export interface ExplainInput {
  /** The Pod as the API returns it. */
  pod: any;
  identities: AzureIdentity[];
  bindings: AzureIdentityBinding[];
  /** AzurePodIdentityException objects and NMI's built-in ones. */
  exceptions: AzurePodIdentityException[];
  /** The pod's AzureAssignedIdentity objects. */
  assignments: AzureAssignedIdentity[];
  /** Labels of the pod's namespace (podid's webhooks skip `podid.io/control-plane`). */
  namespaceLabels: Record<string, string>;
  /** Whether podid's MutatingWebhookConfiguration exists. */
  webhookInstalled: boolean;
  mode: 'managed' | 'standard';
  forceNamespaced: boolean;
  /** The pod's ServiceAccount (its annotations), when the pod uses workload identity; undefined when it does not exist. */
  serviceAccount?: { name: string; annotations?: Record<string, string> };
}

export interface Explanation {
  pod: string;
  node?: string;
  /** The identities the pod gets tokens for (namespace/name), empty when it gets none. */
  serves: string[];
  findings: Finding[];
}

const SIDECAR = 'podid-token';

export function explainPod(x: ExplainInput): Explanation {
  const meta = x.pod.metadata ?? {};
  const spec = x.pod.spec ?? {};
  const podRef = { name: String(meta.name ?? ''), namespace: String(meta.namespace ?? 'default'), labels: (meta.labels ?? {}) as Record<string, string> };
  const who = `pod ${podRef.namespace}/${podRef.name}`;
  const findings: Finding[] = [];
  const selector = podRef.labels[BINDING_LABEL];

  if (!selector) {
    findings.push({
      step: 'label',
      verdict: 'blocks',
      message: `${who} has no ${BINDING_LABEL} label: podid gives it nothing`,
      fix: `label the pod template ${BINDING_LABEL}=<selector of an AzureIdentityBinding> and recreate the pod`,
    });
  } else findings.push({ step: 'label', verdict: 'ok', message: `${BINDING_LABEL}=${selector}` });
  findings.push(...workloadIdentityFindings(x, podRef));

  // The token sidecar: injected at creation by the mutating webhook, only for pods labeled then.
  const injected = (spec.initContainers ?? []).some((c: any) => c.name === SIDECAR) || (spec.containers ?? []).some((c: any) => c.name === SIDECAR);
  if (selector && !injected) {
    const why =
      x.namespaceLabels['podid.io/control-plane'] !== undefined
        ? `namespace ${podRef.namespace} is labeled podid.io/control-plane, which podid's webhooks skip`
        : !x.webhookInstalled
          ? "podid's MutatingWebhookConfiguration is not installed"
          : 'the pod was created before podid was installed, or labeled after it was created (the webhook sees pods only at creation)';
    findings.push({
      step: 'sidecar',
      verdict: 'warn',
      message: `no token sidecar: ${why}; apps that call 169.254.169.254 still reach NMI through interception`,
      fix: 'recreate the pod (kubectl rollout restart for a workload) once the cause is gone',
    });
  } else if (injected) findings.push({ step: 'sidecar', verdict: 'ok', message: `the ${SIDECAR} sidecar is injected; the SDK variables point the app at it` });

  const r: Resolution = resolvePod(
    podRef,
    { identities: x.identities, bindings: x.bindings, exceptions: x.exceptions },
    { forceNamespaced: x.forceNamespaced },
  );
  const serves: string[] = [];
  switch (r.kind) {
    case 'unlabeled':
      break;
    case 'exception':
      findings.push({
        step: 'resolution',
        verdict: 'blocks',
        message: explainResolution(podRef, r),
        fix: `remove the labels ${JSON.stringify(r.exception.podLabels)} or the exception, if the pod should use podid`,
      });
      break;
    case 'no-binding':
      findings.push({
        step: 'resolution',
        verdict: 'blocks',
        message: explainResolution(podRef, r),
        fix: r.outOfNamespace.length
          ? `create an AzureIdentityBinding (and its AzureIdentity) in namespace ${podRef.namespace}: the ones found are namespaced`
          : `create an AzureIdentityBinding with selector ${r.selector}, or fix the pod's label`,
      });
      break;
    case 'no-identity':
      findings.push({
        step: 'resolution',
        verdict: 'blocks',
        message: explainResolution(podRef, r),
        fix: 'create the AzureIdentity the binding names, in the binding’s namespace, or fix spec.azureIdentity',
      });
      break;
    case 'matched':
      for (const { identity: i, binding: b } of r.identities) {
        serves.push(`${i.namespace}/${i.name}`);
        const detail = [identityTypeName[i.type], i.clientID && `client ${i.clientID}`, i.resourceID && `resource ${i.resourceID}`].filter(Boolean).join(', ');
        findings.push({
          step: 'identity',
          verdict: 'ok',
          message: `AzureIdentity ${i.namespace}/${i.name} through binding ${b.namespace}/${b.name}: ${detail}`,
        });
        if (x.mode === 'standard' && i.type === 0 && !i.resourceID)
          findings.push({
            step: 'assignment',
            verdict: 'blocks',
            message: `standard mode cannot assign AzureIdentity ${i.namespace}/${i.name} to the node: it has no resourceID`,
            fix: 'set spec.resourceID',
          });
        const a = x.assignments.find((o) => o.identityName === i.name && o.podNamespace === podRef.namespace && o.pod === podRef.name);
        if (!spec.nodeName)
          findings.push({ step: 'assignment', verdict: 'warn', message: `${who} is not scheduled yet: no AzureAssignedIdentity until it is` });
        else if (!a)
          findings.push({
            step: 'assignment',
            verdict: x.mode === 'standard' && i.type === 0 ? 'blocks' : 'warn',
            message: `no AzureAssignedIdentity for ${i.namespace}/${i.name} on node ${spec.nodeName} yet`,
            fix:
              x.mode === 'standard'
                ? 'check podid-controller (kubectl -n podid-system logs deploy/podid-controller) and the pod’s Events'
                : 'NMI on the node writes it when it has seen the pod; check the podid-nmi pod of that node',
          });
        else if (a.status === 'Assigned')
          findings.push({ step: 'assignment', verdict: 'ok', message: `AzureAssignedIdentity ${a.namespace}/${a.name} is Assigned on node ${a.nodeName}` });
        else
          findings.push({
            step: 'assignment',
            verdict: i.type === 0 ? 'blocks' : 'warn',
            message: `AzureAssignedIdentity ${a.namespace}/${a.name} is ${a.status ?? 'without status'}: ARM has not put the identity on node ${a.nodeName} yet; NMI answers 503 identity_not_assigned until then`,
            fix: 'wait, or read the pod’s Events and podid-controller’s logs for ARM errors (throttling, permissions)',
          });
      }
      break;
  }

  const violations = podSpecViolations(spec);
  if (violations.length)
    findings.push({
      step: 'netraw',
      verdict: 'warn',
      message: `NET_RAW: ${violations.map(describeViolation).join('; ')}`,
      fix: 'add NET_RAW (or ALL) to each container’s securityContext.capabilities.drop',
    });
  else findings.push({ step: 'netraw', verdict: 'ok', message: 'every container drops NET_RAW: it cannot spoof another pod’s traffic' });

  return { pod: `${podRef.namespace}/${podRef.name}`, node: spec.nodeName, serves, findings };
}

/** A pod labeled for azure-workload-identity: whether its ServiceAccount names a client ID, and both models at once. */
function workloadIdentityFindings(x: ExplainInput, pod: { name: string; namespace: string; labels: Record<string, string> }): Finding[] {
  if (!usesWorkloadIdentity(pod.labels)) return [];
  const saName = String(x.pod.spec?.serviceAccountName || 'default');
  const problem = serviceAccountProblem(x.serviceAccount, pod.namespace, saName);
  const findings: Finding[] = [
    problem
      ? {
          step: 'workload-identity',
          verdict: 'warn',
          message: `${WI_USE_LABEL}=true, but ${problem}: azure-workload-identity's webhook gives it no client ID and workload identity fails`,
          fix: `kubectl -n ${pod.namespace} annotate serviceaccount ${saName} ${WI_CLIENT_ID_ANNOTATION}=<the identity's client ID>, then recreate the pod`,
        }
      : {
          step: 'workload-identity',
          verdict: 'ok',
          message: `${WI_USE_LABEL}=true and ServiceAccount ${pod.namespace}/${saName} names client ${x.serviceAccount!.annotations![WI_CLIENT_ID_ANNOTATION]}: azure-workload-identity serves it with a federated token`,
        },
  ];
  const both = bothModelsWarning(pod.labels);
  if (both)
    findings.push({ step: 'workload-identity', verdict: 'warn', message: both, fix: `remove ${BINDING_LABEL} or ${WI_USE_LABEL} from the pod template` });
  return findings;
}

/** The explanation for people: one line per finding, the fix under the ones that need one. */
export function explanationText(e: Explanation): string {
  const mark: Record<Verdict, string> = { ok: 'ok   ', warn: 'WARN ', blocks: 'BLOCK' };
  const lines = [`pod ${e.pod}${e.node ? ` on node ${e.node}` : ' (not scheduled)'}`];
  for (const f of e.findings) {
    lines.push(`  ${mark[f.verdict]} ${f.step.padEnd(10)} ${f.message}`);
    if (f.fix && f.verdict !== 'ok') lines.push(`        ${''.padEnd(10)} fix: ${f.fix}`);
  }
  const blocked = e.findings.some((f) => f.verdict === 'blocks');
  lines.push(blocked || !e.serves.length ? '=> gets no token' : `=> gets tokens for ${e.serves.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

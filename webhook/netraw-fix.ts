// --netraw=fix: instead of letting /validate deny a container that does not drop NET_RAW, the mutating
// webhook at /mutate-netraw adds "NET_RAW" to its capabilities.drop. Only Pods are patched, when they are
// created (and ephemeral containers when added): the Deployments, StatefulSets… that GitOps tools own are
// left as written, so those tools see no drift, and /validate warns about their templates instead. Only the
// missing drop is fixed: adding NET_RAW and privileged stay denied by /validate, since removing them would
// change what the container was asked to do. Pure.

import type { Operation } from 'fast-json-patch';
import { allow, patchResponse, type AdmissionRequest } from './admission.ts';
import { containerProblems } from '../podspec/netraw-rule.ts';
import type { Container } from '../podspec/pod.ts';
import { templateExempt, type ValidationConfig } from './validation-config.ts';
import { readTemplate, templateLocation } from '../podspec/workloads.ts';

export function dropNetRawPatch(container: Container, path: string): Operation[] {
  if (!containerProblems(container).includes('not-dropped')) return [];
  const sc = container.securityContext;
  if (!sc) return [{ op: 'add', path: `${path}/securityContext`, value: { capabilities: { drop: ['NET_RAW'] } } }];
  const caps = sc.capabilities;
  if (!caps) return [{ op: 'add', path: `${path}/securityContext/capabilities`, value: { drop: ['NET_RAW'] } }];
  if (!Array.isArray(caps.drop)) return [{ op: 'add', path: `${path}/securityContext/capabilities/drop`, value: ['NET_RAW'] }];
  return [{ op: 'add', path: `${path}/securityContext/capabilities/drop/-`, value: 'NET_RAW' }];
}

export function fixNetRaw(req: AdmissionRequest, cfg: ValidationConfig): { response: ReturnType<typeof allow>; outcome: string; subject: string } {
  const subject = `${req.kind.kind} ${req.namespace}/${req.name ?? ''}`;
  const loc = templateLocation(req.kind);
  const done = (outcome: string) => ({ response: allow(req.uid), outcome, subject });
  // A running pod's containers cannot change: on Pod UPDATE only ephemeral containers (their subresource) are fixed.
  const ephemeralOnly = req.kind.kind === 'Pod' && req.subResource === 'ephemeralcontainers';
  const podUpdate = req.kind.kind === 'Pod' && req.operation === 'UPDATE' && !ephemeralOnly;
  if (cfg.mode !== 'fix') return done('disabled');
  if (!loc || (req.subResource && !ephemeralOnly) || podUpdate || (req.operation !== 'CREATE' && req.operation !== 'UPDATE')) return done('ignored');
  if (req.kind.kind !== 'Pod') return done('template');
  if (cfg.exemptNamespaces.includes(req.namespace)) return done('exempt');
  const read = readTemplate(req.object, loc);
  // Malformed objects are /validate's to explain; the fix-up webhook never blocks.
  if (!read.ok) return done('invalid');
  if (templateExempt(read.pod.metadata?.labels, cfg)) return done('exempt');
  const base = `/${[...loc.path, 'spec'].join('/')}`;
  const spec = read.pod.spec;
  const groups = ephemeralOnly
    ? ([['ephemeralContainers', spec.ephemeralContainers]] as const)
    : ([
        ['initContainers', spec.initContainers],
        ['containers', spec.containers],
        ['ephemeralContainers', spec.ephemeralContainers],
      ] as const);
  const patch = groups.flatMap(([field, list]) => (list ?? []).flatMap((c, i) => dropNetRawPatch(c, `${base}/${field}/${i}`)));
  const warnings = patch.length ? [`podid added NET_RAW to capabilities.drop of ${patch.length} container(s) (--netraw=fix)`] : [];
  return { response: patchResponse(req.uid, patch, warnings), outcome: patch.length ? 'fixed' : 'unchanged', subject };
}

// /validate: the NET_RAW rule over Pods and the pod templates of workloads. No I/O.
// On UPDATE only violations the update introduces are denied (pre-existing ones are warned about),
// so a non-compliant object created before podid can still be scaled, relabelled or deleted.

import { allow, deny, type AdmissionRequest, type AdmissionResponse } from './admission.ts';
import { NETRAW_REASON, describeViolation, newViolations, podSpecViolations, type Violation } from '../podspec/netraw-rule.ts';
import { templateExempt, type ValidationConfig } from './validation-config.ts';
import { at, readTemplate, templateLocation } from '../podspec/workloads.ts';

export type ValidateOutcome = 'allowed' | 'denied' | 'warned' | 'audited' | 'exempt' | 'ignored' | 'invalid';

export interface ValidateResult {
  response: AdmissionResponse;
  outcome: ValidateOutcome;
  subject: string;
  violations: Violation[];
  details?: string[];
}

export const AUDIT_ANNOTATION = 'netraw-violations';

function subjectOf(req: AdmissionRequest, obj: unknown): string {
  const meta = (at(obj, ['metadata']) ?? {}) as { name?: string; generateName?: string };
  const name = req.name || meta.name || (meta.generateName ? `${meta.generateName}*` : '<unnamed>');
  return `${req.kind.kind} ${req.namespace}/${name}`;
}

export function validate(req: AdmissionRequest, cfg: ValidationConfig): ValidateResult {
  const loc = templateLocation(req.kind);
  const subject = subjectOf(req, req.object);
  const ignored = (outcome: ValidateOutcome = 'ignored'): ValidateResult => ({
    response: allow(req.uid),
    outcome,
    subject,
    violations: [],
  });
  const checkedSubresource = req.kind.kind === 'Pod' && req.subResource === 'ephemeralcontainers';
  if (!loc || cfg.mode === 'off' || (req.subResource && !checkedSubresource)) return ignored();
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return ignored();
  if (cfg.exemptNamespaces.includes(req.namespace)) return ignored('exempt');

  const read = readTemplate(req.object, loc);
  if (!read.ok) {
    return {
      response: deny(req.uid, 400, `podid could not read ${subject}: ${read.message}`),
      outcome: 'invalid',
      subject,
      violations: [],
    };
  }
  if (templateExempt(read.pod.metadata?.labels, cfg)) return ignored('exempt');

  const all = podSpecViolations(read.pod.spec);
  let blocking = all;
  let preexisting: Violation[] = [];
  if (req.operation === 'UPDATE') {
    const old = readTemplate(req.oldObject, loc);
    const before = old.ok ? podSpecViolations(old.pod.spec) : [];
    blocking = newViolations(all, before);
    preexisting = all.filter((v) => !blocking.some((b) => b.kind === v.kind && b.name === v.name));
  }
  if (!all.length) return { response: allow(req.uid), outcome: 'allowed', subject, violations: [] };

  // --netraw=fix: /mutate-netraw adds the missing drop to every Pod a template creates; the template stays as its
  // owner wrote it (no drift for GitOps tools), so a drop missing there is a warning, not a denial.
  const deferred = cfg.mode === 'fix' && loc.label ? blocking.filter((v) => v.problems.length === 1 && v.problems[0] === 'not-dropped') : [];
  blocking = blocking.filter((v) => !deferred.includes(v));
  const lines = blocking.map(describeViolation);
  const details = all.map(describeViolation);
  const warnings = [
    ...deferred.map((v) => `podid: ${describeViolation(v)} (--netraw=fix adds it to each pod this creates)`),
    ...[...blocking, ...preexisting].map((v) => `podid: ${describeViolation(v)}`),
  ];
  if (!blocking.length || cfg.mode === 'warn') {
    return { response: allow(req.uid, { warnings }), outcome: 'warned', subject, violations: all, details };
  }
  if (cfg.mode === 'audit') {
    const response = allow(req.uid, { auditAnnotations: { [AUDIT_ANNOTATION]: lines.join('; ') } });
    return { response, outcome: 'audited', subject, violations: blocking, details };
  }
  const where = loc.label ? ` (in ${loc.label})` : '';
  // `kubectl debug` cannot set capabilities.drop itself; its restricted profile does (kubectl profiles.go dropCapabilities: drop ALL).
  const debugHint =
    checkedSubresource && blocking.every((v) => v.kind === 'ephemeralContainer') ? ' For kubectl debug, add --profile=restricted (it drops ALL).' : '';
  const message = `${subject} denied by podid: ${lines.join('; ')}${where}.${debugHint} ${NETRAW_REASON}.`;
  return { response: deny(req.uid, 403, message), outcome: 'denied', subject, violations: blocking, details };
}

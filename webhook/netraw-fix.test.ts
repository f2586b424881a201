import fjp from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { netRawCases } from '../test/netraw-cases.ts';
import type { AdmissionRequest } from './admission.ts';
import { fixNetRaw } from './netraw-fix.ts';
import { validate } from './validate.ts';
import { defaultValidationConfig } from './validation-config.ts';

const cfg = { ...defaultValidationConfig, mode: 'fix' as const };

const request = (row: (typeof netRawCases)[number], object = row.object): AdmissionRequest => ({
  uid: 'u',
  kind: row.kind,
  operation: 'CREATE',
  namespace: row.namespace,
  object,
  dryRun: false,
});

const decode = (patch?: string) => (patch ? JSON.parse(Buffer.from(patch, 'base64').toString()) : []);

describe('--netraw=fix over the shared case table', () => {
  it.each(netRawCases.filter((r) => !r.apiserverRejects))('$name', (row) => {
    const fixed = fixNetRaw(request(row), cfg);
    const after = fjp.applyPatch(structuredClone(row.object), decode(fixed.response.patch), true, false).newDocument;
    // /validate runs in fix mode too: Pods arrive fixed; templates are never patched (no GitOps drift) and a drop
    // missing there is only a warning, since each pod they create is fixed.
    const verdict = validate(request(row, after), cfg);
    // Only the missing drop is fixed: rows denied for anything else stay denied.
    const onlyMissingDrop = !row.allowed && !/adds NET_RAW|is privileged/.test(row.reason) && !row.code;
    expect(verdict.response.allowed).toBe(row.allowed || onlyMissingDrop);
    if (row.allowed || row.kind.kind !== 'Pod') expect(fixed.response.patch).toBeUndefined();
    if (onlyMissingDrop && row.kind.kind !== 'Pod') expect(verdict.response.warnings?.join()).toContain('--netraw=fix adds it to each pod this creates');
    // Idempotent: fixing the fixed object changes nothing.
    expect(fixNetRaw(request(row, after), cfg).response.patch).toBeUndefined();
  });

  it.each(netRawCases)('every patch applies to the object it was made for: $name', (row) => {
    const patch = decode(fixNetRaw(request(row), cfg).response.patch);
    expect(fjp.validate(patch, structuredClone(row.object))).toBeUndefined();
  });

  it('never patches a running pod, except its new ephemeral containers', () => {
    const row = netRawCases.find((r) => r.name === 'ephemeral container without the drop')!;
    const update = { ...request(row), operation: 'UPDATE', oldObject: row.object };
    expect(fixNetRaw(update, cfg).outcome).toBe('ignored');
    const sub = fixNetRaw({ ...update, subResource: 'ephemeralcontainers' }, cfg);
    expect(decode(sub.response.patch)).toEqual([
      { op: 'add', path: '/spec/ephemeralContainers/0/securityContext', value: { capabilities: { drop: ['NET_RAW'] } } },
    ]);
  });

  it('leaves pods outside --netraw-scope alone, as /validate does', () => {
    const row = netRawCases.find((r) => r.name === 'unlabeled pods are checked too')!;
    const scoped = { ...cfg, scope: 'labeled' as const };
    expect(fixNetRaw(request(row), scoped).outcome).toBe('exempt');
    expect(validate(request(row), scoped).outcome).toBe('exempt');
    const labeled = netRawCases.find((r) => r.name === 'labeled pods are checked')!;
    expect(fixNetRaw(request(labeled), scoped).outcome).toBe('fixed');
  });

  it('does nothing unless --netraw=fix', () => {
    const row = netRawCases.find((r) => r.name === 'no securityContext')!;
    expect(fixNetRaw(request(row), { ...defaultValidationConfig, mode: 'enforce' })).toMatchObject({ outcome: 'disabled', response: { allowed: true } });
  });

  it('keeps existing drops and adds to them', () => {
    const row = netRawCases.find((r) => r.name === 'drops other capabilities only')!;
    const fixed = fixNetRaw(request(row), cfg);
    const after = fjp.applyPatch(structuredClone(row.object), decode(fixed.response.patch), true, false).newDocument as any;
    expect(after.spec.containers[0].securityContext.capabilities.drop).toEqual(['CHOWN', 'NET_RAW']);
    expect(fixed.response.warnings).toEqual(['podid added NET_RAW to capabilities.drop of 1 container(s) (--netraw=fix)']);
  });
});

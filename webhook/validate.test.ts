import { describe, expect, it } from 'vitest';
import { netRawCases } from '../test/netraw-cases.ts';
import type { AdmissionRequest } from './admission.ts';
import { addsNetRaw, dropsNetRaw } from '../podspec/netraw-rule.ts';
import { validate } from './validate.ts';
import { defaultValidationConfig, matchesLabels, parseLabelSelector, type ValidationConfig } from './validation-config.ts';

/** The rule itself (the shared case table's and the exported policies'): deny, nothing fixed. */
const enforce: ValidationConfig = { ...defaultValidationConfig, mode: 'enforce' };

const request = (over: Partial<AdmissionRequest>): AdmissionRequest => ({
  uid: 'u1',
  kind: { group: '', version: 'v1', kind: 'Pod' },
  operation: 'CREATE',
  namespace: 'team-a',
  dryRun: false,
  ...over,
});

const badPod = { metadata: { name: 'p', labels: { app: 'x' } }, spec: { containers: [{ name: 'app', image: 'x' }] } };
const goodPod = {
  metadata: { name: 'p' },
  spec: { containers: [{ name: 'app', image: 'x', securityContext: { capabilities: { drop: ['ALL'] } } }] },
};

describe('the shared NET_RAW case table through /validate', () => {
  it('has at least 30 cases', () => expect(netRawCases.length).toBeGreaterThanOrEqual(30));
  it.each(netRawCases)('$name', ({ kind, namespace, object, allowed, reason, code }) => {
    const r = validate(request({ kind, namespace, object }), enforce);
    expect(r.response.allowed).toBe(allowed);
    if (!allowed) {
      expect(r.response.status?.code).toBe(code ?? 403);
      expect(r.response.status?.message).toContain(reason);
      if (!code) expect(r.response.status?.message).toContain('podid requires every container to drop NET_RAW');
    }
  });
});

// Names that are not Linux capabilities grant or remove nothing (containerd passes "CAP_" + the name on, runc ignores
// unknown names, CRI-O fails the container later): podid's own rule, beside the shared NET_RAW table (the exported
// policies check NET_RAW only).
describe('capability names that are not capabilities', () => {
  const withCaps = (capabilities: object) => ({
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'app', image: 'x', securityContext: { capabilities } }] },
  });
  const rows: Array<[string, object, string | undefined]> = [
    ['add of a real capability, any case', { add: ['SYS_TIME', 'net_bind_service'], drop: ['ALL'] }, undefined],
    ['drop of real capabilities', { drop: ['NET_RAW', 'chown', 'SETUID'] }, undefined],
    [
      'add of a name with a replacement character',
      { add: ['NET_RAW\uFFFD'], drop: ['ALL'] },
      'capabilities.add[0] "NET_RAW\uFFFD": write each capability as its name',
    ],
    ['add of a made-up name', { add: ['SUPERUSER'], drop: ['ALL'] }, 'container "app" names what is not a Linux capability: capabilities.add[0] "SUPERUSER"'],
    ['add with the CAP_ prefix (containerd reads CAP_CAP_SYS_TIME)', { add: ['CAP_SYS_TIME'], drop: ['ALL'] }, 'capabilities.add[0] "CAP_SYS_TIME"'],
    ['drop of an unknown name beside NET_RAW', { drop: ['NET_RAW', 'bogus'] }, 'capabilities.drop[1] "bogus"'],
    ['drop with the CAP_ prefix beside ALL', { drop: ['ALL', 'CAP_SYS_ADMIN'] }, 'capabilities.drop[1] "CAP_SYS_ADMIN"'],
  ];
  it.each(rows)('%s', (_name, capabilities, message) => {
    const r = validate(request({ object: withCaps(capabilities) }), enforce);
    expect(r.response.allowed).toBe(message === undefined);
    if (message) expect(r.response.status?.message).toContain(message);
  });

  it('reports a NET_RAW look-alike once, as what it looks like', () => {
    const r = validate(request({ object: withCaps({ add: [' NET_RAW'], drop: ['CAP_NET_RAW'] }) }), enforce);
    expect(r.violations).toEqual([{ kind: 'container', name: 'app', problems: ['adds', 'not-dropped'], misspelled: ['CAP_NET_RAW'] }]);
  });

  it('is denied in fix mode too: adding the drop would not mend it', () => {
    const r = validate(request({ object: withCaps({ add: ['SUPERUSER'] }) }), defaultValidationConfig);
    expect(r.outcome).toBe('denied');
  });
});

describe('validate', () => {
  it('warn mode allows with one warning per container', () => {
    const r = validate(request({ object: { ...badPod, spec: { containers: [{ name: 'a' }, { name: 'b' }] } } }), {
      ...enforce,
      mode: 'warn',
    });
    expect(r.outcome).toBe('warned');
    expect(r.response).toMatchObject({ allowed: true });
    expect(r.response.warnings).toEqual([
      'podid: container "a" does not drop NET_RAW: add "NET_RAW" (or "ALL") to securityContext.capabilities.drop',
      'podid: container "b" does not drop NET_RAW: add "NET_RAW" (or "ALL") to securityContext.capabilities.drop',
    ]);
  });

  it('audit mode allows and records an audit annotation', () => {
    const r = validate(request({ object: badPod }), { ...enforce, mode: 'audit' });
    expect(r.outcome).toBe('audited');
    expect(r.response.allowed).toBe(true);
    expect(r.response.auditAnnotations).toEqual({
      'netraw-violations': 'container "app" does not drop NET_RAW: add "NET_RAW" (or "ALL") to securityContext.capabilities.drop',
    });
  });

  it('fix mode (the default): a template without the drop is warned about, not denied; what fixing cannot mend is denied', () => {
    const fix = defaultValidationConfig;
    expect(fix.mode).toBe('fix');
    const deployment = (securityContext?: object) => ({
      metadata: { name: 'web' },
      spec: {
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'x', ...(securityContext ? { securityContext } : {}) }] },
        },
      },
    });
    const kind = { group: 'apps', version: 'v1', kind: 'Deployment' };
    const plain = validate(request({ kind, object: deployment() }), fix);
    expect(plain).toMatchObject({ outcome: 'warned', response: { allowed: true } });
    expect(plain.response.warnings?.[0]).toContain(
      'does not drop NET_RAW: add "NET_RAW" (or "ALL") to securityContext.capabilities.drop (--netraw=fix adds it to each pod this creates)',
    );
    const privileged = validate(request({ kind, object: deployment({ privileged: true }) }), fix);
    expect(privileged.outcome).toBe('denied');
    expect(privileged.response.status?.message).toContain('container "web" is privileged');
    // A Pod reaching /validate unfixed (the fix-up webhook was unavailable) is denied, never admitted with NET_RAW.
    expect(validate(request({ object: badPod }), fix).outcome).toBe('denied');
  });

  it('off mode checks nothing', () => expect(validate(request({ object: badPod }), { ...enforce, mode: 'off' }).outcome).toBe('ignored'));

  const scoped: Array<[string, Partial<ValidationConfig>, Record<string, string>, string]> = [
    ['exempt label selector', { exemptLabels: parseLabelSelector('app=x') }, { app: 'x' }, 'exempt'],
    ['exempt label selector not matching', { exemptLabels: parseLabelSelector('app=cni') }, { app: 'x' }, 'denied'],
    ['scope labeled skips unlabeled pods', { scope: 'labeled' }, { app: 'x' }, 'exempt'],
    ['scope labeled checks labeled pods', { scope: 'labeled' }, { aadpodidbinding: 'r' }, 'denied'],
    ['custom exempt namespace', { exemptNamespaces: ['team-a'] }, {}, 'exempt'],
  ];
  it.each(scoped)('%s', (_n, cfg, labels, outcome) => {
    const r = validate(request({ object: { ...badPod, metadata: { name: 'p', labels } } }), { ...enforce, ...cfg });
    expect(r.outcome).toBe(outcome);
  });

  it('on UPDATE denies only violations the update introduces', () => {
    const relabel = validate(request({ operation: 'UPDATE', object: { ...badPod, metadata: { labels: { v: '2' } } }, oldObject: badPod }), enforce);
    expect(relabel.outcome).toBe('warned');
    expect(relabel.response.warnings?.[0]).toContain('container "app" does not drop NET_RAW');
    const worse = validate(
      request({
        operation: 'UPDATE',
        object: { spec: { containers: [{ name: 'app', securityContext: { privileged: true } }] } },
        oldObject: badPod,
      }),
      enforce,
    );
    expect(worse.outcome).toBe('denied');
    expect(worse.response.status?.message).toContain('container "app" is privileged');
    expect(worse.response.status?.message).not.toContain('does not drop');
  });

  it('checks ephemeral containers added through the subresource', () => {
    const withDebugger = { ...goodPod, spec: { ...goodPod.spec, ephemeralContainers: [{ name: 'debugger', image: 'busybox' }] } };
    const r = validate(request({ operation: 'UPDATE', subResource: 'ephemeralcontainers', object: withDebugger, oldObject: goodPod }), enforce);
    expect(r.outcome).toBe('denied');
    expect(r.response.status?.message).toContain('ephemeralContainer "debugger" does not drop NET_RAW');
    expect(r.response.status?.message).toContain('For kubectl debug, add --profile=restricted (it drops ALL).');
  });

  const ignored: Array<[string, Partial<AdmissionRequest>]> = [
    ['a Service', { kind: { group: '', version: 'v1', kind: 'Service' }, object: {} }],
    ['the status subresource', { subResource: 'status', operation: 'UPDATE', object: badPod }],
    ['DELETE', { operation: 'DELETE', object: badPod }],
  ];
  it.each(ignored)('ignores %s', (_n, over) => expect(validate(request(over), enforce).response).toEqual({ uid: 'u1', allowed: true }));

  it('explains a malformed template', () => {
    const r = validate(
      request({
        kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
        object: { spec: { template: { spec: { containers: 'x' } } } },
      }),
      enforce,
    );
    expect(r.outcome).toBe('invalid');
    expect(r.response.status).toMatchObject({
      code: 400,
      message: 'podid could not read Deployment team-a/<unnamed>: spec.template.spec.containers must be an array',
    });
  });

  it('names pods that only have generateName', () => {
    const r = validate(request({ object: { ...badPod, metadata: { generateName: 'web-' } } }), enforce);
    expect(r.response.status?.message).toMatch(/^Pod team-a\/web-\* denied by podid/);
  });
});

describe('helpers', () => {
  // [value, drops NET_RAW in containerd AND CRI-O, grants NET_RAW in add (in either, or padded)]
  const caps: Array<[unknown, boolean, boolean]> = [
    ['NET_RAW', true, true],
    ['net_raw', true, true], // containerd: "CAP_" + ToUpper; CRI-O: the same
    ['Net_Raw', true, true],
    ['ALL', true, true],
    ['all', true, true], // both compare ALL with EqualFold
    ['CAP_NET_RAW', false, true], // containerd drops "CAP_CAP_NET_RAW" (nothing); CRI-O adds CAP_NET_RAW
    ['cap_net_raw', false, true],
    [' NET_RAW ', false, true], // containerd drops "CAP_ NET_RAW " (nothing); podid refuses it in add anyway
    [' ALL', false, true], // not EqualFold("ALL"): containerd drops "CAP_ ALL" (nothing)
    ['cap_all', false, true], // containerd: "CAP_CAP_ALL"; CRI-O: unknown capability, refused; podid refuses it in add
    ['NET_ADMIN', false, false],
    [7, false, false],
  ];
  it.each(caps)('%j: counts in drop %s, denied in add %s', (value, drops, adds) => {
    expect(dropsNetRaw(value)).toBe(drops);
    expect(addsNetRaw(value)).toBe(adds);
  });
  it('parses and matches label selectors', () => {
    expect(parseLabelSelector('app=cni, tier')).toEqual([
      { key: 'app', value: 'cni' },
      { key: 'tier', value: undefined },
    ]);
    expect(matchesLabels({ app: 'cni', tier: 'x' }, parseLabelSelector('app=cni,tier'))).toBe(true);
    expect(matchesLabels({ app: 'cni' }, parseLabelSelector('app=cni,tier'))).toBe(false);
    expect(matchesLabels({ app: 'cni' }, [])).toBe(false);
    expect(() => parseLabelSelector('a==b')).toThrow('is not a label requirement');
  });
});

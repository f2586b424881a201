import { describe, expect, it } from 'vitest';
import { ensureInterception, removeInterception, type Run } from './iptables.ts';
import { chainRules, validateInterceptConfig, type InterceptConfig } from './iptables-rules.ts';

const config: InterceptConfig = {
  chain: 'PODID-METADATA',
  metadataIP: '169.254.169.254',
  metadataPort: 80,
  nmiIP: '10.240.0.4',
  nmiPort: 2579,
  excludeInterfaces: [],
};

/** A NAT table that answers the subset of iptables the manager uses, like iptables does. */
function fakeNat() {
  const chains = new Map<string, string[]>([['PREROUTING', []]]);
  const calls: string[] = [];
  const run: Run = async (args) => {
    calls.push(args.join(' '));
    const [op, chain = '', ...rest] = args;
    const rules = chains.get(chain);
    const rule = rest.join(' ');
    const fail = { ok: false, stdout: '', stderr: `iptables: No chain/target/match by that name.` };
    const ok = (stdout = '') => ({ ok: true, stdout, stderr: '' });
    switch (op) {
      case '-S':
        return rules ? ok([`-N ${chain}`, ...rules.map((r) => `-A ${chain} ${r}`)].join('\n') + '\n') : fail;
      case '-N':
        if (rules) return { ok: false, stdout: '', stderr: 'Chain already exists.' };
        chains.set(chain, []);
        return ok();
      case '-F':
        if (!rules) return fail;
        rules.length = 0;
        return ok();
      case '-X':
        return chains.delete(chain) ? ok() : fail;
      case '-A':
        if (!rules) return fail;
        rules.push(rule);
        return ok();
      case '-I': {
        if (!rules) return fail;
        const [, ...r] = rest;
        rules.unshift(r.join(' '));
        return ok();
      }
      case '-C':
        return rules?.includes(rule) ? ok() : fail;
      case '-D': {
        const i = rules?.indexOf(rule) ?? -1;
        if (i < 0) return fail;
        rules!.splice(i, 1);
        return ok();
      }
    }
    return fail;
  };
  return { chains, calls, run };
}

describe('iptables interception manager', () => {
  it('creates the chain, its DNAT rule and the PREROUTING jump; a second pass changes nothing', async () => {
    const nat = fakeNat();
    expect(await ensureInterception(nat.run, config)).toEqual({ changed: true });
    expect(nat.chains.get('PODID-METADATA')).toEqual(['-d 169.254.169.254/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.240.0.4:2579']);
    expect(nat.chains.get('PREROUTING')).toEqual(['-j PODID-METADATA']);
    const before = nat.calls.length;
    expect(await ensureInterception(nat.run, config)).toEqual({ changed: false });
    expect(nat.calls.slice(before).every((c) => c.startsWith('-S') || c.startsWith('-C'))).toBe(true);
  });

  it.each([
    ['the jump was deleted', (n: ReturnType<typeof fakeNat>) => n.chains.set('PREROUTING', [])],
    ['the chain was flushed', (n: ReturnType<typeof fakeNat>) => n.chains.set('PODID-METADATA', [])],
    [
      'the rule points elsewhere',
      (n: ReturnType<typeof fakeNat>) => n.chains.set('PODID-METADATA', ['-d 169.254.169.254/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.0.1:9']),
    ],
    ['the chain is gone', (n: ReturnType<typeof fakeNat>) => n.chains.delete('PODID-METADATA')],
  ])('restores the rules when %s', async (_name, tamper) => {
    const nat = fakeNat();
    await ensureInterception(nat.run, config);
    tamper(nat);
    expect(await ensureInterception(nat.run, config)).toEqual({ changed: true });
    expect(nat.chains.get('PODID-METADATA')).toEqual(chainRules(config).map((r) => r.slice(2).join(' ')));
    expect(nat.chains.get('PREROUTING')).toEqual(['-j PODID-METADATA']);
  });

  it('puts excluded interfaces first as RETURN rules', () => {
    expect(chainRules({ ...config, excludeInterfaces: ['eth0'] }).map((r) => r.join(' '))).toEqual([
      '-A PODID-METADATA -i eth0 -j RETURN',
      '-A PODID-METADATA -d 169.254.169.254/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.240.0.4:2579',
    ]);
  });

  it('removes the jump and the chain on shutdown, and tolerates their absence', async () => {
    const nat = fakeNat();
    await ensureInterception(nat.run, config);
    await removeInterception(nat.run, config);
    expect(nat.chains.has('PODID-METADATA')).toBe(false);
    expect(nat.chains.get('PREROUTING')).toEqual([]);
    await removeInterception(nat.run, config);
  });

  it.each([
    [{ chain: 'bad chain!' }, 'chain "bad chain!"'],
    [{ nmiIP: '10.0.0' }, 'NMI IP "10.0.0"'],
    [{ metadataIP: '300.1.1.1' }, 'metadata IP'],
    [{ nmiPort: 0 }, 'NMI port 0'],
    [{ excludeInterfaces: ['eth0;rm'] }, 'interface "eth0;rm"'],
  ])('rejects invalid settings %j', (patch, message) => {
    expect(validateInterceptConfig({ ...config, ...patch }).join('; ')).toContain(message);
  });
});

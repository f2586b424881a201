// The interception rules, as data: a NAT chain jumped to from PREROUTING that DNATs TCP to the metadata
// address from pod interfaces to NMI. PREROUTING sees only packets arriving on an interface, so the
// node's own (host-network) traffic, which leaves through OUTPUT, is never touched.

export interface InterceptConfig {
  chain: string;
  metadataIP: string;
  metadataPort: number;
  /** Where NMI listens on the node. */
  nmiIP: string;
  nmiPort: number;
  /** Interfaces whose traffic is never intercepted (e.g. the node's uplink); none by default. */
  excludeInterfaces: readonly string[];
}

export const defaultInterceptConfig = {
  chain: 'PODID-METADATA',
  metadataIP: '169.254.169.254',
  metadataPort: 80,
  excludeInterfaces: [] as string[],
};

/** Rules of the chain in `iptables -S` form (without the table), in order. */
export function chainRules(c: InterceptConfig): string[][] {
  const excluded = c.excludeInterfaces.map((i) => ['-A', c.chain, '-i', i, '-j', 'RETURN']);
  return [
    ...excluded,
    [
      '-A',
      c.chain,
      '-d',
      `${c.metadataIP}/32`,
      '-p',
      'tcp',
      '-m',
      'tcp',
      '--dport',
      String(c.metadataPort),
      '-j',
      'DNAT',
      '--to-destination',
      `${c.nmiIP}:${c.nmiPort}`,
    ],
  ];
}

export const jumpRule = (c: InterceptConfig): string[] => ['PREROUTING', '-j', c.chain];

/** `iptables -S <chain>` output → the rule lines, minus the `-N <chain>` line. */
export function parseChainListing(text: string, chain: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && l !== `-N ${chain}`);
}

export const ruleText = (rule: readonly string[]): string => rule.join(' ');

export function validateInterceptConfig(c: InterceptConfig): string[] {
  const errors: string[] = [];
  if (!/^[A-Za-z0-9_-]{1,28}$/.test(c.chain)) errors.push(`chain "${c.chain}" must be 1–28 letters, digits, - or _`);
  const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
  for (const [what, ip] of [
    ['metadata IP', c.metadataIP],
    ['NMI IP', c.nmiIP],
  ] as const) {
    const m = ipv4.exec(ip);
    if (!m || m.slice(1).some((o) => Number(o) > 255)) errors.push(`${what} "${ip}" must be an IPv4 address`);
  }
  for (const [what, port] of [
    ['metadata port', c.metadataPort],
    ['NMI port', c.nmiPort],
  ] as const) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) errors.push(`${what} ${port} must be 1–65535`);
  }
  for (const i of c.excludeInterfaces) if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(i)) errors.push(`interface "${i}" is not a valid name`);
  return errors;
}

// The kubenet spoofing drill, with real packets in network namespaces this test makes (no route out): a node
// with a Linux bridge (kubenet's cbr0), NMI with iptables interception, pod A holding an identity and pod B as the
// attacker. B ARP-poisons the node and speaks TCP by hand from A's address (test/netns/spoof.py).
//   1. B with NET_RAW gets A's token through interception: the drill bites (or it proves nothing);
//   2. B with NET_RAW dropped, as podid's rule makes every container do: no raw socket, nothing obtained;
//   3. through the sidecar path (/sidecar/token, proven by the pod's service-account token) B never gets A's token,
//      whatever address it forges.
// Needs root (ip netns, bridges, iptables); without it the suite fails and says so.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMDS_API_VERSION, IMDS_TOKEN_PATH } from '../../tokens/wire.ts';
import { inNs, ip, run, startNodeSide, type NodeSide } from './node.ts';

const suffix = Math.random().toString(16).slice(2, 6);
const NODE = `podid-kn-${suffix}`;
const NODE_IP = '10.252.0.1';
const VICTIM = { ns: `podid-ka-${suffix}`, veth: `ka${suffix}`, ip: '10.252.0.10', name: 'victim', selector: 'app-msi' };
const ATTACKER = { ns: `podid-kb-${suffix}`, veth: `kb${suffix}`, ip: '10.252.0.20', name: 'attacker', selector: 'sp-cert' };
const RESOURCE = 'https://vault.azure.net';

interface Ready {
  msi: { clientId: string; objectId: string };
  spCert: { clientID: string };
  saTokens: Record<string, string>;
}
interface DrillResult {
  raw_socket: boolean;
  attempts: number;
  error?: string;
  responses: Array<{ status: number; error?: string; claims?: { oid?: string; appid?: string; aud?: string } }>;
}

let ready: Ready;
let node: NodeSide<Ready> | undefined;
let gatewayMac: string;
const summary: string[] = [];

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the spoofing drill creates network namespaces, a bridge and iptables rules: it must run as root (CI does)');
  await ip('netns', 'add', NODE);
  await ip('-n', NODE, 'link', 'set', 'lo', 'up');
  await ip('-n', NODE, 'link', 'add', 'cbr0', 'type', 'bridge');
  await ip('-n', NODE, 'addr', 'add', `${NODE_IP}/24`, 'dev', 'cbr0');
  await ip('-n', NODE, 'link', 'set', 'cbr0', 'up');
  for (const p of [VICTIM, ATTACKER]) {
    await ip('netns', 'add', p.ns);
    await ip('-n', p.ns, 'link', 'set', 'lo', 'up');
    await ip('link', 'add', p.veth, 'netns', NODE, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', p.ns);
    await ip('-n', NODE, 'link', 'set', p.veth, 'master', 'cbr0');
    await ip('-n', NODE, 'link', 'set', p.veth, 'up');
    await ip('-n', p.ns, 'addr', 'add', `${p.ip}/24`, 'dev', 'eth0');
    await ip('-n', p.ns, 'link', 'set', 'eth0', 'up');
    await ip('-n', p.ns, 'route', 'add', 'default', 'via', NODE_IP);
  }
  gatewayMac = (JSON.parse(await ip('-n', NODE, '-j', 'link', 'show', 'cbr0')) as Array<{ address: string }>)[0]!.address;
  node = await startNodeSide<Ready>(NODE, [VICTIM, ATTACKER], NODE_IP);
  ready = node.ready;
}, 120_000);

afterAll(async () => {
  await node?.stop();
  for (const ns of [NODE, VICTIM.ns, ATTACKER.ns]) await run('ip', ['netns', 'del', ns]);
  console.log(`kubenet spoofing drill:\n  ${summary.join('\n  ')}`);
});

/** Runs the attacker tool in pod B; `dropNetRaw` runs it the way a container with NET_RAW dropped runs. */
async function drill(target: { ip: string; port: number; path: string; headers: Record<string, string> }, dropNetRaw = false): Promise<DrillResult> {
  const args = {
    interface: 'eth0',
    victim_ip: VICTIM.ip,
    gateway_ip: NODE_IP,
    gateway_mac: gatewayMac,
    dst_ip: target.ip,
    dst_port: target.port,
    path: target.path,
    headers: target.headers,
    attempts: 5,
    budget_seconds: 20,
  };
  const python = ['/usr/bin/python3', 'test/netns/spoof.py', JSON.stringify(args)];
  // setpriv drops NET_RAW from the bounding set: what containerd does for capabilities.drop ["NET_RAW"].
  const argv = dropNetRaw ? ['setpriv', '--bounding-set', '-net_raw', '--', ...python] : python;
  const r = await inNs(ATTACKER.ns, argv, { PODID_IN_TEST_NETNS: '1' });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as DrillResult;
}

const imdsPath = `${IMDS_TOKEN_PATH}?api-version=${IMDS_API_VERSION}&resource=${encodeURIComponent(RESOURCE)}`;
const victimTokens = (r: DrillResult) => r.responses.filter((x) => x.status === 200 && x.claims?.oid === ready.msi.objectId).length;

describe('kubenet spoofing drill', () => {
  it('baseline: pod A gets its own token through interception', async () => {
    const r = await inNs(VICTIM.ns, [process.execPath, 'test/netns/imds-call.mjs'], { PODID_IN_TEST_NETNS: '1' });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).status).toBe(200);
  });

  it('1. with NET_RAW, pod B forging A’s address gets A’s token through interception (the drill bites)', async () => {
    const r = await drill({ ip: '169.254.169.254', port: 80, path: imdsPath, headers: { Metadata: 'true' } });
    summary.push(
      `with NET_RAW, interception: ${r.attempts} attempts, ${victimTokens(r)} of A's tokens obtained (statuses ${r.responses.map((x) => x.status).join(',')})`,
    );
    expect(r.raw_socket).toBe(true);
    expect(victimTokens(r)).toBeGreaterThan(0);
  });

  it('2. with NET_RAW dropped (podid’s rule), B cannot open a raw socket and gets nothing', async () => {
    const r = await drill({ ip: '169.254.169.254', port: 80, path: imdsPath, headers: { Metadata: 'true' } }, true);
    summary.push(
      `NET_RAW dropped, interception: raw socket ${r.raw_socket ? 'opened' : 'refused'} (${r.error ?? ''}), ${victimTokens(r)} of A's tokens obtained`,
    );
    expect(r.raw_socket).toBe(false);
    expect(r.error).toMatch(/Operation not permitted/);
    expect(victimTokens(r)).toBe(0);
  });

  it('3. through the sidecar path, B never gets A’s token, whatever address it forges', async () => {
    const path = `/sidecar/token?resource=${encodeURIComponent(RESOURCE)}`;
    const bare = await drill({ ip: NODE_IP, port: 2579, path, headers: {} });
    const withOwn = await drill({ ip: NODE_IP, port: 2579, path, headers: { Authorization: `Bearer ${ready.saTokens[ATTACKER.name]}` } });
    summary.push(
      `with NET_RAW, sidecar path forging A's address: no token ${bare.attempts} attempts → ${bare.responses.map((x) => x.status).join(',')}; ` +
        `B's own token ${withOwn.attempts} attempts → ${withOwn.responses.map((x) => x.status).join(',')}; A's tokens obtained ${victimTokens(bare) + victimTokens(withOwn)}`,
    );
    expect(bare.raw_socket && withOwn.raw_socket).toBe(true);
    // The forged packets do reach NMI (the poisoning works), and NMI answers by the token, not the address:
    expect(bare.responses.some((x) => x.status === 401)).toBe(true);
    expect(withOwn.responses.some((x) => x.status === 200 && x.claims?.appid === ready.spCert.clientID)).toBe(true);
    expect(victimTokens(bare) + victimTokens(withOwn)).toBe(0);
  });
});

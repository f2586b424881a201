// NMI's metadata interception for real, inside network namespaces this test makes: a node namespace with no
// route out (emulators, NMI and the real iptables rules) and two pod namespaces joined to it by veth. Apps
// that know nothing of podid call 169.254.169.254 and get their own pod's token; the node's own traffic is
// not redirected; the rules go when NMI stops. Nothing can leave: the node namespace has only its veths.
// Needs root (ip netns); without it the suite fails and says so.

import { createPublicKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, verifySignature, type Claims } from '../../emulators/jwt.ts';
import { planSdkEnv } from '../../webhook/sdk-env.ts';
import { startSidecarProcess, type SidecarProcess } from '../sidecar-process.ts';
import { ROOT, inNs, ip, run, startNodeSide, type NodeSide } from './node.ts';

const suffix = Math.random().toString(16).slice(2, 6);
const NODE = `podid-node-${suffix}`;
const PODS = [
  { ns: `podid-pa-${suffix}`, veth: `pa${suffix}`, name: 'legacy-msi', selector: 'app-msi', nodeIP: '10.250.1.1', ip: '10.250.1.2' },
  { ns: `podid-pb-${suffix}`, veth: `pb${suffix}`, name: 'legacy-sp', selector: 'sp-cert', nodeIP: '10.250.2.1', ip: '10.250.2.2' },
] as const;
const NMI_IP = PODS[0].nodeIP;
/** A pod whose traffic is never intercepted: what it gets, it gets through the variables and its sidecar alone. */
const ENV_POD = { ns: `podid-pc-${suffix}`, veth: `pc${suffix}`, name: 'env-only', selector: 'app-msi', nodeIP: '10.250.3.1', ip: '10.250.3.2' } as const;

interface Ready {
  tenantId: string;
  publicKeyPem: string;
  armCaFile: string;
  subscriptionId: string;
  msi: { clientId: string; objectId: string };
  spCert: { clientID: string };
  saTokens: Record<string, string>;
}

let ready: Ready;
let node: NodeSide<Ready> | undefined;
let home: string;
let envSidecar: SidecarProcess | undefined;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the interception test creates network namespaces and iptables rules: it must run as root (CI does)');
  for (const tool of ['ip', 'iptables'])
    if ((await run('sh', ['-c', `command -v ${tool}`])).code !== 0) throw new Error(`${tool} is missing: run test/netns/setup.sh`);
  home = await mkdtemp(join(tmpdir(), 'podid-netns-'));
  await ip('netns', 'add', NODE);
  await ip('-n', NODE, 'link', 'set', 'lo', 'up');
  for (const p of [...PODS, ENV_POD]) {
    await ip('netns', 'add', p.ns);
    await ip('-n', p.ns, 'link', 'set', 'lo', 'up');
    await ip('link', 'add', p.veth, 'netns', NODE, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', p.ns);
    await ip('-n', NODE, 'addr', 'add', `${p.nodeIP}/24`, 'dev', p.veth);
    await ip('-n', NODE, 'link', 'set', p.veth, 'up');
    await ip('-n', p.ns, 'addr', 'add', `${p.ip}/24`, 'dev', 'eth0');
    await ip('-n', p.ns, 'link', 'set', 'eth0', 'up');
    await ip('-n', p.ns, 'route', 'add', 'default', 'via', p.nodeIP);
    // `ip netns exec` puts /etc/netns/<ns>/hosts over /etc/hosts: ARM's name leads to the node namespace.
    await mkdir(`/etc/netns/${p.ns}`, { recursive: true });
    await writeFile(`/etc/netns/${p.ns}/hosts`, `127.0.0.1 localhost\n${NMI_IP} management.azure.com\n`);
  }
  node = await startNodeSide<Ready>(NODE, [...PODS, ENV_POD], NMI_IP, [ENV_POD.veth]);
  ready = node.ready;
}, 120_000);

afterAll(async () => {
  await node?.stop();
  await envSidecar?.stop();
  for (const ns of [NODE, ...PODS.map((p) => p.ns), ENV_POD.ns]) {
    await run('ip', ['netns', 'del', ns]);
    await rm(`/etc/netns/${ns}`, { recursive: true, force: true });
  }
  if (home) await rm(home, { recursive: true, force: true });
});

function claimsOf(token: string): Claims {
  const jwt = decodeJwt(token);
  expect(verifySignature(jwt, createPublicKey(ready.publicKeyPem)), 'signed by the emulated tenant').toBe(true);
  return jwt.claims;
}

/** No podid variables at all; PODID_IN_TEST_NETNS lets test/netns/imds-call.mjs run (only here). */
const NO_ENV = (extra: Record<string, string> = {}) => ({ HOME: home, PODID_IN_TEST_NETNS: '1', ...extra });

describe('interception inside network namespaces', () => {
  it('a plain HTTP call to 169.254.169.254 from each pod gets that pod’s own token', async () => {
    const expected = [{ oid: ready.msi.objectId, appid: ready.msi.clientId }, { appid: ready.spCert.clientID }];
    for (const [i, p] of PODS.entries()) {
      const r = await inNs(p.ns, [process.execPath, 'test/netns/imds-call.mjs'], NO_ENV());
      expect(r.code, r.stderr).toBe(0);
      const { status, body } = JSON.parse(r.stdout) as { status: number; body: { access_token: string; expires_in: string } };
      expect(status).toBe(200);
      expect(typeof body.expires_in).toBe('string');
      expect(claimsOf(body.access_token)).toMatchObject({ aud: 'https://vault.azure.net', tid: ready.tenantId, ...expected[i] });
    }
  });

  const clients: Array<[string, () => string[], () => string | undefined]> = [
    [
      '@azure/identity with no podid variables',
      () => [process.execPath, 'test/compat/clients/node-identity.mjs', 'https://vault.azure.net/.default', 'mi'],
      () => undefined,
    ],
    [
      'Python azure-identity (Debian) with no podid variables',
      () => ['/usr/bin/python3', 'test/compat/clients/python_identity.py', 'https://vault.azure.net/.default', 'mi'],
      () => (existsSync('/usr/lib/python3/dist-packages/azure/identity') ? undefined : 'python3-azure is not installed (test/compat/setup.sh)'),
    ],
    [
      'Go azidentity (ignores AZURE_POD_IDENTITY_AUTHORITY_HOST; needs interception)',
      () => [join(ROOT, '.cache/bin/podid-compat-go'), 'https://vault.azure.net/.default', 'mi'],
      () => (existsSync(join(ROOT, '.cache/bin/podid-compat-go')) ? undefined : 'the Go client is not built (test/compat/setup.sh)'),
    ],
  ];
  it.each(clients)('%s gets the pod’s token through NMI', async (_name, argv, missing) => {
    expect(missing(), 'client not installed').toBeUndefined();
    const r = await inNs(PODS[0].ns, argv(), NO_ENV());
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(claimsOf(r.stdout.trim())).toMatchObject({ aud: 'https://vault.azure.net', oid: ready.msi.objectId });
  });

  it('Azure CLI: az login --identity, then az account get-access-token with no podid variables (interception serves it)', async () => {
    expect((await run('sh', ['-c', 'command -v az'])).code, 'azure-cli is not installed (test/compat/setup.sh)').toBe(0);
    const env = NO_ENV({
      AZURE_CONFIG_DIR: join(home, 'az'),
      REQUESTS_CA_BUNDLE: ready.armCaFile,
      AZURE_CORE_COLLECT_TELEMETRY: 'false',
      AZURE_CORE_ONLY_SHOW_ERRORS: 'true',
    });
    const login = await inNs(PODS[0].ns, ['az', 'login', '--identity', '--output', 'json'], env);
    expect(login.code, login.stderr.slice(-3000)).toBe(0);
    expect(JSON.parse(login.stdout)[0]).toMatchObject({
      id: ready.subscriptionId,
      tenantId: ready.tenantId,
      user: { type: 'servicePrincipal' },
    });
    const token = await inNs(PODS[0].ns, ['az', 'account', 'get-access-token', '--resource', 'https://vault.azure.net', '--output', 'json'], env);
    expect(token.code, token.stderr.slice(-3000)).toBe(0);
    expect(claimsOf((JSON.parse(token.stdout) as { accessToken: string }).accessToken)).toMatchObject({
      aud: 'https://vault.azure.net',
      oid: ready.msi.objectId,
    });
  });

  it('with interception off, a call to the metadata address cannot leave: the env-only pod has only its variables', async () => {
    const r = await inNs(ENV_POD.ns, [process.execPath, 'test/netns/imds-call.mjs'], NO_ENV());
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ENETUNREACH|EHOSTUNREACH|fetch failed/);
  });

  // msrestazure (az 2.45) and go-autorest's adal read MSI_ENDPOINT, which the webhook's default variables carry.
  it('Azure CLI 2.45 and an adal Go client get tokens with the injected variables only, no interception', async () => {
    const tokenFile = join(home, 'env-only-sa-token');
    await writeFile(tokenFile, ready.saTokens[ENV_POD.name]!);
    const header = crypto.randomUUID();
    envSidecar = await startSidecarProcess({ nmiUrl: `http://${NMI_IP}:2579`, tokenFile, identityHeader: header, wrap: ['ip', 'netns', 'exec', ENV_POD.ns] });
    const port = Number(new URL(envSidecar.tokenUrl).port);
    const injected = Object.fromEntries(planSdkEnv('app', new Map(), { port, flavour: 'all', identityHeader: header }).add.map((e) => [e.name, e.value ?? '']));
    expect(injected.MSI_ENDPOINT).toBe(`http://127.0.0.1:${port}/oauth2/token`);
    const env = NO_ENV({
      ...injected,
      AZURE_CONFIG_DIR: join(home, 'az-env-only'),
      REQUESTS_CA_BUNDLE: ready.armCaFile,
      AZURE_CORE_COLLECT_TELEMETRY: 'false',
      AZURE_CORE_ONLY_SHOW_ERRORS: 'true',
    });
    const login = await inNs(ENV_POD.ns, ['az', 'login', '--identity', '--output', 'json'], env);
    expect(login.code, login.stderr.slice(-3000)).toBe(0);
    expect(JSON.parse(login.stdout)[0]).toMatchObject({ id: ready.subscriptionId, tenantId: ready.tenantId });
    const token = await inNs(ENV_POD.ns, ['az', 'account', 'get-access-token', '--resource', 'https://vault.azure.net', '--output', 'json'], env);
    expect(token.code, token.stderr.slice(-3000)).toBe(0);
    expect(claimsOf((JSON.parse(token.stdout) as { accessToken: string }).accessToken)).toMatchObject({
      aud: 'https://vault.azure.net',
      oid: ready.msi.objectId,
    });
    const adal = await inNs(ENV_POD.ns, [join(ROOT, '.cache/bin/podid-compat-adal'), 'https://management.core.windows.net/'], env);
    expect(adal.code, adal.stderr.slice(-2000)).toBe(0);
    expect(claimsOf(adal.stdout.trim())).toMatchObject({ aud: 'https://management.core.windows.net/', oid: ready.msi.objectId });
  });

  it('the node’s own traffic is not redirected, and the node namespace has no route out', async () => {
    const routes = await inNs(NODE, ['ip', 'route', 'show']);
    expect(routes.stdout).not.toMatch(/default/);
    const fromNode = await inNs(NODE, [process.execPath, 'test/netns/imds-call.mjs'], NO_ENV());
    expect(fromNode.code).not.toBe(0);
    expect(fromNode.stderr).toMatch(/ENETUNREACH|fetch failed/);
    const counters = await inNs(NODE, ['iptables', '-t', 'nat', '-L', 'PODID-METADATA', '-v', '-x', '-n']);
    const packets = Number(/^\s*(\d+)\s+\d+\s+DNAT/m.exec(counters.stdout)?.[1] ?? 0);
    expect(packets).toBeGreaterThan(0);
  });

  it('NMI removes its rules when it stops', async () => {
    await node!.stop();
    expect((await inNs(NODE, ['iptables', '-t', 'nat', '-S', 'PODID-METADATA'])).code).not.toBe(0);
    expect((await inNs(NODE, ['iptables', '-t', 'nat', '-S', 'PREROUTING'])).stdout).not.toContain('PODID-METADATA');
  });
});

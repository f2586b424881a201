// The heart of issue 5: real Azure clients, unmodified, with only the environment variables podid's
// webhook injects, get tokens from `podid sidecar` (its own process) backed by NMI and the AAD and IMDS
// emulators. Each client is a separate program; the test checks the claims of the token it printed.
// A client that is not installed fails its tests (run test/compat/setup.sh), it is never skipped.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planSdkEnv } from '../../webhook/sdk-env.ts';
import { STORAGE_ACCOUNT, startDataPlane, type RunningDataPlane } from '../../emulators/dataplane.ts';
import { startWorld, type World } from '../../emulators/world.ts';
import { startLocalNmi, type LocalNmi } from '../../emulators/local-nmi.ts';
import { startSidecarProcess, type SidecarProcess } from '../sidecar-process.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const RESOURCE = 'https://vault.azure.net';
const SCOPE = `${RESOURCE}/.default`;

type Selector = '' | `clientId=${string}` | `resourceId=${string}` | `objectId=${string}`;
interface Client {
  name: string;
  /** Why it cannot run here, or undefined. */
  missing(): string | undefined;
  argv(mode: 'mi' | 'default', selector: Selector): string[];
  modes: Array<'mi' | 'default'>;
  /** Set when the client ignores AZURE_POD_IDENTITY_AUTHORITY_HOST and still calls 169.254.169.254. */
  ignoresImdsHost?: string;
  /** False for clients that cannot select an identity by object id. */
  objectId?: false;
}

const node = process.execPath;
const clients: Client[] = [
  {
    name: '@azure/identity',
    missing: () => undefined,
    argv: (mode, sel) => [node, join(ROOT, 'test/compat/clients/node-identity.mjs'), SCOPE, mode, sel],
    modes: ['mi', 'default'],
  },
  {
    name: '@azure/msal-node',
    missing: () => undefined,
    argv: (_mode, sel) => [node, join(ROOT, 'test/compat/clients/node-msal.mjs'), RESOURCE, sel],
    modes: ['mi'],
  },
  {
    name: 'Python azure-identity (Debian)',
    missing: () =>
      existsSync('/usr/lib/python3/dist-packages/azure/identity') ? undefined : 'Debian python3-azure is not installed (test/compat/setup.sh installs it)',
    argv: (mode, sel) => ['/usr/bin/python3', join(ROOT, 'test/compat/clients/python_identity.py'), SCOPE, mode, sel],
    modes: ['mi', 'default'],
  },
  {
    name: 'Go azidentity',
    missing: () => (existsSync(join(ROOT, '.cache/bin/podid-compat-go')) ? undefined : 'the Go client is not built (test/compat/setup.sh builds it)'),
    argv: (mode, sel) => [join(ROOT, '.cache/bin/podid-compat-go'), SCOPE, mode, sel],
    modes: ['mi', 'default'],
    ignoresImdsHost: 'azidentity 1.15 reads IDENTITY_ENDPOINT/IDENTITY_HEADER but not AZURE_POD_IDENTITY_AUTHORITY_HOST',
  },
  {
    name: 'Go MSAL managed identity (apps/managedidentity)',
    missing: () => (existsSync(join(ROOT, '.cache/bin/podid-compat-go')) ? undefined : 'the Go client is not built (test/compat/setup.sh builds it)'),
    argv: (_mode, sel) => [join(ROOT, '.cache/bin/podid-compat-go'), SCOPE, 'msal', sel],
    modes: ['mi'],
    ignoresImdsHost: 'MSAL Go reads IDENTITY_ENDPOINT/IDENTITY_HEADER but not AZURE_POD_IDENTITY_AUTHORITY_HOST',
  },
];

let dir: string;
let world: World;
let nmi: LocalNmi;
let dataPlane: RunningDataPlane;
type Pod = 'multi' | 'single' | 'nobinding' | 'badsecret';
const sidecars: Record<Pod, { proc?: SidecarProcess; header: string }> = {
  multi: { header: '' },
  single: { header: '' },
  nobinding: { header: '' },
  badsecret: { header: '' },
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podid-compat-'));
  world = await startWorld(dir);
  nmi = await startLocalNmi(world, dir);
  dataPlane = await startDataPlane({ tenant: world.tenant, tls: { cert: world.tls.cert, key: world.tls.key }, authorityHost: world.aad.url });
  dataPlane.secrets.set('db-password', 'hunter2-from-the-vault');
  dataPlane.granted.add(world.msi.objectId);
  // Pod "multi" holds both managed identities (clients must pick one); pod "single" holds the certificate
  // service principal, which podid serves through the managed-identity API like any identity.
  nmi.store.upsertBinding({ name: 'multi-a', namespace: 'demo', namespaced: false, azureIdentity: 'app-msi', selector: 'multi' });
  nmi.store.upsertBinding({ name: 'multi-b', namespace: 'demo', namespaced: false, azureIdentity: 'other-msi', selector: 'multi' });
  // Misconfigurations for the time-to-error table: a label no binding has, and a service principal whose Secret is wrong.
  const sp = world.identities.find((i) => i.name === 'sp-secret')!;
  world.secrets.set('demo/wrong-secret', { clientsecret: Buffer.from('not-the-secret') });
  nmi.store.upsertIdentity({ ...sp, name: 'wrong-secret', clientPassword: { name: 'wrong-secret', namespace: 'demo' } });
  nmi.store.upsertBinding({ name: 'wrong-secret', namespace: 'demo', namespaced: false, azureIdentity: 'wrong-secret', selector: 'wrong-secret' });
  for (const [pod, selector] of [
    ['multi', 'multi'],
    ['single', 'sp-cert'],
    ['nobinding', 'nobody'],
    ['badsecret', 'wrong-secret'],
  ] as const) {
    const tokenFile = join(dir, `${pod}-sa-token`);
    await writeFile(tokenFile, nmi.addPod({ name: pod, labels: { aadpodidbinding: selector } }));
    const header = crypto.randomUUID();
    sidecars[pod] = { header, proc: await startSidecarProcess({ nmiUrl: nmi.url, tokenFile, identityHeader: header }) };
  }
});

afterAll(async () => {
  await Promise.all(Object.values(sidecars).map((s) => s.proc?.stop()));
  if (timeToError.length) console.log(`time from the call to the error (webhook default variables):\n${timeToError.join('\n')}`);
  await dataPlane?.close();
  await nmi?.close();
  await world?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Exactly the variables the webhook injects into an app container, for one env flavour. */
function injectedEnv(pod: Pod, flavour: 'all' | 'both' | 'imds'): Record<string, string> {
  const port = Number(new URL(sidecars[pod].proc!.tokenUrl).port);
  const plan = planSdkEnv('app', new Map(), { port, flavour, identityHeader: sidecars[pod].header });
  return Object.fromEntries(plan.add.map((e) => [e.name, e.value ?? '']));
}

/**
 * Safety net for the network rule: every client's HTTP(S) goes through a proxy address where nothing
 * listens, except loopback. A client that ignored podid's variables and called 169.254.169.254 (or
 * anywhere else) fails on the spot instead of sending anything off the machine.
 */
const NO_EGRESS = {
  HTTP_PROXY: 'http://127.0.0.1:9',
  HTTPS_PROXY: 'http://127.0.0.1:9',
  http_proxy: 'http://127.0.0.1:9',
  https_proxy: 'http://127.0.0.1:9',
  NO_PROXY: '127.0.0.1,localhost,::1',
  no_proxy: '127.0.0.1,localhost,::1',
  NODE_USE_ENV_PROXY: '1',
};

function run(argv: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, ...args] = argv.filter((a) => a !== '');
  return new Promise((done) => {
    execFile(cmd!, args, { env: { PATH: process.env.PATH!, HOME: dir, ...NO_EGRESS, ...env }, timeout: 90_000, cwd: ROOT }, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const flavours = [
  ['the webhook default variables', 'all'],
  ['AZURE_POD_IDENTITY_AUTHORITY_HOST only', 'imds'],
] as const;

for (const client of clients) {
  describe(client.name, () => {
    for (const [flavourName, flavour] of flavours) {
      const cases: Array<[string, 'multi' | 'single', 'mi' | 'default', () => Selector, () => Record<string, string>]> = [
        ['user-assigned by client ID', 'multi', 'mi', () => `clientId=${world.msi.clientId}`, () => ({ oid: world.msi.objectId, appid: world.msi.clientId })],
        [
          'user-assigned by resource ID',
          'multi',
          'mi',
          () => `resourceId=${world.msi2.resourceId}`,
          () => ({ oid: world.msi2.objectId, appid: world.msi2.clientId }),
        ],
        ...(client.objectId === false
          ? []
          : [
              [
                // object_id selection matches AzureIdentity.spec.objectID (a podid extension): app-msi carries it.
                'user-assigned by object ID',
                'multi',
                'mi',
                () => `objectId=${world.msi.objectId}` as Selector,
                () => ({ oid: world.msi.objectId, appid: world.msi.clientId }),
              ] as [string, 'multi', 'mi', () => Selector, () => Record<string, string>],
            ]),
        ...client.modes.map((mode): [string, 'single', 'mi' | 'default', () => Selector, () => Record<string, string>] => [
          mode === 'default' ? 'DefaultAzureCredential, no identity named' : 'managed identity, no identity named',
          'single',
          mode,
          () => '',
          () => {
            const sp = world.identities.find((i) => i.name === 'sp-cert')!;
            return { oid: sp.objectID!, appid: sp.clientID! };
          },
        ]),
      ];
      if (flavour === 'imds' && client.ignoresImdsHost) {
        it(`${flavourName}: does not reach the sidecar (${client.ignoresImdsHost}); use the default variables or NMI interception`, async () => {
          expect(client.missing(), `${client.name} cannot run here`).toBeUndefined();
          const r = await run(client.argv('mi', `clientId=${world.msi.clientId}`), {
            ...injectedEnv('multi', flavour),
            COMPAT_TIMEOUT: '5s',
          });
          expect(r.code).not.toBe(0);
          // It tried the fixed IMDS address, which the no-egress proxy refused.
          expect(r.stderr).toMatch(/ManagedIdentityCredential|169\.254\.169\.254/);
        });
        continue;
      }
      it.each(cases)(`${flavourName}: %s`, async (_name, pod, mode, selector, expected) => {
        const missing = client.missing();
        expect(missing, `${client.name} cannot run here`).toBeUndefined();
        const r = await run(client.argv(mode, selector()), injectedEnv(pod, flavour));
        expect(r.code, `${client.name} failed:\n${r.stderr.slice(-2000)}`).toBe(0);
        const claims = world.tenant.verify(r.stdout.trim());
        expect(claims).toMatchObject({ aud: RESOURCE, tid: world.tenant.id, ...expected() });
        expect(claims.exp as number).toBeGreaterThan(Date.now() / 1000 + 600);
      });
    }
  });
}

// Clients older than the App Service 2019 API read only MSI_ENDPOINT (msrestazure's MSIAuthentication,
// go-autorest adal's getMSIType): with MSI_SECRET unset both POST a form to it with Metadata: true. The webhook's
// default variables include it beside the App Service pair, which newer SDKs pick first.
const ARM = 'https://management.core.windows.net/';
const oldClients: Array<[string, () => string | undefined, (sel: Selector) => string[]]> = [
  [
    'msrestazure (Azure CLI 2.45 and Python apps of its era)',
    () => (existsSync('/usr/lib/python3/dist-packages/msrestazure') ? undefined : 'Debian python3-msrestazure is not installed (test/compat/setup.sh)'),
    (sel) => ['/usr/bin/python3', join(ROOT, 'test/compat/clients/python_msrestazure.py'), ARM, sel],
  ],
  [
    'go-autorest adal (external-dns, older cert-manager)',
    () => (existsSync(join(ROOT, '.cache/bin/podid-compat-adal')) ? undefined : 'the adal client is not built (test/compat/setup.sh builds it)'),
    (sel) => [join(ROOT, '.cache/bin/podid-compat-adal'), ARM, sel],
  ],
];
describe.each(oldClients)('%s with the webhook default variables', (name, missing, argv) => {
  const cases: Array<[string, () => Selector, () => Record<string, string>]> = [
    ['user-assigned by client ID', () => `clientId=${world.msi.clientId}`, () => ({ oid: world.msi.objectId })],
    ['user-assigned by resource ID', () => `resourceId=${world.msi2.resourceId}`, () => ({ oid: world.msi2.objectId })],
  ];
  it.each(cases)('%s: a token for ARM, audience kept exactly', async (_n, selector, expected) => {
    expect(missing(), `${name} cannot run here`).toBeUndefined();
    const r = await run(argv(selector()), injectedEnv('multi', 'all'));
    expect(r.code, `${name} failed:\n${r.stderr.slice(-2000)}`).toBe(0);
    expect(world.tenant.verify(r.stdout.trim())).toMatchObject({ aud: ARM, tid: world.tenant.id, ...expected() });
  });
  it('with only the App Service pair (--env-flavour both) it does not reach the sidecar', async () => {
    expect(missing(), `${name} cannot run here`).toBeUndefined();
    const r = await run(argv(`clientId=${world.msi.clientId}`), injectedEnv('multi', 'both'));
    expect(r.code).not.toBe(0);
  });
});

// A misconfiguration must fail in about a second with its reason, not look like an outage the SDK retries for a
// minute: podid answers these with statuses the SDKs do not retry (400, 403). The elapsed times are measured and
// printed (they go in the README), not asserted: what is asserted is that the client fails and names the reason.
const timeToError: string[] = [];
const failures: Array<[string, Pod, () => Selector, RegExp]> = [
  // msrestazure drops the body and shows only the status ("400 Client Error"), hence the status alternatives.
  ['no binding for the pod', 'nobinding', () => '', /identity_not_found|no AzureIdentityBinding|400 Client Error/],
  ['a client_id the pod does not hold', 'multi', () => `clientId=${world.msi2.objectId}`, /identity_not_found|holds no identity|400 Client Error/],
  ['Azure AD refuses the credential (wrong secret)', 'badsecret', () => '', /invalid_client|AADSTS|403 Client Error/],
];
const everyClient: Array<[string, () => string | undefined, (sel: Selector) => string[]]> = [
  ...clients.map((c): [string, () => string | undefined, (sel: Selector) => string[]] => [c.name, c.missing, (sel) => c.argv('mi', sel)]),
  ...oldClients,
];
describe.each(everyClient)('%s: misconfigurations fail at once with the reason', (name, missing, argv) => {
  it.each(failures)('%s', async (what, pod, selector, reason) => {
    expect(missing(), `${name} cannot run here`).toBeUndefined();
    const started = performance.now();
    const r = await run(
      argv(selector()).map((a) => (a === ARM ? RESOURCE : a)),
      { ...injectedEnv(pod, 'all'), COMPAT_TIMEOUT: '90s' },
    );
    const seconds = (performance.now() - started) / 1000;
    timeToError.push(`  ${name} | ${what} | ${seconds.toFixed(2)} s`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(reason);
  });
});

// The seeds' demo: a Key Vault secret read and a Blob upload by the real clients, the emulated services checking
// each bearer token (tenant signature, audience, expiry, and the identity's object id against their grants).
describe('Key Vault and Blob Storage with the real @azure/keyvault-secrets and @azure/storage-blob', () => {
  const dataplane = (mode: 'mi' | 'default', selector: Selector) =>
    run([node, join(ROOT, 'test/compat/clients/node-dataplane.mjs'), dataPlane.url, `${dataPlane.url}/${STORAGE_ACCOUNT}`, 'db-password', mode, selector], {
      ...injectedEnv('multi', 'all'),
      NODE_EXTRA_CA_CERTS: world.tls.caFile,
    });
  it.each(['mi', 'default'] as const)('%s credential: reads the secret and uploads a blob as the granted identity', async (mode) => {
    const before = dataPlane.requests.length;
    const r = await dataplane(mode, `clientId=${world.msi.clientId}`);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ secret: 'hunter2-from-the-vault', etag: expect.stringMatching(/^"0x/) });
    expect(dataPlane.blobs.get('uploads/hello.txt')?.toString()).toBe('hello from a podid pod');
    const seen = dataPlane.requests.slice(before);
    expect(seen.map((x) => [x.service, x.status])).toEqual([
      ['keyvault', 401], // the challenge, answered with a token for https://vault.azure.net
      ['keyvault', 200],
      ['blob', 201],
    ]);
    expect(seen.filter((x) => x.oid).every((x) => x.oid === world.msi.objectId)).toBe(true);
  });
  it('an identity the vault does not grant is refused (the services check the token, not just its presence)', async () => {
    const r = await dataplane('mi', `resourceId=${world.msi2.resourceId}`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/has no access|Forbidden/);
    expect(dataPlane.requests.at(-1)).toMatchObject({ service: 'keyvault', status: 403, oid: world.msi2.objectId });
  });
});

describe('Secrets Store CSI driver request shape (/host/token)', () => {
  it('GET /host/token/?resource with podname/podns answers {token: {access_token, expires_on, ...}, clientid}', async () => {
    const res = await fetch(`${nmi.url}/host/token/?resource=${encodeURIComponent(RESOURCE)}`, {
      headers: { podname: 'single', podns: 'demo' },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: Record<string, string>; clientid: string };
    const sp = world.identities.find((i) => i.name === 'sp-cert')!;
    expect(body.clientid).toBe(sp.clientID);
    // The driver decodes `token` as an ADAL token: string fields access_token, expires_in, expires_on, resource, token_type.
    for (const k of ['access_token', 'expires_in', 'expires_on', 'not_before', 'resource', 'token_type']) expect(typeof body.token[k]).toBe('string');
    expect(world.tenant.verify(body.token.access_token!)).toMatchObject({ aud: RESOURCE, appid: sp.clientID });
  });
  it('a pod holding two identities: the provider names none and gets the first by namespace/name, as under aad-pod-identity', async () => {
    const res = await fetch(`${nmi.url}/host/token/?resource=${encodeURIComponent(RESOURCE)}`, { headers: { podname: 'multi', podns: 'demo' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: Record<string, string>; clientid: string };
    expect(body.clientid).toBe(world.msi.clientId); // demo/app-msi sorts before demo/other-msi
    expect(world.tenant.verify(body.token.access_token!)).toMatchObject({ aud: RESOURCE, oid: world.msi.objectId });
  });
});

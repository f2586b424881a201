import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { UsageError, commandHelp, flag, parseFlags, switchFlag, types, type FlagSpec } from './flags.ts';
import { commands } from './podid.ts';

const loaded = await Promise.all(commands.map((c) => c.load()));
import { webhookFlags, webhookSettingsFrom } from './webhook-command.ts';

const run = promisify(execFile);
const podid = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, ['bin/podid.js', ...args], { env: { PATH: process.env.PATH, ...env }, timeout: 30_000 });

const specs = {
  listen: flag(types.string, { env: 'T_LISTEN', default: ':1', help: '' }),
  name: flag(types.string, { env: 'T_NAME', required: true, short: 'n', help: '' }),
  once: switchFlag({ env: 'T_ONCE', help: '' }),
};

describe('parseFlags', () => {
  const table: Array<[string, string[], NodeJS.ProcessEnv, Record<string, string | boolean> | string | undefined]> = [
    ['defaults and required from args', ['--name', 'a'], {}, { listen: ':1', name: 'a', once: false }],
    ['--flag=value form', ['--name=a=b'], {}, { listen: ':1', name: 'a=b', once: false }],
    ['env fills in', [], { T_NAME: 'e', T_LISTEN: ':2', T_ONCE: 'yes' }, { listen: ':2', name: 'e', once: true }],
    ['args beat env', ['--name', 'a', '--once=false'], { T_NAME: 'e', T_ONCE: 'true' }, { listen: ':1', name: 'a', once: false }],
    ['help', ['--name', 'a', '--help'], {}, undefined],
    ['missing required', [], {}, '--name (or T_NAME) is required'],
    ['unknown flag with a suggestion', ['--nam', 'a'], {}, 'unknown flag --nam (did you mean --name?)'],
    ['value missing', ['--name'], {}, '--name needs a value'],
    [
      'a flag is never taken as the value before it',
      ['--name', '--once'],
      {},
      '--name needs a value (got the flag --once; write --name=--once if that is the value)',
    ],
    ['--flag=--text takes it as the value', ['--name=--once'], {}, { listen: ':1', name: '--once', once: false }],
    ['bad boolean in env', ['--name', 'a'], { T_ONCE: 'maybe' }, 'T_ONCE: "maybe" is not a boolean'],
    ['positional argument', ['x'], {}, 'unexpected argument "x"'],
    ['a short alias', ['-n', 'short'], {}, { listen: ':1', name: 'short', once: false }],
    ['an unknown short flag', ['-z'], {}, 'unknown flag -z'],
  ];
  it.each(table)('%s', (_n, argv, env, want) => {
    if (typeof want === 'string') expect(() => parseFlags(specs, argv, env)).toThrow(want);
    else expect(parseFlags(specs, argv, env)).toEqual(want);
  });
});

describe('podid webhook settings', () => {
  const base = ['--tls-cert', 'c', '--tls-key', 'k'];
  const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => webhookSettingsFrom(parseFlags(webhookFlags, [...base, ...argv], env)!);

  it('builds the defaults', () => {
    const s = parse([]);
    expect(s.listen).toEqual({ host: undefined, port: 8443 });
    expect(s.limits.maxRequestBytes).toBe(3 * 1024 * 1024);
    expect(s.injection).toMatchObject({
      port: 2578,
      envFlavour: 'all',
      tokenExpirationSeconds: 3600,
      resources: { cpuLimit: undefined, memoryLimit: '128Mi' },
    });
  });
  it('reads every setting from the environment', () => {
    const s = parse([], {
      PODID_SIDECAR_PORT: '9000',
      PODID_ENV_FLAVOUR: 'imds',
      PODID_TOKEN_EXPIRATION: '20m',
      PODID_SIDECAR_CPU_LIMIT: '50m',
    });
    expect(s.injection).toMatchObject({ port: 9000, envFlavour: 'imds', tokenExpirationSeconds: 1200, resources: { cpuLimit: '50m' } });
  });
  const bad: Array<[string[], string]> = [
    [['--env-flavour', 'arc'], '--env-flavour: "arc" is not one of imds, appservice, both'],
    [['--token-expiration', '5m'], 'at least 10m'],
    [['--sidecar-port', '2577'], 'must differ'],
    [['--sidecar-memory-limit', 'lots'], 'not a Kubernetes quantity'],
    [['--listen', 'nowhere'], '--listen: "nowhere" is not host:port'],
    [['--sidecar-run-as-user', '0'], 'non-zero UID'],
  ];
  it.each(bad)('rejects %j', (argv, message) => {
    expect(() => parse(argv)).toThrow(UsageError);
    expect(() => parse(argv)).toThrow(message);
  });
});

describe('documentation', () => {
  const reference = readFileSync('docs/configuration.md', 'utf8');
  const allFlags = loaded.flatMap((c) => Object.entries(c.flags as Record<string, FlagSpec>).map(([name, f]) => [c.name, name, f] as const));
  it.each(allFlags)('docs/configuration.md documents podid %s --%s', (_cmd, name, spec) => {
    expect(reference).toContain(`\`--${name}\``);
    expect(reference).toContain(`\`${spec.env}\``);
  });
  it('lists each command under the name and summary the command itself declares', () => {
    expect(loaded.map((c) => [c.name, c.summary])).toEqual(commands.map((c) => [c.name, c.summary]));
  });
  it('podid migrate workload-identity --help documents what it prints and its exit codes', () => {
    const help = commandHelp(loaded.find((c) => c.name === 'migrate workload-identity')!);
    for (const part of [
      'federated identity credentials',
      'az identity federated-credential create',
      'ARM resources',
      'merge patches',
      'Warnings',
      'Exit codes',
    ])
      expect(help).toContain(part);
  });
  it('prints every flag with its env var in --help', () => {
    for (const c of loaded) for (const name of Object.keys(c.flags)) expect(commandHelp(c)).toContain(`--${name}`);
  });
});

describe('the podid executable', () => {
  it('runs the demo end to end and exits with --once', async () => {
    const { stdout } = await podid(['demo', '--once', '--listen', '127.0.0.1:0']);
    expect(stdout).toMatch(/podid webhook is serving https:\/\/127\.0\.0\.1:\d+/);
    expect(stdout).toContain('"name": "podid-token"');
    expect(stdout).toContain('"AZURE_POD_IDENTITY_AUTHORITY_HOST"');
    expect(stdout).toContain(`getSecret('db-password') with that credential: "hunter2-from-the-vault"`);
  });
  it('explains a missing flag with exit code 2', async () => {
    const err = await podid(['webhook']).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain(
      '--tls-cert and --tls-key (or PODID_TLS_CERT and PODID_TLS_KEY) are required unless --manage-certs is set',
    );
  });
  it('fails clearly when the certificate files are missing', async () => {
    const err = await podid(['webhook', '--listen', '127.0.0.1:0'], {
      PODID_TLS_CERT: '/nonexistent/tls.crt',
      PODID_TLS_KEY: '/nonexistent/tls.key',
    }).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toContain('/nonexistent/tls.crt');
  });
  it("answers --help for a command group, and names the group's commands when none is given", async () => {
    expect((await podid(['certs', '--help'])).stdout).toContain('podid certs init');
    const err = await podid(['certs', 'renew']).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain('podid certs init');
  });
  // What kubectl does: name the configuration sources it looked for (client-node alone would try http://localhost:8080).
  it.each([
    ['explain', 'pod', 'default/web'],
    ['migrate', 'check'],
    ['identity', 'list'],
    ['exception', 'list'],
  ])('podid %s %s without a cluster names the kubeconfig sources it tried', async (...args) => {
    const err = await podid(args, { HOME: '/nonexistent-home' }).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toContain(
      'no Kubernetes configuration found; tried --kubeconfig (not set), KUBECONFIG (not set), ~/.kube/config (/nonexistent-home/.kube/config: no such file), in-cluster (KUBERNETES_SERVICE_HOST is not set)',
    );
  });
  it('prints usage and the version', async () => {
    expect((await podid(['--help'])).stdout).toContain('webhook');
    expect((await podid(['--version'])).stdout.trim()).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });
});

describe('podid sidecar as a process', () => {
  it('serves, then exits 0 on SIGTERM (the kubelet stopping the pod)', async () => {
    const { startSidecarProcess } = await import('../test/sidecar-process.ts');
    const sidecar = await startSidecarProcess({ nmiUrl: 'http://127.0.0.1:9', tokenFile: '/nonexistent', identityHeader: 'h' });
    const live = await fetch(`${sidecar.healthUrl.replace('[::]', '127.0.0.1')}/livez`);
    expect(live.status).toBe(200);
    const exited = new Promise<number | null>((resolve) => sidecar.proc.once('exit', (code) => resolve(code)));
    sidecar.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

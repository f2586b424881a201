// The Dockerfile's steps carried out for real (test/image/dockerfile-steps.ts), then the final stage's
// entrypoint run from its file tree.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDockerfile, runDockerfile, type StageResult } from './dockerfile-steps.ts';

let stages: Map<string, StageResult>;
let final: StageResult;

beforeAll(async () => {
  stages = await runDockerfile('Dockerfile', process.cwd(), (s) => console.log(s));
  final = [...stages.values()].at(-1)!;
}, 900_000);

afterAll(async () => {
  if (final) await rm(dirname(final.root), { recursive: true, force: true });
});

/** The entrypoint's script path, with the image's node replaced by this machine's Node 24. */
function runImage(args: string[]) {
  const [, script, ...rest] = final.entrypoint!;
  return spawnSync(process.execPath, [join(final.root, script!), ...rest, ...args], {
    cwd: join(final.root, final.workdir),
    env: { PATH: process.env.PATH, ...final.env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('Dockerfile', () => {
  it('is multi-stage on Node 24 and runs as non-root', () => {
    const parsed = parseDockerfile(readFileSync('Dockerfile', 'utf8'));
    expect(parsed.length).toBeGreaterThanOrEqual(2);
    for (const s of parsed) expect(s.from).toMatch(/node(js)?:?24|nodejs24/);
    expect(final.user).toBe('65532:65532');
    expect(final.env.NODE_ENV).toBe('production');
  });

  it('ships compiled JavaScript and production dependencies only', () => {
    const app = join(final.root, final.workdir);
    expect(existsSync(join(app, 'dist/podid.js'))).toBe(true);
    expect(existsSync(join(app, 'dist/sidecar.js'))).toBe(true);
    expect(existsSync(join(app, 'cli'))).toBe(false);
    const modules = readdirSync(join(app, 'node_modules'));
    for (const dev of ['typescript', 'vitest', 'supertest', 'node']) expect(modules).not.toContain(dev);
    for (const prod of ['fast-json-patch', 'node-forge', 'js-yaml', '@azure']) expect(modules).toContain(prod);
    // Logging and metrics are podid's own (common/log.ts, common/prometheus.ts).
    for (const gone of ['pino', 'prom-client']) expect(modules).not.toContain(gone);
  });

  it('the sidecar stage: distroless, non-root, no node_modules, and the sidecar runs from it', () => {
    const sidecar = stages.get('sidecar')!;
    expect(parseDockerfile(readFileSync('Dockerfile', 'utf8')).find((s) => s.name === 'sidecar')!.from).toMatch(/^gcr\.io\/distroless\/nodejs24/);
    expect(sidecar.user).toBe('65532:65532');
    expect(existsSync(join(sidecar.root, sidecar.workdir, 'node_modules'))).toBe(false);
    // [node, ...node flags, script]: this machine's Node 24 stands in for the image's, with the image's flags.
    const ep = sidecar.entrypoint!;
    const at = ep.findIndex((a) => a.endsWith('.js'));
    expect(ep.slice(1, at)).toEqual(['--single-threaded', '--max-semi-space-size=1', '--max-old-space-size=12', '--optimize-for-size']);
    const run = (args: string[]) =>
      spawnSync(process.execPath, [...ep.slice(1, at), join(sidecar.root, ep[at]!), ...ep.slice(at + 1), ...args], {
        cwd: join(sidecar.root, sidecar.workdir),
        env: { PATH: process.env.PATH, ...sidecar.env },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const help = run([...(sidecar.cmd ?? []), '--help']);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('--token-file');
    // What needs npm packages is not in it: the webhook cannot start from the sidecar image.
    expect(run(['webhook', '--help']).status).not.toBe(0);
  });

  it('runs the podid entrypoint from the final stage', () => {
    const version = runImage(['--version']);
    expect(version.stderr).toBe('');
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = runImage(final.cmd ?? []);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^  webhook +HTTPS admission server/m);
    expect(runImage(['sidecar', '--help']).stdout).toContain('--token-file');
    // NMI's runtime dependencies (@azure/msal-node, @kubernetes/client-node) are in the image.
    expect(runImage(['nmi', '--help']).stdout).toContain('--intercept');
    const demo = runImage(['demo', '--once', '--listen', '127.0.0.1:0']);
    expect(demo.status).toBe(0);
    expect(demo.stdout).toContain('"name": "podid-token"');
  });
});

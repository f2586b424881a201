// The images the real node runs, built without a registry or a container engine and written as one docker-archive
// tarball that `ctr images import` reads (test/node/node.ts imports it into containerd's k8s.io namespace):
//   - ghcr.io/podid/podid:0.1.0 and ghcr.io/podid/podid-sidecar:0.1.0: the Dockerfile's own steps carried out by
//     test/image/dockerfile-steps.ts (npm ci, npm run build, the deps stage), each target's files as a layer on top
//     of a base layer standing in for its FROM image (the `node` npm package's Node 24 at the path the ENTRYPOINT
//     names, Debian's glibc, and for the servers iptables as the Dockerfile installs it), with the target's
//     ENTRYPOINT, CMD, ENV, WORKDIR and USER as the image config. Named as deploy/ names them, so deploy/ and the
//     chart are applied unchanged.
//   - podid.local/pause:3.10: kubernetes' own build/pause/linux/pause.c, compiled statically (containerd's
//     sandbox_image).
//   - podid.local/e2e-tools:1: Node 24 with @azure/identity (a real SDK, unmodified) and the scripts of
//     test/node/app/, plus Debian's Python 3 with the spoofing drill's attacker (test/netns/spoof.py).
// Cached in .cache/images by a hash of everything that goes in. Run before entering the test's network namespace
// (npm ci reaches the registry): `node test/node/images.ts`.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { runDockerfile, type StageResult } from '../image/dockerfile-steps.ts';

const ROOT = resolve(import.meta.dirname, '../..');
export const IMAGES_DIR = join(ROOT, '.cache/images');
export const IMAGES_ARCHIVE = join(IMAGES_DIR, 'podid-images.tar');
export const IMAGE = {
  podid: 'ghcr.io/podid/podid:0.1.0',
  sidecar: 'ghcr.io/podid/podid-sidecar:0.1.0',
  pause: 'podid.local/pause:3.10',
  tools: 'podid.local/e2e-tools:1',
} as const;

const NODE_BIN = realpathSync(join(ROOT, 'node_modules/node/bin/node'));
const PYTHON = '/usr/bin/python3.11';
const XTABLES = ['/usr/sbin/xtables-nft-multi', '/usr/sbin/xtables-legacy-multi'];

/** Every file an input of the images: the Dockerfile's context (what its COPY lines name) and this builder. */
function inputsHash(): string {
  const h = createHash('sha256');
  const add = (p: string) => {
    const s = statSync(p);
    if (s.isDirectory()) {
      for (const e of readdirSync(p).sort()) if (e !== 'node_modules') add(join(p, e));
    } else h.update(`${relative(ROOT, p)}\0`).update(readFileSync(p));
  };
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
  for (const p of ['Dockerfile', ...copied, 'test/node', 'test/netns/spoof.py', 'test/image/dockerfile-steps.ts']) add(join(ROOT, p));
  h.update(NODE_BIN).update(String(statSync(NODE_BIN).size));
  return h.digest('hex');
}

/** Copies host files into root at the same paths, links resolved (so a library's soname is a plain file). */
function copyHost(root: string, paths: string[]): void {
  for (const p of paths) {
    const to = join(root, p);
    mkdirSync(dirname(to), { recursive: true });
    cpSync(realpathSync(p), to, { recursive: true, dereference: true });
  }
}

/** The shared libraries a binary loads, from ldd (the loader included). */
function libraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  return [...out.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]!).filter((p) => !p.includes('linux-vdso'));
}

function etc(root: string): void {
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnonroot:x:65532:\n');
  mkdirSync(join(root, 'tmp'), { recursive: true, mode: 0o1777 });
  mkdirSync(join(root, 'home/nonroot'), { recursive: true });
}

/** The FROM images' part podid needs: Node 24 where both ENTRYPOINTs look for it, glibc, /etc and /tmp. */
function baseLayer(root: string): void {
  copyHost(root, libraries(NODE_BIN));
  mkdirSync(join(root, 'nodejs/bin'), { recursive: true });
  cpSync(NODE_BIN, join(root, 'nodejs/bin/node'));
  mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
  symlinkSync('/nodejs/bin/node', join(root, 'usr/local/bin/node'));
  etc(root);
}

/** Debian's iptables as the servers' Dockerfile stage installs it (nft and legacy, their modules). */
function iptablesLayer(root: string): void {
  copyHost(root, [...XTABLES, ...XTABLES.flatMap(libraries), '/usr/lib/x86_64-linux-gnu/xtables']);
  for (const flavour of ['nft', 'legacy'])
    for (const family of ['iptables', 'ip6tables'])
      for (const verb of ['', '-save', '-restore']) symlinkSync(`xtables-${flavour}-multi`, join(root, `usr/sbin/${family}-${flavour}${verb}`));
  for (const family of ['iptables', 'ip6tables'])
    for (const verb of ['', '-save', '-restore']) symlinkSync(`xtables-nft-multi`, join(root, `usr/sbin/${family}${verb}`));
}

/** A package and everything it requires, from node_modules (hoisted layout). */
function packageClosure(name: string, seen = new Set<string>()): Set<string> {
  if (seen.has(name)) return seen;
  seen.add(name);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'));
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }))
    if (existsSync(join(ROOT, 'node_modules', dep))) packageClosure(dep, seen);
  return seen;
}

/** The test tools: @azure/identity with its dependencies and the app scripts; Python 3 and the spoofing tool. */
function toolsLayer(root: string): void {
  for (const name of packageClosure('@azure/identity')) cpSync(join(ROOT, 'node_modules', name), join(root, 'app/node_modules', name), { recursive: true });
  cpSync(join(ROOT, 'test/node/app'), join(root, 'app'), { recursive: true });
  writeFileSync(join(root, 'app/package.json'), '{"type":"module","private":true}\n');
  copyHost(root, [PYTHON, ...libraries(PYTHON)]);
  const stdlib = '/usr/lib/python3.11';
  for (const e of readdirSync(stdlib))
    if (!['test', 'idlelib', 'tkinter', 'ensurepip', 'lib2to3', 'pydoc_data', 'site-packages', 'dist-packages'].includes(e) && !e.startsWith('config-'))
      cpSync(join(stdlib, e), join(root, stdlib, e), { recursive: true });
  cpSync(join(ROOT, 'test/netns/spoof.py'), join(root, 'app/spoof.py'));
}

function pauseLayer(root: string, work: string): void {
  const src = join(execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim(), 'k8s.io/kubernetes@v1.35.4/build/pause/linux/pause.c');
  mkdirSync(root, { recursive: true });
  execFileSync('gcc', ['-Os', '-static', '-DVERSION=v3.10-podid', '-o', join(root, 'pause'), src], { cwd: work });
  execFileSync('strip', [join(root, 'pause')]);
}

interface Layer {
  tar: string;
  diffId: string;
}

/** A directory as a layer tarball (numeric root ownership, fixed times), named by its digest. */
function layer(dir: string, out: string): Layer {
  const tmp = join(out, 'layer.tmp');
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', dir, '-cf', tmp, '.']);
  const digest = createHash('sha256').update(readFileSync(tmp)).digest('hex');
  mkdirSync(join(out, digest), { recursive: true });
  execFileSync('mv', [tmp, join(out, digest, 'layer.tar')]);
  return { tar: `${digest}/layer.tar`, diffId: `sha256:${digest}` };
}

interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
}

function fromStage(s: StageResult): ImageConfig {
  return {
    Entrypoint: s.entrypoint,
    Cmd: s.cmd,
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...Object.entries(s.env).map(([k, v]) => `${k}=${v}`)],
    WorkingDir: s.workdir,
    User: s.user,
  };
}

/** The stage's own files (what its COPY lines put under WORKDIR) as a layer directory. */
function stageFiles(s: StageResult, into: string): string {
  cpSync(join(s.root, s.workdir), join(into, s.workdir), { recursive: true });
  return into;
}

export async function buildImages(log: (s: string) => void = console.log): Promise<string> {
  const want = inputsHash();
  const stamp = join(IMAGES_DIR, '.built-from');
  if (existsSync(IMAGES_ARCHIVE) && existsSync(stamp) && readFileSync(stamp, 'utf8') === want) {
    log(`images are cached in ${IMAGES_ARCHIVE}`);
    return IMAGES_ARCHIVE;
  }
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'podid-images-'));
  try {
    const stages = await runDockerfile(join(ROOT, 'Dockerfile'), ROOT, (s) => log(`  ${s}`));
    const servers = [...stages.values()].at(-1)!;
    const sidecar = stages.get('sidecar')!;
    const out = join(work, 'archive');
    mkdirSync(out);
    const dir = (name: string) => {
      const d = join(work, name);
      mkdirSync(d);
      return d;
    };
    const base = dir('base');
    baseLayer(base);
    const iptables = dir('iptables');
    iptablesLayer(iptables);
    const tools = dir('tools');
    toolsLayer(tools);
    const pause = dir('pause');
    pauseLayer(pause, work);
    const L = {
      base: layer(base, out),
      iptables: layer(iptables, out),
      servers: layer(stageFiles(servers, dir('servers')), out),
      sidecar: layer(stageFiles(sidecar, dir('sidecar')), out),
      tools: layer(tools, out),
      pause: layer(pause, out),
    };
    const images: Array<[string, Layer[], ImageConfig]> = [
      [IMAGE.podid, [L.base, L.iptables, L.servers], fromStage(servers)],
      [IMAGE.sidecar, [L.base, L.sidecar], fromStage(sidecar)],
      [IMAGE.pause, [L.pause], { Entrypoint: ['/pause'], User: '65535:65535' }],
      [IMAGE.tools, [L.base, L.tools], { Entrypoint: ['/nodejs/bin/node'], WorkingDir: '/app', Env: ['PATH=/usr/bin:/bin:/nodejs/bin'] }],
    ];
    const manifest = images.map(([tag, layers, config]) => {
      const body = JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        created: '1970-01-01T00:00:00Z',
        config,
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      });
      const name = `${createHash('sha256').update(body).digest('hex')}.json`;
      writeFileSync(join(out, name), body);
      return { Config: name, RepoTags: [tag], Layers: layers.map((l) => l.tar) };
    });
    writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest));
    mkdirSync(IMAGES_DIR, { recursive: true });
    execFileSync('tar', ['-C', out, '-cf', `${IMAGES_ARCHIVE}.tmp`, '.']);
    execFileSync('mv', [`${IMAGES_ARCHIVE}.tmp`, IMAGES_ARCHIVE]);
    writeFileSync(stamp, want);
    rmSync(dirname(servers.root), { recursive: true, force: true });
    log(`images built in ${Math.round((Date.now() - started) / 1000)} s: ${images.map(([t]) => t).join(', ')}`);
    return IMAGES_ARCHIVE;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) await buildImages();

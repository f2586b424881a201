// Runs a Dockerfile's build steps without a container engine: each stage gets a directory standing in for
// its root filesystem, WORKDIR/COPY/ENV/RUN are carried out there with this machine's Node 24 and npm, and
// the final stage's ENTRYPOINT is run from its directory. The base images' own contents are not available,
// so this proves the steps and the file layout, not the images.

import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';

export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const joined = text.replace(/\\\n/g, ' ');
  const stages: Stage[] = [];
  // ARGs declared before the first FROM, with their defaults, substituted into FROM as ${NAME}.
  const globalArgs = new Map<string, string>();
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [, op, args] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    if (!op) throw new Error(`cannot parse Dockerfile line: ${line}`);
    const upper = op.toUpperCase();
    if (upper === 'ARG' && !stages.length) {
      const [name, value = ''] = args!.trim().split('=');
      globalArgs.set(name!, value);
      continue;
    }
    if (upper === 'FROM') {
      const from = args!.trim().replace(/\$\{(\w+)\}/g, (m, n: string) => globalArgs.get(n) ?? m);
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(from)!;
      stages.push({ name: m[2] ?? String(stages.length), from: m[1]!, instructions: [] });
    } else {
      if (!stages.length) throw new Error(`${op} before FROM`);
      stages.at(-1)!.instructions.push({ op: upper, args: args!.trim() });
    }
  }
  return stages;
}

export interface StageResult {
  root: string;
  workdir: string;
  env: Record<string, string>;
  entrypoint?: string[];
  cmd?: string[];
  user?: string;
}

/** Executes every stage; returns each stage's directory and final settings. Throws on a failing step. */
export async function runDockerfile(dockerfile: string, context: string, log: (s: string) => void = () => {}): Promise<Map<string, StageResult>> {
  const stages = parseDockerfile(await readFile(dockerfile, 'utf8'));
  const base = await mkdtemp(join(tmpdir(), 'podid-image-'));
  const results = new Map<string, StageResult>();
  for (const stage of stages) {
    const r: StageResult = { root: join(base, stage.name), workdir: '/', env: {} };
    await mkdir(r.root, { recursive: true });
    const inRoot = (root: string, p: string) => join(root, p);
    const abs = (p: string) => (isAbsolute(p) ? p : resolve(r.workdir, p));
    for (const { op, args } of stage.instructions) {
      log(`[${stage.name}] ${op} ${args}`);
      if (op === 'WORKDIR') {
        r.workdir = abs(args);
        await mkdir(inRoot(r.root, r.workdir), { recursive: true });
      } else if (op === 'ENV') {
        for (const m of args.matchAll(/(\w+)=(\S+)/g)) r.env[m[1]!] = m[2]!;
      } else if (op === 'USER') {
        r.user = args;
      } else if (op === 'ENTRYPOINT') {
        r.entrypoint = JSON.parse(args);
      } else if (op === 'CMD') {
        r.cmd = JSON.parse(args);
      } else if (op === 'COPY') {
        const parts = args.split(/\s+/);
        const from = parts[0]!.startsWith('--from=') ? parts.shift()!.slice('--from='.length) : undefined;
        const dest = parts.pop()!;
        const srcRoot = from ? results.get(from)?.root : undefined;
        if (from && !srcRoot) throw new Error(`COPY --from=${from}: no such earlier stage`);
        for (const src of parts) {
          const source = srcRoot ? inRoot(srcRoot, src) : join(context, src);
          const isDir = (await stat(source)).isDirectory();
          const target = inRoot(r.root, abs(dest));
          // Docker copies a directory's contents into dest, and a file into dest/ when dest ends with '/'.
          const to = isDir || !dest.endsWith('/') ? target : join(target, basename(src));
          await mkdir(isDir ? to : dirname(to), { recursive: true });
          await cp(source, to, { recursive: true });
        }
      } else if (op === 'RUN') {
        const env = { ...process.env, ...r.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
        const res = spawnSync('sh', ['-c', args], { cwd: inRoot(r.root, r.workdir), env, encoding: 'utf8', timeout: 600_000 });
        if (res.status !== 0) throw new Error(`[${stage.name}] RUN ${args} failed (${res.status}):\n${res.stdout}\n${res.stderr}`);
      } else {
        throw new Error(`unsupported Dockerfile instruction ${op}`);
      }
    }
    results.set(stage.name, r);
  }
  return results;
}

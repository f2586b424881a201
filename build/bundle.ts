// npm run build: podid's shipped JavaScript, bundled by esbuild (TypeScript types are checked by `npm run typecheck`).
//   dist/podid.js    the `podid` command (the default image's entrypoint); each command's code path is a chunk of its
//                    own, loaded when that command runs; npm packages stay in node_modules.
//   dist/sidecar.js  `podid sidecar` alone in one file (the sidecar image's entrypoint): node: built-ins and podid's
//                    own code only, and no built-in imported as an ES module (see common/builtins.ts); checked here.
// One file per code path starts faster than ~60 modules resolved and read one by one (bench/sidecar.ts measures it).
// esbuild: the `esbuild` npm package with its platform binary (@esbuild/linux-x64), installed by npm here and in
// the image's build stage.

import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { rm } from 'node:fs/promises';

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * The source of a module standing in for a node: built-in: the built-in through process.getBuiltinModule, its data
 * and function properties as named exports. An ES module import of a built-in builds Node's ESM facade, which reads
 * every export: node:http's and node:https's load undici (fetch, WebSocket) for ~3 MiB of private memory in every
 * podid process (measured on Node 24: 15.0 → 11.9 MiB for a script importing the two). Accessor properties (lazy
 * getters such as http.WebSocket) are left out, so nothing is loaded until used; importing one fails the build.
 */
export function builtinModuleSource(name: string): string {
  const mod = process.getBuiltinModule(name) as Record<string, unknown>;
  const names = Object.keys(mod).filter(
    (k) => k !== 'default' && IDENTIFIER.test(k) && Object.getOwnPropertyDescriptor(mod, k) && !Object.getOwnPropertyDescriptor(mod, k)!.get,
  );
  return [`const m = process.getBuiltinModule(${JSON.stringify(name)});`, 'export default m;', ...names.map((k) => `export const ${k} = m.${k};`)].join('\n');
}

const builtinsWithoutFacades: Plugin = {
  name: 'builtins-without-esm-facades',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({ contents: builtinModuleSource(args.path), loader: 'js' }));
  },
};

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  packages: 'external',
  // Smaller files parse faster; names are kept so stack traces and error messages still read.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  plugins: [builtinsWithoutFacades],
};

/** Imports the sidecar bundle leaves to the runtime: none may name an npm package or a built-in by ESM import. */
export function sidecarExternalImports(meta: Metafile): string[] {
  return Object.values(meta.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path));
}

export async function bundle(outdir = 'dist'): Promise<void> {
  await rm(outdir, { recursive: true, force: true });
  await build({ ...common, entryPoints: { podid: 'cli/main.ts' }, outdir, splitting: true, chunkNames: 'chunk-[hash]' });
  const sidecar = await build({ ...common, entryPoints: { sidecar: 'cli/sidecar-main.ts' }, outdir });
  const external = sidecarExternalImports(sidecar.metafile!);
  if (external.length) throw new Error(`the sidecar bundle imports ${external.join(', ')}: it may load podid's own code only`);
}

if (import.meta.main) await bundle();

// The per-pod sidecar loads node: built-ins and podid's own modules only, and no built-in through an ESM import:
// a built-in's ESM facade evaluates all its exports (node:http's pulls in undici, ~15 MB per pod; node:crypto's
// and node:fs's cost milliseconds of start-up). They come from process.getBuiltinModule (common/builtins.ts).
// Walks the static import graph from the command's module, as the process would load it.

import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
/** Value imports (not `import type`) and re-exports with a source. */
const IMPORT = /^(?:import|export)\s+(?!type\s)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

function graph(entry: string): { files: string[]; external: string[] } {
  const seen = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(join(dirname(file), spec));
      else external.add(`${spec} (from ${relative(root, file)})`);
    }
  };
  visit(join(root, entry));
  return { files: [...seen].map((f) => relative(root, f)), external: [...external] };
}

describe('podid sidecar imports', () => {
  const { files, external } = graph('cli/sidecar-command.ts');

  it('reaches the sidecar, the shared token contract and its helpers', () => {
    expect(files).toEqual(expect.arrayContaining(['sidecar/server.ts', 'sidecar/nmi-client.ts', 'tokens/nmi-contract.ts', 'common/http-error.ts']));
  });
  it('loads no npm package', () => {
    expect(external.filter((e) => !e.startsWith('node:'))).toEqual([]);
  });
  it('imports no built-in as an ES module', () => {
    expect(external).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { builtinModuleSource, sidecarExternalImports } from './bundle.ts';

describe('built-ins in the bundles', () => {
  it('exports node:http through process.getBuiltinModule, functions by name, lazy getters left out', () => {
    const src = builtinModuleSource('node:http');
    expect(src).toMatch(/^const m = process\.getBuiltinModule\("node:http"\);/);
    expect(src).toContain('export const createServer = m.createServer;');
    // http.WebSocket is a getter that loads undici: exporting it would load undici at start, as the ESM facade does.
    expect(Object.getOwnPropertyDescriptor(process.getBuiltinModule('node:http'), 'WebSocket')?.get).toBeTypeOf('function');
    expect(src).not.toContain('WebSocket');
    expect(src).not.toMatch(/\bimport\b/);
  });

  it("lists what a bundle leaves to the runtime (the sidecar's must be nothing)", () => {
    const meta = {
      inputs: {},
      outputs: {
        'dist/sidecar.js': {
          imports: [
            { path: 'pino', kind: 'import-statement', external: true },
            { path: 'dist/chunk.js', kind: 'import-statement' },
          ],
        },
      },
    };
    expect(sidecarExternalImports(meta as never)).toEqual(['pino']);
  });
});

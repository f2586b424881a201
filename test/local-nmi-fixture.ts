// Vitest fixtures over emulators/local-nmi.ts (kept apart so the demo and the benchmarks never load vitest).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { NmiSettings } from '../nmi/server.ts';
import { startWorld, type World } from '../emulators/world.ts';
import { startLocalNmi, type LocalNmi, type LocalNmiOptions } from '../emulators/local-nmi.ts';

export interface LocalNmiFixture {
  readonly dir: string;
  readonly world: World;
  readonly nmi: LocalNmi;
}

/** For a test file or describe block: a temp dir, an emulated world and a local NMI, started before and stopped after. */
export function localNmiFixture(prefix: string, settings: Partial<NmiSettings> = {}, opts: LocalNmiOptions = {}): LocalNmiFixture {
  const f: { dir?: string; world?: World; nmi?: LocalNmi } = {};
  beforeAll(async () => {
    f.dir = await mkdtemp(join(tmpdir(), `podid-${prefix}-`));
    f.world = await startWorld(f.dir);
    f.nmi = await startLocalNmi(f.world, f.dir, settings, opts);
  });
  afterAll(async () => {
    await f.nmi?.close();
    await f.world?.close();
    if (f.dir) await rm(f.dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return f.dir!;
    },
    get world() {
      return f.world!;
    },
    get nmi() {
      return f.nmi!;
    },
  };
}

/** Another local NMI over a fixture's world (other settings), started before and stopped after the block. */
export function extraNmi(fixture: LocalNmiFixture, settings: Partial<NmiSettings>): { readonly nmi: LocalNmi } {
  let nmi: LocalNmi | undefined;
  beforeAll(async () => {
    nmi = await startLocalNmi(fixture.world, fixture.dir, settings);
  });
  afterAll(async () => nmi?.close());
  return {
    get nmi() {
      return nmi!;
    },
  };
}

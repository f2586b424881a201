// Child process of bench/nmi.ts: NMI (in-process wiring) over the emulators with BENCH_PODS pods and
// BENCH_IDENTITIES identities and bindings in its indexes. Prints {"url", "tokensFile"} when ready.

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorld } from '../test/emulators/world.ts';
import { startLocalNmi } from '../test/local-nmi.ts';
import { bigNode } from './nmi-fixture.ts';

const dir = await mkdtemp(join(tmpdir(), 'podid-bench-nmi-'));
const world = await startWorld(dir);
const nmi = await startLocalNmi(world, dir);
const fixture = bigNode(Number(process.env.BENCH_PODS ?? 0), Number(process.env.BENCH_IDENTITIES ?? 0));
for (const i of fixture.identities) {
  world.tenant.managedIdentities.push({
    clientId: i.clientID!,
    objectId: i.objectID!,
    resourceId: `/subscriptions/0/resourcegroups/bench/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${i.name}`,
  });
  nmi.store.upsertIdentity(i);
}
for (const b of fixture.bindings) nmi.store.upsertBinding(b);
const tokens = fixture.pods.map((p) => nmi.addPod(p));
const tokensFile = join(dir, 'tokens.json');
await writeFile(tokensFile, JSON.stringify(tokens));
globalThis.gc?.();
process.stdout.write(`${JSON.stringify({ url: nmi.url, tokensFile })}\n`);
process.on('SIGTERM', () => process.exit(0));

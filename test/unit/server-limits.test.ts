// No client holds NMI or the sidecar: idle connections are closed, connections past the cap are refused, and
// oversized requests get a JSON 414/431 instead of a reset. Both servers, the same table.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultServerLimits, type ServerLimits } from '../../common/serve.ts';
import { nmiClient } from '../../sidecar/nmi-client.ts';
import { startSidecar, type RunningSidecar } from '../../sidecar/server.ts';
import { startWorld, type World } from '../../emulators/world.ts';
import { startLocalNmi, type LocalNmi } from '../../emulators/local-nmi.ts';

const limits: ServerLimits = { ...defaultServerLimits, maxConnections: 8, idleTimeoutMs: 300, maxUrlLength: 4096 };

let dir: string;
let world: World;
let nmi: LocalNmi;
let sidecar: RunningSidecar;
const servers: Record<string, () => URL> = {
  NMI: () => new URL(nmi.url),
  sidecar: () => new URL(sidecar.tokenUrl),
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podid-limits-'));
  world = await startWorld(dir);
  nmi = await startLocalNmi(world, dir, { limits });
  await writeFile(join(dir, 'token'), 'unused');
  sidecar = await startSidecar(
    {
      listen: { host: '127.0.0.1', port: 0 },
      healthListen: { host: '127.0.0.1', port: 0 },
      identityHeader: 'h',
      refreshAheadSeconds: 300,
      maxEntries: 8,
      limits,
    },
    nmiClient(nmi.url, join(dir, 'token')),
    () => {},
  );
});
afterAll(async () => {
  await sidecar?.close();
  await nmi?.close();
  await world?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Probe {
  socket: Socket;
  closed: Promise<number>;
  data: () => string;
}

/** A raw connection; `closed` resolves with the ms from connect to close. */
function open(url: URL): Promise<Probe> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect(Number(url.port), url.hostname);
    const start = Date.now();
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now() - start)));
    socket.on('data', (d) => (text += d.toString()));
    socket.once('error', () => {});
    socket.once('connect', () => resolve({ socket, closed, data: () => text }));
    socket.once('error', reject);
  });
}

async function rawRequest(url: URL, head: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const probe = await open(url);
  probe.socket.write(head);
  await probe.closed;
  const text = probe.data();
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]);
  return { status, body: JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) };
}

describe.each(Object.keys(servers))('%s connection limits', (name) => {
  const url = () => servers[name]!();

  it('closes connections that stay idle past the idle timeout', async () => {
    const probes = await Promise.all(Array.from({ length: 6 }, () => open(url())));
    const lifetimes = await Promise.all(probes.map((p) => p.closed));
    for (const ms of lifetimes) expect(ms).toBeLessThan(5_000);
  });

  it('answers a URL over the limit with JSON 414', async () => {
    const r = await rawRequest(url(), `GET /metadata/identity/oauth2/token?resource=${'x'.repeat(5000)} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
    expect(r).toMatchObject({ status: 414, body: { error: 'uri_too_long' } });
  });

  it('answers headers over the parser limit with JSON 431, not a reset', async () => {
    const r = await rawRequest(url(), `GET /metadata/identity/oauth2/token HTTP/1.1\r\nhost: x\r\nx-big: ${'y'.repeat(20_000)}\r\n\r\n`);
    expect(r).toMatchObject({ status: 431, body: { error: 'request_too_large' } });
  });

  it('answers garbage with JSON 400', async () => {
    const r = await rawRequest(url(), 'NOT HTTP AT ALL\r\n\r\n');
    expect(r).toMatchObject({ status: 400, body: { error: 'bad_request' } });
  });
  it('refuses connections past the cap as they arrive', async () => {
    const probes = await Promise.all(Array.from({ length: 20 }, () => open(url())));
    const early = await Promise.all(probes.map((p) => Promise.race([p.closed.then(() => true), new Promise((r) => setTimeout(() => r(false), 150))])));
    expect(early.filter(Boolean).length).toBeGreaterThanOrEqual(20 - limits.maxConnections);
    for (const p of probes) p.socket.destroy();
    await Promise.all(probes.map((p) => p.closed));
    await new Promise((r) => setTimeout(r, 100)); // the server sees the closes before the next table row
  });
});

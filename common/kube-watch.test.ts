// runWatches and KubeClient against a small fake API server speaking the list and watch wire format: pages with
// `continue`, watch streams of JSON lines, bookmarks, 410 Gone and failures.

import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCA, createServingCert } from '../certs/generate.ts';
import { kubeClient, KubeError, type KubeClient } from './kube-client.ts';
import { createLogger } from './log.ts';
import { runWatches, type Meta } from './kube-watch.ts';
import { closeServer, listenOn } from './serve.ts';

type Obj = { metadata: { name: string; namespace: string; resourceVersion: string } };
const obj = (name: string, rv: number): Obj => ({ metadata: { name, namespace: 'ns', resourceVersion: String(rv) } });

/** The fake collection `/api/v1/things`: its objects, the requests seen, and the open watch streams. */
const state = {
  items: [] as Obj[],
  rv: 10,
  requests: [] as string[],
  watches: [] as ServerResponse[],
  /** Answer the next watch with this status instead of a stream. */
  failNextWatch: 0,
};

let server: Server;
let client: KubeClient;
const ca = createCA({ commonName: 'test CA', validityDays: 1 });

beforeAll(async () => {
  const serving = createServingCert(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 1 });
  server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    const url = new URL(req.url!, 'https://x');
    state.requests.push(`${req.method} ${url.pathname}${url.search} ${req.headers.authorization ?? ''}`);
    if (url.pathname === '/api/v1/status/teapot') {
      res.writeHead(418, { 'content-type': 'application/json', 'retry-after': '7' });
      return res.end(JSON.stringify({ kind: 'Status', reason: 'Teapot', message: 'short and stout' }));
    }
    if (url.searchParams.get('watch')) {
      if (state.failNextWatch) {
        res.writeHead(state.failNextWatch, { 'content-type': 'application/json' });
        state.failNextWatch = 0;
        return res.end(JSON.stringify({ kind: 'Status', code: 500, message: 'boom' }));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      state.watches.push(res);
      return;
    }
    // A list in pages of `limit`, `continue` naming the next index.
    const limit = Number(url.searchParams.get('limit') ?? 1000);
    const from = Number(url.searchParams.get('continue') ?? 0);
    const page = state.items.slice(from, from + limit);
    const next = from + limit < state.items.length ? String(from + limit) : undefined;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'List', metadata: { resourceVersion: String(state.rv), ...(next ? { continue: next } : {}) }, items: page }));
  });
  const url = await listenOn(server, '127.0.0.1', 0, 'https');
  client = kubeClient({ server: url, ca: Buffer.from(ca.certPem), token: 'test-token' });
});

afterAll(async () => {
  client.close();
  for (const w of state.watches) w.destroy();
  await closeServer(server, true);
});

const send = (type: string, object: unknown) => state.watches.at(-1)!.write(`${JSON.stringify({ type, object })}\n`);
const until = async (what: string, ok: () => boolean, ms = 2000) => {
  for (let i = 0; i < ms / 10 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!ok()) throw new Error(`timed out: ${what}`);
};

describe('KubeClient', () => {
  it('reads a Status into a KubeError: status, reason, message and Retry-After', async () => {
    const err = await client.request('GET', '/api/v1/status/teapot').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect(err).toMatchObject({ status: 418, reason: 'Teapot', retryAfterSeconds: 7, message: 'GET /api/v1/status/teapot: HTTP 418: short and stout' });
    expect(state.requests.at(-1)).toContain('Bearer test-token');
  });

  it('lists every page and returns the resourceVersion', async () => {
    state.items = Array.from({ length: 5 }, (_, i) => obj(`o${i}`, i + 1));
    state.requests = [];
    const list = await client.list<Obj>('/api/v1/things', { labelSelector: 'a=b' }, 2);
    expect(list.items.map((o) => o.metadata.name)).toEqual(['o0', 'o1', 'o2', 'o3', 'o4']);
    expect(list.resourceVersion).toBe('10');
    expect(state.requests).toHaveLength(3);
    expect(state.requests[1]).toContain('continue=2');
    expect(state.requests[1]).toContain('labelSelector=a%3Db');
  });
});

describe('runWatches', () => {
  it('lists, follows the watch, relists on 410 Gone and on a failed watch, and removes what a relist lost', async () => {
    state.items = [obj('a', 1), obj('b', 2)];
    state.watches = [];
    const seen = new Map<string, string>();
    let changes = 0;
    const stop = await runWatches(
      client,
      [
        {
          path: '/api/v1/things',
          fieldSelector: 'spec.nodeName=n1',
          upsert: (o: Meta) => void seen.set(o.metadata!.name!, o.metadata!.resourceVersion!),
          remove: (o: Meta) => void seen.delete(o.metadata!.name!),
        },
      ],
      createLogger('test', 'silent'),
      () => changes++,
    );
    try {
      // Synced: the list is in before runWatches resolves.
      expect([...seen.keys()]).toEqual(['a', 'b']);
      await until('the watch', () => state.watches.length === 1);
      const watch = state.requests.find((r) => r.includes('watch=1'))!;
      expect(watch).toContain('resourceVersion=10');
      expect(watch).toContain('fieldSelector=spec.nodeName%3Dn1');
      expect(watch).toContain('allowWatchBookmarks=true');

      send('ADDED', obj('c', 11));
      send('MODIFIED', obj('a', 12));
      send('DELETED', obj('b', 13));
      send('BOOKMARK', { metadata: { resourceVersion: '14' } });
      await until('the events', () => seen.size === 2 && seen.get('a') === '12' && seen.has('c'));

      // 410: the version is gone; the relist no longer has c, which is removed without a DELETED event.
      state.items = [obj('a', 12), obj('d', 15)];
      state.rv = 20;
      send('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
      await until('the relist', () => seen.has('d') && !seen.has('c'));
      expect(changes).toBeGreaterThanOrEqual(4);

      // The server ends a stream (its timeout): the watch resumes from the last version, with no relist.
      await until('the second watch', () => state.watches.length === 2);
      const lists = state.requests.filter((r) => !r.includes('watch=1')).length;
      send('ADDED', obj('e', 21));
      await until('e', () => seen.has('e'));
      state.watches.at(-1)!.end();
      await until('the resumed watch', () => state.watches.length === 3);
      expect(state.requests.filter((r) => !r.includes('watch=1')).length).toBe(lists);
      expect(state.requests.filter((r) => r.includes('watch=1')).at(-1)).toContain('resourceVersion=21');

      // A watch the server refuses: a relist after 3 s, then a new watch.
      state.failNextWatch = 500;
      state.items = [obj('a', 12)];
      state.watches.at(-1)!.end();
      await until('the relist after a failed watch', () => seen.size === 1, 5000);
      await until('the watch after it', () => state.watches.length === 4);
    } finally {
      stop();
    }
  });

  it('rejects when an initial list fails', async () => {
    const bad = kubeClient({ server: 'https://127.0.0.1:1', ca: Buffer.from(ca.certPem) });
    await expect(runWatches(bad, [{ path: '/api/v1/things', upsert: () => {}, remove: () => {} }], createLogger('test', 'silent'), () => {})).rejects.toThrow(
      /ECONNREFUSED/,
    );
  });
});

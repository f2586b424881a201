import { createServer, type Server } from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCA, createServingCert } from '../certs/generate.ts';
import { listenOn, closeServer } from './serve.ts';
import { kubeConfig } from './kube-config.ts';

let server: Server;
let connections = 0;
let dir: string;
let kubeconfigPath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podid-kubeconfig-'));
  const ca = createCA({ commonName: 'test CA', validityDays: 1 });
  const serving = createServingCert(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 1 });
  server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    const [, , , , namespace, , name] = (req.url ?? '').split('?')[0]!.split('/');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace } }));
  });
  server.on('secureConnection', () => connections++);
  const url = await listenOn(server, '127.0.0.1', 0, 'https');
  kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(join(dir, 'ca.crt'), ca.certPem);
  await writeFile(
    kubeconfigPath,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: url, 'certificate-authority': join(dir, 'ca.crt') } }],
      users: [{ name: 'u', user: { token: 'not-a-real-token' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
});

afterAll(async () => {
  await closeServer(server, true);
  await rm(dir, { recursive: true, force: true });
});

async function connectionsFor(kc: KubeConfig, calls: number): Promise<number> {
  const before = connections;
  const core = kc.makeApiClient(CoreV1Api);
  for (let i = 0; i < calls; i++) expect((await core.readNamespacedPod({ name: `p${i}`, namespace: 'ns' })).metadata?.name).toBe(`p${i}`);
  return connections - before;
}

describe('kubeConfig', () => {
  // undici's pool may open a second connection while the previous response's body is still being released.
  it('reuses keep-alive connections for sequential API calls', async () => {
    expect(await connectionsFor(kubeConfig(kubeconfigPath), 20)).toBeLessThanOrEqual(2);
  });

  // Why the pool exists: client-node 2.0.1's applySecurityAuthentication builds a new undici Agent per call. When
  // this fails, the client reuses connections itself and poolConnections can go.
  it('is needed: a plain client-node KubeConfig opens a connection per call', async () => {
    const plain = new KubeConfig();
    plain.loadFromFile(kubeconfigPath);
    expect(await connectionsFor(plain, 3)).toBe(3);
  });
});

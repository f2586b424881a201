// `podid identity` and `podid exception`, the real commands against the real apiserver: create writes objects
// podid serves pods from, list shows which pods each identity serves, delete removes the identity and its
// bindings, --dry-run writes nothing, and an existing object is never overwritten.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureCrds, kube, kubeJson, kubectl } from './kube.ts';

const exec = promisify(execFile);
const cluster = inject('cluster');
const NS = 'e2e-identity-cli';
const RID = '/subscriptions/s/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/reader';
const CLIENT = '44444444-4444-4444-4444-444444444444';

const podid = (args: string[]) =>
  exec(process.execPath, ['bin/podid.js', ...args, '--kubeconfig', cluster.kubeconfig], { timeout: 60_000 }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

beforeAll(async () => {
  await ensureCrds(cluster);
  await kube(cluster, ['create', 'namespace', NS]);
  // podid's own namespace label: other files' webhooks leave these pods as written.
  await kube(cluster, ['label', 'namespace', NS, 'podid.io/control-plane=true']);
  const pod = (name: string, selector: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { aadpodidbinding: selector } },
    spec: { containers: [{ name: 'c', image: 'x' }] },
  });
  await kube(
    cluster,
    ['apply', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [pod('web-1', 'cli-reader'), pod('web-2', 'cli-reader'), pod('other', 'nobody')] }),
  );
});

describe('podid identity / exception with the real apiserver', () => {
  it('--dry-run prints the objects and writes nothing', async () => {
    const r = await podid(['identity', 'create', 'reader', '-n', NS, '--client-id', CLIENT, '--resource-id', RID, '--selector', 'cli-reader', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('kind: AzureIdentity\n');
    expect(r.stdout).toContain('selector: cli-reader');
    expect((await kubeJson(cluster, ['get', 'azureidentities', '-n', NS])).items).toEqual([]);
  });

  it('create writes the identity and binding; list shows the pods it serves; a second create refuses', async () => {
    const created = await podid(['identity', 'create', 'reader', '--namespace', NS, '--client-id', CLIENT, '--resource-id', RID, '--selector', 'cli-reader']);
    expect(created.code, created.stderr).toBe(0);
    expect((await kubeJson(cluster, ['get', 'azureidentity', 'reader', '-n', NS])).spec).toEqual({ type: 0, clientID: CLIENT, resourceID: RID });
    const list = await podid(['identity', 'list', '--namespace', NS]);
    expect(list.stdout, list.stderr).toMatch(new RegExp(`${NS}/reader\\s+0\\s+${CLIENT}\\s+cli-reader\\s+2 \\(${NS}/web-1, ${NS}/web-2\\)`));
    const again = await podid(['identity', 'create', 'reader', '--namespace', NS, '--client-id', CLIENT, '--selector', 'cli-reader']);
    expect(again).toMatchObject({ code: 1, stderr: expect.stringContaining(`AzureIdentity ${NS}/reader already exists`) });
  });

  it('exception add / list / delete', async () => {
    expect((await podid(['exception', 'add', 'csi', '--namespace', NS, '--pod-labels', 'app=csi,tier=node'])).code).toBe(0);
    expect((await podid(['exception', 'list', '--namespace', NS])).stdout).toMatch(new RegExp(`${NS}/csi\\s+app=csi,tier=node`));
    expect((await podid(['exception', 'delete', 'csi', '--namespace', NS])).code).toBe(0);
    expect((await kubeJson(cluster, ['get', 'azurepodidentityexceptions', '-n', NS])).items).toEqual([]);
  });

  it('delete removes the identity and the bindings naming it; a second delete says not found', async () => {
    const r = await podid(['identity', 'delete', 'reader', '--namespace', NS]);
    expect(r.stdout).toContain('azureidentitybinding.aadpodidentity.k8s.io/reader-binding deleted');
    expect((await kubectl(cluster, ['get', 'azureidentitybindings', '-n', NS, '-o', 'name'])).stdout).toBe('');
    expect(await podid(['identity', 'delete', 'reader', '--namespace', NS])).toMatchObject({ code: 1, stderr: expect.stringContaining('not found') });
  });

  it('bad input: a clear usage error, exit 2', async () => {
    expect(await podid(['identity', 'create', 'sp', '--type', '1', '--client-id', CLIENT, '--selector', 'x', '--dry-run'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--type 1 needs --client-id and --tenant-id'),
    });
    expect(await podid(['exception', 'add', 'e', '--pod-labels', 'novalue', '--dry-run'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('is not key=value'),
    });
  });
});

// NMI's named handlers, each called alone with a context of its own (no server, no informer).

import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../common/http-error.ts';
import type { NodePod } from './pod-index.ts';
import { hostToken, metadataPassThrough, podNamed, podOf, route, sidecarToken, type NmiContext } from './server.ts';

const web: NodePod = { namespace: 'apps', name: 'web', uid: 'uid-1', labels: {} } as unknown as NodePod;

function context(known: NodePod[], forgotten: string[] = []): NmiContext {
  const pods = {
    waitByName: async (ns: string, name: string) => known.find((p) => p.namespace === ns && p.name === name),
    wasForgotten: (uid: string) => forgotten.includes(uid),
  };
  return { settings: { nodeName: 'node-a', podWaitMs: 1, nodeIPs: [] }, parts: { pods } } as unknown as NmiContext;
}

const refusal = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return err instanceof HttpError ? [err.status, err.code] : err;
  }
  return 'served';
};

describe('route', () => {
  const req = (method: string) => ({ method }) as IncomingMessage;
  it.each([
    ['GET', '/sidecar/token', 'a token endpoint'],
    ['GET', '/host/token', 'a token endpoint'],
    ['GET', '/metadata/identity/oauth2/token', 'a token endpoint'],
    ['GET', '/metadata/Identity/OAuth2/Token', 'a token endpoint'],
    ['GET', '/metadata/instance', 'metadataPassThrough'],
    ['POST', '/metadata/instance', 'metadataPassThrough'],
    ['POST', '/sidecar/token', '405'],
    ['GET', '/nothing', 'none'],
  ])('%s %s → %s', (method, path, expected) => {
    const r = route(req(method), path);
    const name = r === undefined ? 'none' : r === metadataPassThrough ? 'metadataPassThrough' : r.length === 0 ? '405' : 'a token endpoint';
    expect(name).toBe(expected);
  });
  it('names its handlers', () => expect([sidecarToken.name, hostToken.name, podOf.name]).toEqual(['sidecarToken', 'hostToken', 'podOf']));
});

describe('podNamed and podOf: which pod a request is for', () => {
  it.each([
    ['a pod of this node', () => podNamed(context([web]), 'apps', 'web', 'node-a'), 'served'],
    ['a token naming another node', () => podNamed(context([web]), 'apps', 'web', 'node-b'), [403, 'pod_not_on_node']],
    ['a pod not yet seen', () => podNamed(context([]), 'apps', 'web'), [503, 'pod_not_yet_known']],
    [
      'a caller whose pod was deleted',
      () => podOf(context([web], ['uid-1']), { namespace: 'apps', podName: 'web', podUID: 'uid-1' } as never),
      [401, 'unauthorized'],
    ],
    ['a recreated namesake', () => podOf(context([web]), { namespace: 'apps', podName: 'web', podUID: 'uid-0' } as never), [403, 'pod_not_on_node']],
  ] as const)('%s', async (_name, call, outcome) => expect(await refusal(call())).toEqual(outcome));
});

import { describe, expect, it } from 'vitest';
import { findKubeSource, IN_CLUSTER_DIR } from './kube-source.ts';

const TOKEN = `${IN_CLUSTER_DIR}/token`;

describe('findKubeSource (kubectl order: --kubeconfig, KUBECONFIG, ~/.kube/config, in-cluster)', () => {
  const found: Array<[string, Parameters<typeof findKubeSource>[0], unknown]> = [
    ['the flag, unchecked (reading it names the file)', { flag: '/x/kc', env: {}, home: '/h', exists: () => false }, { kind: 'file', path: '/x/kc' }],
    ['the first existing KUBECONFIG entry', { env: { KUBECONFIG: '/a:/b' }, home: '/h', exists: (p) => p === '/b' }, { kind: 'file', path: '/b' }],
    ['~/.kube/config', { env: {}, home: '/h', exists: (p) => p === '/h/.kube/config' }, { kind: 'file', path: '/h/.kube/config' }],
    ['in-cluster', { env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, home: '/h', exists: (p) => p === TOKEN }, { kind: 'in-cluster', host: '10.0.0.1' }],
  ];
  it.each(found)('finds %s', (_name, inputs, source) => {
    expect(findKubeSource(inputs)).toEqual(source);
  });

  it('names every source tried when none is there', () => {
    expect(() => findKubeSource({ env: {}, home: '/h', exists: () => false })).toThrow(
      'no Kubernetes configuration found; tried --kubeconfig (not set), KUBECONFIG (not set), ~/.kube/config (/h/.kube/config: no such file), in-cluster (KUBERNETES_SERVICE_HOST is not set). Pass --kubeconfig FILE or set KUBECONFIG',
    );
    expect(() => findKubeSource({ env: { KUBECONFIG: '/gone', KUBERNETES_SERVICE_HOST: 'h' }, home: '/h', exists: () => false })).toThrow(
      `KUBECONFIG (/gone: no such file), ~/.kube/config (/h/.kube/config: no such file), in-cluster (${TOKEN}: no such file)`,
    );
  });
});

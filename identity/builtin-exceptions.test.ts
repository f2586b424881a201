import { describe, expect, it } from 'vitest';
import { DEFAULT_BUILTIN_EXCEPTIONS, parseBuiltinExceptions } from './builtin-exceptions.ts';

describe('built-in exceptions', () => {
  it('defaults to the AKS add-on exception', () => {
    expect(parseBuiltinExceptions(DEFAULT_BUILTIN_EXCEPTIONS)).toEqual([
      { name: 'podid-builtin-1', namespace: 'kube-system', namespaced: false, podLabels: { 'kubernetes.azure.com/managedby': 'aks' } },
    ]);
  });
  it('reads several, each with several labels; empty is none', () => {
    expect(parseBuiltinExceptions('a:x=1+y=2, b:z=3').map((e) => [e.namespace, e.podLabels])).toEqual([
      ['a', { x: '1', y: '2' }],
      ['b', { z: '3' }],
    ]);
    expect(parseBuiltinExceptions('')).toEqual([]);
  });
  it.each(['kube-system', 'kube-system:app', ':a=b', 'NS:a=b'])('rejects %j', (text) => expect(() => parseBuiltinExceptions(text)).toThrow(/is not/));
});

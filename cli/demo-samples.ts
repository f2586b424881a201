// Sample objects shared by the demo, the HTTP tests and the benchmarks.

import type { Pod } from '../podspec/pod.ts';

export function sampleLabeledPod(name = 'demo-app'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'demo', labels: { app: name, aadpodidbinding: 'demo-reader' } },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'mcr.microsoft.com/azure-cli:latest',
          command: ['sh', '-c', 'az login --identity && az account get-access-token'],
          env: [{ name: 'LOG_LEVEL', value: 'info' }],
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['NET_RAW'] } },
        },
      ],
    },
  };
}

export function admissionReviewFor(object: unknown, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '0df28fbd-5f5f-11e8-bc74-36e6bb280816',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'demo',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
      object,
      dryRun: false,
      ...overrides,
    },
  };
}

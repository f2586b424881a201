// One table of azure-workload-identity inputs: a pod and its ServiceAccount. The unit test
// (webhook/workload-identity-inject.test.ts) states what podid gives each, citing azwi v1.5.1's pkg/webhook/webhook.go;
// the compat suite (test/compat/azwi-oracle.compat.ts) runs azwi's own webhook on each and compares. `differs` names
// where podid deliberately does not do what azwi does.

import type { Pod } from '../podspec/pod.ts';

export const TENANT = '11111111-1111-1111-1111-111111111111';
export const CLIENT = '22222222-2222-2222-2222-222222222222';
export const OTHER_TENANT = '33333333-3333-3333-3333-333333333333';

export interface WiCase {
  name: string;
  pod: Pod;
  /** undefined: the ServiceAccount does not exist. */
  sa?: { name: string; annotations?: Record<string, string> };
  /** Where podid differs from azwi on this input, and why; undefined when the outputs must be the same. */
  differs?: 'proxy' | 'refused-earlier';
}

const USE = { 'azure.workload.identity/use': 'true' };

export function wiPod(
  opts: { annotations?: Record<string, string>; sa?: string; init?: boolean; extra?: Partial<Pod['spec']>; env?: { name: string; value: string }[] } = {},
): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'app', labels: { ...USE }, ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    spec: {
      ...(opts.sa ? { serviceAccountName: opts.sa } : {}),
      ...(opts.init ? { initContainers: [{ name: 'migrate', image: 'migrate' }] } : {}),
      containers: [
        { name: 'app', image: 'app', ...(opts.env ? { env: opts.env } : {}) },
        { name: 'logger', image: 'logger' },
      ],
      ...opts.extra,
    },
  };
}

const sa = (annotations: Record<string, string> = {}, name = 'default') => ({ name, annotations });
const withClient = (extra: Record<string, string> = {}) => sa({ 'azure.workload.identity/client-id': CLIENT, ...extra });

export const WI_CASES: WiCase[] = [
  { name: 'default ServiceAccount with a client ID', pod: wiPod(), sa: withClient() },
  { name: 'named ServiceAccount', pod: wiPod({ sa: 'api' }), sa: { ...withClient(), name: 'api' } },
  { name: 'tenant from the ServiceAccount', pod: wiPod(), sa: withClient({ 'azure.workload.identity/tenant-id': OTHER_TENANT }) },
  { name: 'empty tenant annotation: no AZURE_TENANT_ID', pod: wiPod(), sa: withClient({ 'azure.workload.identity/tenant-id': '' }) },
  { name: 'no client ID: no AZURE_CLIENT_ID', pod: wiPod(), sa: sa() },
  { name: 'init containers get it too', pod: wiPod({ init: true }), sa: withClient() },
  {
    name: 'skip-containers, ;-separated with spaces',
    pod: wiPod({ init: true, annotations: { 'azure.workload.identity/skip-containers': 'logger; migrate' } }),
    sa: withClient(),
  },
  {
    name: 'variables the container sets are kept',
    pod: wiPod({
      env: [
        { name: 'AZURE_CLIENT_ID', value: 'mine' },
        { name: 'AZURE_AUTHORITY_HOST', value: 'https://login.example/' },
      ],
    }),
    sa: withClient(),
  },
  { name: 'expiration from the pod', pod: wiPod({ annotations: { 'azure.workload.identity/service-account-token-expiration': '7200' } }), sa: withClient() },
  { name: 'expiration from the ServiceAccount', pod: wiPod(), sa: withClient({ 'azure.workload.identity/service-account-token-expiration': '86400' }) },
  {
    name: "the pod's expiration wins over the ServiceAccount's",
    pod: wiPod({ annotations: { 'azure.workload.identity/service-account-token-expiration': '4000' } }),
    sa: withClient({ 'azure.workload.identity/service-account-token-expiration': '4800' }),
  },
  {
    name: 'expiration below 3600 is refused',
    pod: wiPod({ annotations: { 'azure.workload.identity/service-account-token-expiration': '3599' } }),
    sa: withClient(),
  },
  { name: 'expiration above 86400 is refused', pod: wiPod(), sa: withClient({ 'azure.workload.identity/service-account-token-expiration': '86401' }) },
  {
    name: 'expiration with a unit is refused',
    pod: wiPod({ annotations: { 'azure.workload.identity/service-account-token-expiration': '3600s' } }),
    sa: withClient(),
  },
  { name: 'a missing ServiceAccount is refused', pod: wiPod({ sa: 'absent' }) },
  {
    name: 'an existing token volume and mount are kept',
    pod: wiPod({
      extra: {
        volumes: [
          {
            name: 'azure-identity-token',
            projected: {
              sources: [{ serviceAccountToken: { path: 'azure-identity-token', audience: 'api://AzureADTokenExchange', expirationSeconds: 3600 } }],
            },
          },
        ],
        containers: [
          { name: 'app', image: 'app', volumeMounts: [{ name: 'azure-identity-token', mountPath: '/var/run/secrets/azure/tokens', readOnly: true }] },
        ],
      },
    }),
    sa: withClient(),
  },
  { name: 'proxy sidecar', pod: wiPod({ annotations: { 'azure.workload.identity/inject-proxy-sidecar': 'true' } }), sa: withClient(), differs: 'proxy' },
  {
    name: 'proxy sidecar on another port',
    pod: wiPod({ annotations: { 'azure.workload.identity/inject-proxy-sidecar': 'true', 'azure.workload.identity/proxy-sidecar-port': '9000' } }),
    sa: withClient(),
    differs: 'proxy',
  },
  {
    name: 'proxy on a hostNetwork pod is refused',
    pod: wiPod({ annotations: { 'azure.workload.identity/inject-proxy-sidecar': 'true' }, extra: { hostNetwork: true } }),
    sa: withClient(),
  },
  {
    name: 'a proxy port that is not a number is refused',
    pod: wiPod({ annotations: { 'azure.workload.identity/inject-proxy-sidecar': 'true', 'azure.workload.identity/proxy-sidecar-port': 'http' } }),
    sa: withClient(),
  },
  {
    name: 'a proxy port out of range is refused before the apiserver sees it',
    pod: wiPod({ annotations: { 'azure.workload.identity/inject-proxy-sidecar': 'true', 'azure.workload.identity/proxy-sidecar-port': '70000' } }),
    sa: withClient(),
    differs: 'refused-earlier',
  },
];

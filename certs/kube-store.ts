// CertStore on a real cluster, with podid's KubeClient (the webhook runs it in its pod; no client-node to load).

import { statusOf, type KubeClient } from '../common/kube-client.ts';
import type { CertStore } from './reconcile.ts';
import type { SecretLike } from './secret-codec.ts';

export interface KubeStoreOptions {
  namespace: string;
  secretName: string;
  mutatingConfig: string;
  validatingConfig: string;
}

async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

interface HookConfig {
  webhooks?: { clientConfig: { caBundle?: string } }[];
}

function bundlePatch(config: HookConfig | undefined, caBundle: string): object[] {
  return (config?.webhooks ?? []).flatMap((hook, i) =>
    hook.clientConfig.caBundle === caBundle ? [] : [{ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundle }],
  );
}

export function kubeCertStore(kube: KubeClient, opts: KubeStoreOptions): CertStore {
  const secrets = `/api/v1/namespaces/${opts.namespace}/secrets`;
  const hooks = (kind: 'mutating' | 'validating', name: string) => `/apis/admissionregistration.k8s.io/v1/${kind}webhookconfigurations/${name}`;
  const publish = async (kind: 'mutating' | 'validating', name: string, caBundle: string) => {
    const patch = bundlePatch(await orUndefined(kube.request<HookConfig>('GET', hooks(kind, name))), caBundle);
    if (patch.length) await kube.request('PATCH', hooks(kind, name), { body: patch, contentType: 'application/json-patch+json' });
    return patch.length > 0;
  };
  return {
    readSecret: () => orUndefined(kube.request<SecretLike>('GET', `${secrets}/${opts.secretName}`)),
    async writeSecret(secret) {
      try {
        const body = { apiVersion: 'v1', kind: 'Secret', ...secret };
        const written = secret.metadata?.resourceVersion
          ? await kube.request<SecretLike>('PUT', `${secrets}/${opts.secretName}`, { body })
          : await kube.request<SecretLike>('POST', secrets, { body });
        return written.metadata?.resourceVersion ?? '';
      } catch (err) {
        if (statusOf(err) === 409) return undefined;
        throw err;
      }
    },
    async publishBundle(bundlePem) {
      const caBundle = Buffer.from(bundlePem).toString('base64');
      const mutating = await publish('mutating', opts.mutatingConfig, caBundle);
      const validating = await publish('validating', opts.validatingConfig, caBundle);
      return mutating || validating;
    },
  };
}

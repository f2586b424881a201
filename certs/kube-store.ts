// CertStore on a real cluster with @kubernetes/client-node.

import { AdmissionregistrationV1Api, ApiException, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Secret } from '@kubernetes/client-node';
import type { CertStore } from './reconcile.ts';
import type { SecretLike } from './secret-codec.ts';

export interface KubeStoreOptions {
  namespace: string;
  secretName: string;
  mutatingConfig: string;
  validatingConfig: string;
}

const status = (err: unknown): number | undefined => (err instanceof ApiException ? err.code : undefined);

async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (status(err) === 404) return undefined;
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

export function kubeConfigFromEnvironment(kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  return kc;
}

export function kubeCertStore(kc: KubeConfig, opts: KubeStoreOptions): CertStore {
  const core = kc.makeApiClient(CoreV1Api);
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
  return {
    readSecret: () => orUndefined(core.readNamespacedSecret({ name: opts.secretName, namespace: opts.namespace })) as Promise<SecretLike | undefined>,
    async writeSecret(secret) {
      try {
        const written = secret.metadata?.resourceVersion
          ? await core.replaceNamespacedSecret({ name: opts.secretName, namespace: opts.namespace, body: secret as V1Secret })
          : await core.createNamespacedSecret({ namespace: opts.namespace, body: secret as V1Secret });
        return written.metadata?.resourceVersion ?? '';
      } catch (err) {
        if (status(err) === 409) return undefined;
        throw err;
      }
    },
    async publishBundle(bundlePem) {
      const caBundle = Buffer.from(bundlePem).toString('base64');
      let changed = false;
      const mutating = await orUndefined(admission.readMutatingWebhookConfiguration({ name: opts.mutatingConfig }));
      const mPatch = bundlePatch(mutating as HookConfig | undefined, caBundle);
      if (mPatch.length) {
        await admission.patchMutatingWebhookConfiguration({ name: opts.mutatingConfig, body: mPatch }, jsonPatch);
        changed = true;
      }
      const validating = await orUndefined(admission.readValidatingWebhookConfiguration({ name: opts.validatingConfig }));
      const vPatch = bundlePatch(validating as HookConfig | undefined, caBundle);
      if (vPatch.length) {
        await admission.patchValidatingWebhookConfiguration({ name: opts.validatingConfig, body: vPatch }, jsonPatch);
        changed = true;
      }
      return changed;
    },
  };
}

// One pass of certificate management against the cluster: read the Secret, publish its CA bundle into
// podid's webhook configurations, plan, store, publish again, and write the serving pair to local files.
// Safe with several replicas: the Secret is written with its resourceVersion (compare-and-swap), a loser
// re-reads the winner's certificates, and publishing the same bundle twice is a no-op.

import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../common/log.ts';
import { planCerts, type CertSettings, type CertState } from './plan.ts';
import { secretFromState, stateFromSecret, type SecretLike } from './secret-codec.ts';

/** The cluster operations reconciling needs (kube-store.ts implements them with podid's KubeClient). */
export interface CertStore {
  readSecret(): Promise<SecretLike | undefined>;
  /** Creates (no resourceVersion) or replaces; resolves the new resourceVersion, or undefined on a conflict. */
  writeSecret(secret: SecretLike): Promise<string | undefined>;
  /** Sets caBundle on every webhook of the named configurations that exist; resolves true if anything changed. */
  publishBundle(bundlePem: string): Promise<boolean>;
}

export interface ReconcileResult {
  state: CertState;
  reasons: string[];
  conflict: boolean;
}

export interface ReconcileOptions {
  secretName: string;
  namespace: string;
  settings: CertSettings;
  /** Where to write tls.crt and tls.key for the local webhook (optional). */
  writeDir?: string;
  now?: () => Date;
}

async function writeAtomically(path: string, content: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, content, { mode });
  await rename(tmp, path);
}

export async function writeServingFiles(dir: string, state: CertState): Promise<void> {
  if (!state.serving) return;
  // Key first: the watcher ignores a mismatched pair until the certificate follows.
  await writeAtomically(join(dir, 'tls.key'), state.serving.keyPem, 0o600);
  await writeAtomically(join(dir, 'tls.crt'), state.serving.certPem, 0o644);
  await writeAtomically(join(dir, 'ca.crt'), state.bundle.join(''), 0o644);
}

export async function reconcileCerts(store: CertStore, opts: ReconcileOptions, logger: Logger): Promise<ReconcileResult> {
  const now = opts.now ?? (() => new Date());
  const existing = await store.readSecret();
  let resourceVersion = existing?.metadata?.resourceVersion;
  const save = async (s: CertState) => {
    resourceVersion = await store.writeSecret(secretFromState(opts.secretName, opts.namespace, s, resourceVersion));
    return resourceVersion !== undefined;
  };
  const publish = async (s: CertState): Promise<CertState> =>
    s.bundle.length && (await store.publishBundle(s.bundle.join(''))) ? { ...s, bundlePublishedAt: now() } : s;
  const finish = async (state: CertState, reasons: string[], conflict: boolean): Promise<ReconcileResult> => {
    if (reasons.length) logger.info({ secret: `${opts.namespace}/${opts.secretName}`, reasons }, 'certificates reconciled');
    if (opts.writeDir) await writeServingFiles(opts.writeDir, state);
    return { state, reasons, conflict };
  };
  const lostRace = async () => finish(stateFromSecret(await store.readSecret()), ['another replica wrote first; using its certificates'], true);

  // The stored bundle first: a serving certificate from a new CA is only ever stored after this succeeded.
  let state = stateFromSecret(existing);
  const published = await publish(state);
  if (published !== state && !(await save(published))) return lostRace();
  state = published;

  const plan = planCerts(state, now(), opts.settings);
  if (plan.changed) {
    if (!(await save(plan.state))) return lostRace();
    state = plan.state;
    const republished = await publish(state);
    if (republished !== state && (await save(republished))) state = republished;
  }
  return finish(state, plan.reasons, false);
}
